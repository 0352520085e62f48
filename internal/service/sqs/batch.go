package sqs

import (
	"errors"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Batch limits.
const (
	maxBatchEntries = 10
	maxBatchEntryID = 80
)

// checkBatch applies SQS's rules to the ids of a batch's entries: one to ten entries, each id
// 1 to 80 alphanumerics, hyphens and underscores, no id twice. entry names the entry type in
// the empty-batch message.
func checkBatch(entry string, ids []string) error {
	switch {
	case len(ids) == 0:
		return emptyBatch(entry)
	case len(ids) > maxBatchEntries:
		return tooManyEntries(len(ids))
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !validBatchEntryID(id) {
			return invalidBatchEntryID()
		}
		if seen[id] {
			return idsNotDistinct(id)
		}
		seen[id] = true
	}
	return nil
}

func validBatchEntryID(id string) bool {
	if id == "" || len(id) > maxBatchEntryID {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !isNameByte(id[i]) {
			return false
		}
	}
	return true
}

// batchError is the BatchResultErrorEntry of an entry that failed with err.
func batchError(id string, err error) BatchResultErrorEntry {
	var ae *awsproto.Error
	if !errors.As(err, &ae) {
		ae = awsproto.Errorf("InternalError", 500, "We encountered an internal error. Please try again.")
	}
	return BatchResultErrorEntry{
		Id:          awsproto.Ptr(id),
		Code:        awsproto.Ptr(ae.Code),
		Message:     awsproto.Ptr(ae.Message),
		SenderFault: awsproto.Ptr(ae.Status < 500),
	}
}
