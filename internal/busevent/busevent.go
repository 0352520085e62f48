// Package busevent builds the events that services put on EventBridge buses through the target
// registry: the envelope every bus routes ({"version":"0","id",...,"detail"}), which the
// events service's delivery Kind takes as a delivery's payload.
package busevent

import (
	"encoding/json"
	"time"
)

// TimeLayout is how an event's time is written.
const TimeLayout = "2006-01-02T15:04:05Z"

// Event is an event as a bus routes it, members in AWS's order.
type Event struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
}

// Encode returns the envelope of an event with detail: detail itself when it is a JSON value,
// else detail as a JSON string.
func Encode(id, detailType, source, account, region string, at time.Time, resources []string, detail []byte) []byte {
	if resources == nil {
		resources = []string{}
	}
	raw := json.RawMessage(detail)
	if !json.Valid(detail) {
		raw, _ = json.Marshal(string(detail))
	}
	b, _ := json.Marshal(Event{Version: "0", ID: id, DetailType: detailType, Source: source, Account: account,
		Time: at.UTC().Format(TimeLayout), Region: region, Resources: resources, Detail: raw})
	return b
}
