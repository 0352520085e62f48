package lambda

import (
	"github.com/kiri-run/kiri/internal/eventsource"
)

// polledRecord is a received message and its record's JSON.
type polledRecord struct {
	id, receipt string
	json        []byte
}

// sqsRecordOf turns a received message into its record for the queue queueARN in region.
func sqsRecordOf(raw []byte, queueARN, region string) (polledRecord, error) {
	r, err := eventsource.SQS(raw, queueARN, region)
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
