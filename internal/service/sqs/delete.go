package sqs

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
)

// leaseOp is one entry of a delete or visibility change: its receipt, checked.
type leaseOp struct {
	handle  string
	receipt queue.Receipt
	err     error // the entry's failure, before or after the engine call
}

// leaseOps decodes receipt handles for q; a handle of another queue is invalid.
func leaseOps(q *queueRow, handles []string) []leaseOp {
	ops := make([]leaseOp, len(handles))
	for i, h := range handles {
		ops[i].handle = h
		qid, r, ok := decodeReceipt(h)
		if !ok || qid != q.ID {
			ops[i].err = receiptHandleInvalid(h)
			continue
		}
		ops[i].receipt = r
	}
	return ops
}

// receipts are the receipts of the entries that have not failed, with their indexes.
func receipts(ops []leaseOp) ([]queue.Receipt, []int) {
	rs := make([]queue.Receipt, 0, len(ops))
	idx := make([]int, 0, len(ops))
	for i, op := range ops {
		if op.err == nil {
			rs = append(rs, op.receipt)
			idx = append(idx, i)
		}
	}
	return rs, idx
}

// deleteAll deletes the messages of the entries: on a standard queue any receipt no receive has
// replaced deletes its message, and a stale one succeeds without effect; a FIFO queue refuses a
// receipt whose lease lapsed.
func (s *Service) deleteAll(ctx context.Context, q *queueRow, ops []leaseOp) error {
	rs, idx := receipts(ops)
	if len(rs) == 0 {
		return nil
	}
	if !q.S.Fifo {
		_, err := s.eng.DeleteBatch(ctx, q.Engine, rs)
		return err
	}
	errs, err := s.eng.DeleteBatchHeld(ctx, q.Engine, rs)
	if err != nil {
		return err
	}
	for j, e := range errs {
		if e != nil && !errors.Is(e, queue.ErrNoMessage) {
			ops[idx[j]].err = invalidValue("ReceiptHandle", ops[idx[j]].handle, "The receipt handle has expired.")
		}
	}
	return nil
}

// changeAll changes the visibility of the entries' messages: on a standard queue a receipt
// whose lease lapsed still works while no receive has replaced it; a FIFO queue needs the
// lease held.
func (s *Service) changeAll(ctx context.Context, q *queueRow, ops []leaseOp, timeouts []time.Duration) error {
	rs, idx := receipts(ops)
	if len(rs) == 0 {
		return nil
	}
	ds := make([]time.Duration, len(idx))
	for j, i := range idx {
		ds[j] = timeouts[i]
	}
	change := s.eng.RenewBatch
	if q.S.Fifo {
		change = s.eng.ChangeVisibilityBatch
	}
	errs, err := change(ctx, q.Engine, rs, ds)
	if err != nil {
		return err
	}
	for j, e := range errs {
		op := &ops[idx[j]]
		switch {
		case errors.Is(e, queue.ErrNoMessage):
			op.err = invalidValue("ReceiptHandle", op.handle, "Message does not exist or is not available for visibility timeout change.")
		case e != nil:
			op.err = awsproto.Errorf("MessageNotInflight", 400, "The message referred to isn't in flight.")
		}
	}
	return nil
}

// visibilityTimeout checks a ChangeMessageVisibility timeout.
func visibilityTimeout(v *int32) (time.Duration, error) {
	if v == nil {
		return 0, missingParameter("VisibilityTimeout")
	}
	if *v < 0 || *v > maxVisibility {
		return 0, invalidValue("VisibilityTimeout", strconv.Itoa(int(*v)), "Must be >= 0 and <= 43200, if provided.")
	}
	return time.Duration(*v) * time.Second, nil
}

func (s *Service) deleteMessage(ctx context.Context, in *DeleteMessageRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ops := leaseOps(q, []string{awsproto.Value(in.ReceiptHandle)})
	if err := s.deleteAll(ctx, q, ops); err != nil {
		return nil, err
	}
	return nil, ops[0].err
}

func (s *Service) deleteMessageBatch(ctx context.Context, in *DeleteMessageBatchRequest) (*DeleteMessageBatchResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	handles := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i], handles[i] = awsproto.Value(e.Id), awsproto.Value(e.ReceiptHandle)
	}
	if err := checkBatch("DeleteMessageBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	ops := leaseOps(q, handles)
	if err := s.deleteAll(ctx, q, ops); err != nil {
		return nil, err
	}
	out := &DeleteMessageBatchResult{Successful: []DeleteMessageBatchResultEntry{}, Failed: []BatchResultErrorEntry{}}
	for i, op := range ops {
		if op.err != nil {
			out.Failed = append(out.Failed, batchError(ids[i], op.err))
			continue
		}
		out.Successful = append(out.Successful, DeleteMessageBatchResultEntry{Id: awsproto.Ptr(ids[i])})
	}
	return out, nil
}

func (s *Service) changeMessageVisibility(ctx context.Context, in *ChangeMessageVisibilityRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	d, err := visibilityTimeout(in.VisibilityTimeout)
	if err != nil {
		return nil, err
	}
	ops := leaseOps(q, []string{awsproto.Value(in.ReceiptHandle)})
	if err := s.changeAll(ctx, q, ops, []time.Duration{d}); err != nil {
		return nil, err
	}
	return nil, ops[0].err
}

func (s *Service) changeMessageVisibilityBatch(ctx context.Context, in *ChangeMessageVisibilityBatchRequest) (*ChangeMessageVisibilityBatchResult, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(in.Entries))
	handles := make([]string, len(in.Entries))
	timeouts := make([]time.Duration, len(in.Entries))
	for i, e := range in.Entries {
		ids[i], handles[i] = awsproto.Value(e.Id), awsproto.Value(e.ReceiptHandle)
	}
	if err := checkBatch("ChangeMessageVisibilityBatchRequestEntry", ids); err != nil {
		return nil, err
	}
	ops := leaseOps(q, handles)
	for i, e := range in.Entries {
		if ops[i].err != nil {
			continue
		}
		v := e.VisibilityTimeout
		if v == nil {
			v = awsproto.Ptr(int32(0))
		}
		timeouts[i], ops[i].err = visibilityTimeout(v)
	}
	if err := s.changeAll(ctx, q, ops, timeouts); err != nil {
		return nil, err
	}
	out := &ChangeMessageVisibilityBatchResult{Successful: []ChangeMessageVisibilityBatchResultEntry{}, Failed: []BatchResultErrorEntry{}}
	for i, op := range ops {
		if op.err != nil {
			out.Failed = append(out.Failed, batchError(ids[i], op.err))
			continue
		}
		out.Successful = append(out.Successful, ChangeMessageVisibilityBatchResultEntry{Id: awsproto.Ptr(ids[i])})
	}
	return out, nil
}
