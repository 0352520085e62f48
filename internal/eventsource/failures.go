package eventsource

import (
	"bytes"
	"encoding/json"
)

// BatchItemFailures reads a function's partial batch response: the ids of the records that
// failed; ok is false when the response fails the whole batch. As Lambda documents
// ("Handling errors for an SQS event source"), an empty or null response or batchItemFailures
// list is a complete success; a response that is not JSON, or an item whose itemIdentifier is
// missing (a bad key name), null, empty or not a message of the batch, is a complete failure.
func BatchItemFailures(payload []byte, ids map[string]bool) (failed map[string]bool, ok bool) {
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
