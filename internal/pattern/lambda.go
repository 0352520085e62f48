package pattern

import (
	"encoding/base64"
	"strconv"
)

// MaxFilters is how many filters an event source mapping's FilterCriteria may hold: Lambda's
// default quota (AWS Lambda Developer Guide, "Lambda event filtering").
const MaxFilters = 5

// FilterCriteria is the compiled FilterCriteria of a Lambda event source mapping: a record
// passes when any of its filters matches, and every record passes when there are none.
type FilterCriteria struct {
	patterns []*Pattern
}

// CompileFilterCriteria compiles the Pattern of each filter of a FilterCriteria. Lambda
// reads each pattern as an EventBridge event pattern. A pattern Lambda refuses yields an
// *Error with code InvalidParameterValueException and Lambda's message "Invalid filter
// pattern definition."; more than MaxFilters filters are refused with the same code.
func CompileFilterCriteria(patterns []string) (*FilterCriteria, error) {
	if len(patterns) > MaxFilters {
		msg := "The number of filters in FilterCriteria must not exceed " + strconv.Itoa(MaxFilters) + "."
		return nil, &Error{Code: "InvalidParameterValueException", Message: msg, Reason: msg}
	}
	fc := &FilterCriteria{}
	for _, src := range patterns {
		p, err := compileEventBridge([]byte(src))
		if err != nil {
			return nil, &Error{
				Code:    "InvalidParameterValueException",
				Message: "Invalid filter pattern definition.",
				Reason:  reasonOf(err),
			}
		}
		fc.patterns = append(fc.patterns, p)
	}
	return fc, nil
}

// Len returns the number of filters.
func (fc *FilterCriteria) Len() int { return len(fc.patterns) }

// Matches reports whether the record, prepared by RecordEvent, passes the filters.
func (fc *FilterCriteria) Matches(record *Event) bool {
	if len(fc.patterns) == 0 {
		return true
	}
	for _, p := range fc.patterns {
		if p.MatchesEvent(record) {
			return true
		}
	}
	return false
}

// RecordEvent prepares one event source record for filtering, as Lambda does before it
// applies FilterCriteria. record is the record's JSON as the function would receive it
// (one element of the event's "Records"):
//   - an SQS record ("eventSource": "aws:sqs") has its "body" string replaced by the JSON
//     it holds, when it is valid JSON; otherwise the body stays a plain string, which only
//     a pattern on the string matches;
//   - a Kinesis record ("eventSource": "aws:kinesis") is filtered on its "kinesis" object, as
//     Lambda documents ({"partitionKey": [...]}, {"data": {...}}), with "data" base64-decoded
//     and replaced by the JSON it holds when it holds valid JSON;
//   - any other record (DynamoDB streams among them) is matched as it is.
//
// The poller calls RecordEvent once per record and FilterCriteria.Matches on the result;
// records that do not match are dropped from the batch (and, for SQS, deleted).
func RecordEvent(record []byte) (*Event, error) {
	v, err := parseJSON(record)
	if err != nil {
		return nil, err
	}
	if v.kind != kindObject {
		return nil, ErrEventNotObject
	}
	switch stringMember(v, "eventSource") {
	case "aws:sqs":
		if body := memberOf(&v, "body"); body != nil && body.kind == kindString {
			if parsed, err := parseJSON([]byte(body.text)); err == nil {
				*body = parsed
			}
		}
	case "aws:kinesis":
		if k := memberOf(&v, "kinesis"); k != nil && k.kind == kindObject {
			v = *k
			if data := memberOf(&v, "data"); data != nil && data.kind == kindString {
				if raw, err := base64.StdEncoding.DecodeString(data.text); err == nil {
					if parsed, err := parseJSON(raw); err == nil {
						*data = parsed
					}
				}
			}
		}
	}
	return eventOf(v), nil
}

// memberOf returns the last member of object v named name, for replacing in place.
func memberOf(v *value, name string) *value {
	for i := len(v.members) - 1; i >= 0; i-- {
		if v.members[i].name == name {
			return &v.members[i].val
		}
	}
	return nil
}

func stringMember(v value, name string) string {
	if m := memberOf(&v, name); m != nil && m.kind == kindString {
		return m.text
	}
	return ""
}
