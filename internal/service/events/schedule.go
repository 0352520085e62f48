package events

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/schedule"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// scheduleQueue holds one timer message per enabled scheduled rule, due at its next fire.
const scheduleQueue = "events.schedule"

// checkSchedule refuses a ScheduleExpression EventBridge refuses.
func checkSchedule(expr string) error {
	if _, err := schedule.Parse(expr); err != nil {
		return validation("%s", err.Error())
	}
	return nil
}

// fireTimer is the body of a scheduled rule's timer.
type fireTimer struct {
	Rule  int64  `json:"r"`
	Token string `json:"k"`
	At    int64  `json:"t"` // the fire's scheduled time
}

// scheduleRule gives an enabled scheduled rule the timer of its next fire from now, retiring
// any earlier timer; a disabled or pattern rule gets none.
func (s *Service) scheduleRule(tx *store.Tx, r *ruleRow) error {
	token := ""
	if r.Schedule != "" && r.enabled() {
		sch, err := schedule.Parse(r.Schedule)
		if err != nil {
			return validation("%s", err.Error())
		}
		if next := sch.Next(s.now()); !next.IsZero() {
			token = newTimerToken()
			if err := s.sendTimer(tx, r.ID, token, next); err != nil {
				return err
			}
		}
	}
	_, err := tx.Exec("UPDATE events_rules SET timer = ? WHERE id = ?", token, r.ID)
	return err
}

func newTimerToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) sendTimer(tx *store.Tx, rule int64, token string, at time.Time) error {
	body, err := json.Marshal(fireTimer{Rule: rule, Token: token, At: at.UnixNano()})
	if err != nil {
		return err
	}
	_, err = s.eng.Send(tx, scheduleQueue, queue.Outgoing{Body: body, At: at})
	return err
}

// fire handles a due timer: in one transaction it hands the rule's Scheduled Event to the
// target registry for each of its targets and sends the timer of the next fire. A fire missed
// while Kiri was down is delivered once; the rule then goes on from now.
func (s *Service) fire(ctx context.Context, m queue.Message) error {
	var t fireTimer
	if err := json.Unmarshal(m.Body, &t); err != nil {
		return queue.Permanent(fmt.Errorf("decode rule timer: %w", err))
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		var token string
		r, err := scanRule(tx.QueryRow("SELECT "+ruleColumns+", r.timer"+ruleFrom+"WHERE r.id = ?", t.Rule), &token)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // deleted since this timer was sent
		}
		if err != nil {
			return fmt.Errorf("load scheduled rule %d: %w", t.Rule, err)
		}
		if !r.enabled() || r.Schedule == "" || token != t.Token {
			return nil // disabled or changed since this timer was sent
		}
		at := time.Unix(0, t.At).UTC()
		if err := s.enqueueScheduled(tx, r, at); err != nil {
			return err
		}
		sch, err := schedule.Parse(r.Schedule)
		if err != nil {
			return queue.Permanent(err)
		}
		next := sch.Next(at)
		if now := s.now(); !next.IsZero() && next.Before(now) {
			next = sch.Next(now)
		}
		token = ""
		if !next.IsZero() {
			token = newTimerToken()
			if err := s.sendTimer(tx, r.ID, token, next); err != nil {
				return err
			}
		}
		_, err = tx.Exec("UPDATE events_rules SET timer = ? WHERE id = ?", token, r.ID)
		return err
	})
}

// enqueueScheduled hands the rule's Scheduled Event for the fire at at to each of its targets.
func (s *Service) enqueueScheduled(tx *store.Tx, r *ruleRow, at time.Time) error {
	targets, err := loadTargets(tx, r.ID, "", maxTargets+1)
	if err != nil || len(targets) == 0 {
		return err
	}
	id := uuid.New()
	ev := ingested{bus: r.Bus, id: id, at: s.now(), event: scheduledEvent(id, r, at)}
	rt := &route{arn: r.arn(), name: r.Name}
	var decoded any
	for _, spec := range targets {
		t, err := compileTarget(spec, rt.arn)
		if err != nil {
			s.log.Warn("target no longer compiles; nothing is delivered to it", "rule", rt.arn, "error", err)
			continue
		}
		if decoded == nil && (t.path != nil || t.tf != nil) {
			if decoded, err = decodeEvent(ev.event); err != nil {
				return err
			}
		}
		if err := s.targets.Enqueue(tx, t.delivery(context.Background(), rt, ev, decoded), t.policy); err != nil {
			return err
		}
	}
	return nil
}

// scheduledEvent is the event a scheduled rule sends its targets.
func scheduledEvent(id string, r *ruleRow, at time.Time) []byte {
	return fmt.Appendf(nil, `{"version":"0","id":%s,"detail-type":"Scheduled Event","source":"aws.events","account":%s,"time":%s,"region":%s,"resources":[%s],"detail":{}}`,
		marshal(id), marshal(r.Bus.Account), marshal(at.UTC().Format(eventTimeLayout)), marshal(r.Bus.Region), marshal(r.arn()))
}
