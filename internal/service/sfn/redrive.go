package sfn

import (
	"encoding/json"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/store"
)

// redrive restarts a failed, aborted or timed-out Standard execution from the top-level
// state it ended in, with that state's input and the variables it saw, after an
// ExecutionRedriven event. A Parallel or Map state it ended in runs again whole.
func (s *Service) redrive(tx *store.Tx, l *live) error {
	now := s.now().UTC()
	ex, run := l.ex, l.run
	ex.RedriveCount++
	ex.RedriveDate, ex.Stopped = &now, nil
	ex.Status, ex.Output, ex.Error, ex.Cause = statusRunning, nil, nil, nil
	details, _ := json.Marshal(map[string]int32{"redriveCount": ex.RedriveCount})
	e := historyEvent{ID: run.LastID + 1, Previous: run.LastID, Type: "ExecutionRedriven", Time: now,
		DetailsKey: "executionRedrivenEventDetails", Details: details}
	if _, err := tx.Exec(`INSERT INTO sfn_events (execution, id, body) VALUES (?, ?, ?)`, ex.ARN, e.ID, encode(e)); err != nil {
		return err
	}
	root := run.Root
	run.LastID = e.ID
	run.Phase, run.Finished, run.Output, run.Error, run.Cause = asl.StatusRunning, false, nil, nil, nil
	run.Context.RedriveCount = int(ex.RedriveCount)
	run.Root = &asl.Frame{Block: root.Block, Index: root.Index, State: root.State, Step: "enter", Input: root.Input,
		Vars: root.Vars, Last: e.ID, EnteredAt: now}
	if secs := timeoutSeconds(ex.Definition); secs > 0 {
		if err := s.sendTimer(tx, effectMsg{Execution: ex.ARN, Kind: timerExecution, Seq: int(ex.RedriveCount)},
			now.Add(time.Duration(secs)*time.Second)); err != nil {
			return err
		}
	}
	return s.advance(tx, l)
}
