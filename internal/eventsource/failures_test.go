package eventsource

import (
	"slices"
	"testing"
)

func TestBatchItemFailures(t *testing.T) {
	t.Parallel()
	ids := map[string]bool{"a": true, "b": true, "c": true}
	cases := []struct {
		name    string
		payload string
		failed  []string
		ok      bool
	}{
		{"no response succeeds", ``, nil, true},
		{"null response succeeds", `null`, nil, true},
		{"empty response succeeds", `{}`, nil, true},
		{"null list succeeds", `{"batchItemFailures":null}`, nil, true},
		{"empty list succeeds", `{"batchItemFailures":[]}`, nil, true},
		{"reported items fail", `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"c"}]}`, []string{"a", "c"}, true},
		{"response that is not JSON fails the batch", `{"batchItemFailures":`, nil, false},
		{"response that is not an object fails the batch", `"done"`, nil, false},
		{"list that is not a list fails the batch", `{"batchItemFailures":{"itemIdentifier":"a"}}`, nil, false},
		{"empty itemIdentifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":""}]}`, nil, false},
		{"null itemIdentifier fails the batch", `{"batchItemFailures":[{"itemIdentifier":null}]}`, nil, false},
		{"bad key name fails the batch", `{"batchItemFailures":[{"itemId":"a"}]}`, nil, false},
		{"unknown message id fails the batch", `{"batchItemFailures":[{"itemIdentifier":"a"},{"itemIdentifier":"z"}]}`, nil, false},
		{"itemIdentifier that is not a string fails the batch", `{"batchItemFailures":[{"itemIdentifier":7}]}`, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			failed, ok := BatchItemFailures([]byte(c.payload), ids)
			var got []string
			for id := range failed {
				got = append(got, id)
			}
			slices.Sort(got)
			if ok != c.ok || !slices.Equal(got, c.failed) {
				t.Fatalf("BatchItemFailures(%s) = %v, %v; want %v, %v", c.payload, got, ok, c.failed, c.ok)
			}
		})
	}
}
