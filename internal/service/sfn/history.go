package sfn

import (
	"encoding/json"
	"time"
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
