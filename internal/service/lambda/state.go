package lambda

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// topicState queues the messages that finish a function's creation or update: Pending becomes
// Active and an InProgress update becomes Successful. Being queued in the change's transaction,
// they survive a restart between the change and its completion.
const topicState = "lambda.state"

type stateRecord struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Name    string `json:"name"`
}

// enqueueSettle schedules the state transition in the transaction that starts it.
func (s *Service) enqueueSettle(tx *store.Tx, r funcRef) error {
	payload, err := json.Marshal(stateRecord{r.account, r.region, r.name})
	if err != nil {
		return err
	}
	_, err = s.deps.Queue.Send(tx, topicState, queue.Outgoing{Group: poolPrefix(r.account, r.region, r.name), Body: payload})
	return err
}

func (s *Service) settleState(ctx context.Context, rec queue.Message) error {
	var sr stateRecord
	if err := json.Unmarshal(rec.Body, &sr); err != nil {
		return queue.Permanent(fmt.Errorf("decode state record: %w", err))
	}
	r := funcRef{account: sr.Account, region: sr.Region, name: sr.Name}
	s.prepareCode(ctx, r)
	return s.write(ctx, func(tx *store.Tx) error {
		c, ok, err := loadVersion(tx, r, latest)
		if err != nil || !ok {
			return err // a function deleted meanwhile has nothing to settle
		}
		changed := false
		if c.State == statePending {
			c.State, c.StateReason, c.StateReasonCode = stateActive, "", ""
			changed = true
		}
		if c.LastUpdateStatus != updateSuccessful {
			c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = updateSuccessful, "", ""
			changed = true
		}
		if !changed {
			return nil
		}
		return saveVersion(tx, r, c)
	})
}

// prepareCode readies $LATEST's code while the function is still Pending or its update
// InProgress, as Lambda does, so that its first invoke does not pay for unpacking the zip; and
// has the runtime prepare for the cold start to come. A failure here is only logged: the first
// invoke unpacks again and reports it.
func (s *Service) prepareCode(ctx context.Context, r funcRef) {
	c, ok, err := loadVersion(s.reader(ctx), r, latest)
	if err != nil || !ok {
		return
	}
	if _, err := s.codeDir(ctx, c.CodeSha); err != nil {
		s.log.Warn("unpack function code", "function", r.unqualifiedARN(), "err", err)
	}
	s.warm()
}
