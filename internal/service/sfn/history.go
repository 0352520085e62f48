package sfn

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
)

// historyEvent is one stored history event: its type, ids and time, and its details member
// (stateEnteredEventDetails, ...) as GetExecutionHistory shows it.
type historyEvent struct {
	ID         int64           `json:"id"`
	Previous   int64           `json:"previous"`
	Type       string          `json:"type"`
	Time       time.Time       `json:"time"`
	DetailsKey string          `json:"key,omitempty"`
	Details    json.RawMessage `json:"details,omitempty"`
}

// fromASL is an interpreter's event as stored.
func fromASL(e asl.Event) historyEvent {
	h := historyEvent{ID: e.ID, Previous: e.PreviousEventID, Type: e.Type, Time: e.Timestamp}
	b, _ := json.Marshal(e)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	for k, v := range m {
		if strings.HasSuffix(k, "EventDetails") {
			h.DetailsKey, h.Details = k, v
		}
	}
	return h
}

// wire is the event as GetExecutionHistory answers it; without data, its inputs and outputs
// are left out.
func (e historyEvent) wire(withData bool) (HistoryEvent, error) {
	out := HistoryEvent{Id: &e.ID, PreviousEventId: &e.Previous, Type: &e.Type, Timestamp: &e.Time}
	if e.DetailsKey == "" {
		return out, nil
	}
	details := e.Details
	if !withData {
		details = withoutData(details)
	}
	b, err := json.Marshal(map[string]json.RawMessage{e.DetailsKey: details})
	if err != nil {
		return out, err
	}
	// The generated shapes' fields are the wire names capitalized: encoding/json matches them.
	return out, json.Unmarshal(b, &out)
}
