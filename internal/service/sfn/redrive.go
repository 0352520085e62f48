package sfn

import (
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// redrive restarts a failed, aborted or timed-out Standard execution where it stopped (the
// interpreter's Run.Redrive: the states that failed run again, in Map and Parallel only the
// children that failed), restarting its TimeoutSeconds.
func (s *Service) redrive(tx *store.Tx, l *live) error {
	if err := l.run.Redrive(); err != nil {
		return apiError("ExecutionNotRedrivable", "%s", err.Error())
	}
	now := s.now().UTC()
	ex := l.ex
	ex.RedriveCount++
	ex.RedriveDate, ex.Stopped = &now, nil
	ex.Status, ex.Output, ex.Error, ex.Cause = statusRunning, nil, nil, nil
	if secs := timeoutSeconds(ex.Definition); secs > 0 {
		if err := s.sendTimer(tx, effectMsg{Execution: ex.ARN, Kind: timerExecution, Seq: int(ex.RedriveCount)},
			now.Add(time.Duration(secs)*time.Second)); err != nil {
			return err
		}
	}
	return s.advance(tx, l)
}
