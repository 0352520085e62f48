package pattern

import (
	"encoding/base64"
	"errors"
	"testing"
)

func TestFilterCriteria(t *testing.T) {
	t.Parallel()
	sqs := func(body string) string {
		return `{"messageId":"1","eventSource":"aws:sqs","body":` + quote(body) + `,"attributes":{"ApproximateReceiveCount":"1"}}`
	}
	kinesis := func(data string) string {
		return `{"eventSource":"aws:kinesis","kinesis":{"partitionKey":"p","data":"` + base64.StdEncoding.EncodeToString([]byte(data)) + `"}}`
	}
	cases := []struct {
		name    string
		filters []string
		record  string
		want    bool
	}{
		{"no filters pass every record", nil, sqs("x"), true},
		{"SQS JSON body", []string{`{"body":{"RequestCode":["BBBB"]}}`}, sqs(`{"RequestCode":"BBBB"}`), true},
		{"SQS JSON body without a match", []string{`{"body":{"RequestCode":["BBBB"]}}`}, sqs(`{"RequestCode":"AAAA"}`), false},
		{"SQS plain body as a string", []string{`{"body":["hello"]}`}, sqs(`hello`), true},
		{"SQS plain body against a JSON pattern", []string{`{"body":{"a":["hello"]}}`}, sqs(`hello`), false},
		{"SQS JSON body is no longer a string", []string{`{"body":[{"prefix":"{"}]}`}, sqs(`{"a":1}`), false},
		{"SQS metadata", []string{`{"attributes":{"ApproximateReceiveCount":["1"]}}`}, sqs(`x`), true},
		{"any filter passes", []string{`{"body":{"a":["1"]}}`, `{"body":{"a":["2"]}}`}, sqs(`{"a":"2"}`), true},
		{"Kinesis JSON data", []string{`{"data":{"temperature":[{"numeric":[">",30]}]}}`}, kinesis(`{"temperature":31}`), true},
		{"Kinesis metadata", []string{`{"partitionKey":["p"]}`}, kinesis(`not json`), true},
		{"Kinesis data that is not JSON", []string{`{"data":{"a":["1"]}}`}, kinesis(`not json`), false},
		{"DynamoDB record as it is", []string{`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"n":{"N":[{"prefix":"4"}]}}}}`},
			`{"eventSource":"aws:dynamodb","eventName":"INSERT","dynamodb":{"NewImage":{"n":{"N":"42"}}}}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fc, err := CompileFilterCriteria(c.filters)
			if err != nil {
				t.Fatal(err)
			}
			ev, err := RecordEvent([]byte(c.record))
			if err != nil {
				t.Fatal(err)
			}
			if got := fc.Matches(ev); got != c.want {
				t.Fatalf("filters %v against %s = %v, want %v", c.filters, c.record, got, c.want)
			}
		})
	}
}

func quote(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, c)
	}
	return string(append(b, '"'))
}

func TestFilterCriteriaRefusals(t *testing.T) {
	t.Parallel()
	for _, filters := range [][]string{
		{`{"body":"x"}`},
		{`not json`},
		{`{"a":["1"]}`, `{"a":[{"prefix":1}]}`},
		{`{"a":["1"]}`, `{"a":["2"]}`, `{"a":["3"]}`, `{"a":["4"]}`, `{"a":["5"]}`, `{"a":["6"]}`},
	} {
		_, err := CompileFilterCriteria(filters)
		var pe *Error
		if !errors.As(err, &pe) || pe.Code != "InvalidParameterValueException" {
			t.Errorf("CompileFilterCriteria(%q) = %v", filters, err)
			continue
		}
		if len(filters) <= MaxFilters && pe.Message != "Invalid filter pattern definition." {
			t.Errorf("CompileFilterCriteria(%q) message %q", filters, pe.Message)
		}
	}
}
