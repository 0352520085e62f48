package lambda

import (
	"bytes"
	"encoding/json"

	"github.com/kiri-run/kiri/internal/sourcerecord"
)

// polledRecord is a received message and its record's JSON.
type polledRecord struct {
	id, receipt string
	json        []byte
}

// sqsRecordOf turns a received message into its record for the queue queueARN in region.
func sqsRecordOf(raw []byte, queueARN, region string) (polledRecord, error) {
	r, err := sourcerecord.SQS(raw, queueARN, region)
	return polledRecord{id: r.ID, receipt: r.Receipt, json: r.JSON}, err
}

// recordsEvent is the event of a batch: {"Records":[...]}.
func recordsEvent(recs []polledRecord) []byte {
	n := len(`{"Records":[]}`)
	for _, r := range recs {
		n += len(r.json) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"Records":[`...)
	for i, r := range recs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.json...)
	}
	return append(b, "]}"...)
}

// eventChunks splits a batch into events that each fit Invoke's synchronous payload limit.
func eventChunks(recs []polledRecord, limit int) [][]polledRecord {
	var out [][]polledRecord
	start, size := 0, len(`{"Records":[]}`)
	for i, r := range recs {
		if i > start && size+len(r.json)+1 > limit {
			out = append(out, recs[start:i])
			start, size = i, len(`{"Records":[]}`)
		}
		size += len(r.json) + 1
	}
	if start < len(recs) {
		out = append(out, recs[start:])
	}
	return out
}

// batchItemFailures reads a function's partial batch response: the ids of the records that
// failed; ok is false when the response fails the whole batch. As Lambda documents
// ("Handling errors for an SQS event source"), an empty or null response or batchItemFailures
// list is a complete success; a response that is not JSON, or an item whose itemIdentifier is
// missing (a bad key name), null, empty or not a message of the batch, is a complete failure.
func batchItemFailures(payload []byte, ids map[string]bool) (failed map[string]bool, ok bool) {
	payload = bytes.TrimSpace(payload)
	if len(payload) == 0 || string(payload) == "null" {
		return nil, true
	}
	var resp map[string]json.RawMessage
	if err := json.Unmarshal(payload, &resp); err != nil {
		return nil, false
	}
	list := bytes.TrimSpace(resp["batchItemFailures"])
	if len(list) == 0 || string(list) == "null" {
		return nil, true
	}
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(list, &items); err != nil {
		return nil, false
	}
	failed = make(map[string]bool, len(items))
	for _, it := range items {
		var id *string
		if raw, ok := it["itemIdentifier"]; !ok || json.Unmarshal(raw, &id) != nil || id == nil || *id == "" || !ids[*id] {
			return nil, false
		}
		failed[*id] = true
	}
	return failed, true
}
