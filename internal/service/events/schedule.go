package events

import (
	"github.com/kiri-run/kiri/internal/store"
)

// checkSchedule refuses a ScheduleExpression: scheduled rules wait for the shared rate and
// cron parser, and until then are refused rather than accepted and never fired.
func checkSchedule(expr string) error {
	return validation("Parameter ScheduleExpression is not valid: scheduled rules are not supported by Kiri yet.")
}

// scheduleRule keeps the rule's next fire on the engine's timers.
func (s *Service) scheduleRule(tx *store.Tx, r *ruleRow) error { return nil }
