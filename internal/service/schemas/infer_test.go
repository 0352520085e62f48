package schemas

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestDiscoveredName(t *testing.T) {
	t.Parallel()
	for in, want := range map[[2]string]string{
		{"aws.s3", "Object Created"}:                          "aws.s3@ObjectCreated",
		{"aws.ec2", "EC2 Instance State-change Notification"}: "aws.ec2@EC2InstanceStateChangeNotification",
		{"shop", "order.placed"}:                              "shop@OrderPlaced",
	} {
		if got := discoveredName(in[0], in[1]); got != want {
			t.Errorf("discoveredName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}

func event(t *testing.T, detail string) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(`{"version":"0","id":"1","source":"shop","detail-type":"Order Placed","account":"1","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":`+detail+`}`), &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestInferMergesAndRoundTrips checks that fields seen in one event only are optional, nested
// objects become components, and a document read back merges to the same document.
func TestInferMergesAndRoundTrips(t *testing.T) {
	t.Parallel()
	a := infer(event(t, `{"id":"x","n":1,"at":"2026-01-01T00:00:00Z","customer":{"name":"a"},"tags":["t"]}`))
	b := infer(event(t, `{"id":"y","n":2.5,"at":"2026-01-02T00:00:00Z","customer":{"name":"b","vip":true},"tags":[],"extra":null}`))
	doc := document(merge(a, b), "shop", "Order Placed")
	var d struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                  `json:"required"`
				Properties map[string]map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatal(err)
	}
	detail := d.Components.Schemas["OrderPlaced"]
	if !slices.Equal(detail.Required, []string{"at", "customer", "id", "n", "tags"}) {
		t.Errorf("detail required = %v", detail.Required)
	}
	if detail.Properties["at"]["format"] != "date-time" || detail.Properties["customer"]["$ref"] != "#/components/schemas/Customer" ||
		detail.Properties["tags"]["type"] != "array" || detail.Properties["n"]["format"] != "double" {
		t.Errorf("detail properties = %v", detail.Properties)
	}
	if c := d.Components.Schemas["Customer"]; !slices.Equal(c.Required, []string{"name"}) || c.Properties["vip"]["type"] != "boolean" {
		t.Errorf("Customer = %+v", c)
	}
	if again := document(merge(shapeOfDocument(doc), b), "shop", "Order Placed"); again != doc {
		t.Errorf("re-merging a seen shape changed the document:\n%s\n%s", doc, again)
	}
}

func TestCheckContent(t *testing.T) {
	t.Parallel()
	ok := map[string]string{
		`{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{}}`:              "OpenApi3",
		`{"$schema":"http://json-schema.org/draft-04/schema#","type":["string","null"]}`: "JSONSchemaDraft4",
	}
	for c, typ := range ok {
		if err := checkContent(typ, c); err != nil {
			t.Errorf("checkContent(%s, %s) = %v", typ, c, err)
		}
	}
	bad := map[string]string{
		`{"openapi":"2.0"}`:                   "OpenApi3",
		`[1]`:                                 "OpenApi3",
		`{"properties":{"a":{"type":"str"}}}`: "JSONSchemaDraft4",
		`{"$schema":"https://json-schema.org/draft/2020-12/schema"}`: "JSONSchemaDraft4",
		`{"required":"a"}`: "JSONSchemaDraft4",
	}
	for c, typ := range bad {
		if err := checkContent(typ, c); err == nil {
			t.Errorf("checkContent(%s, %s) accepted", typ, c)
		}
	}
}

// BenchmarkObserveUnwatchedBus is what PutEvents pays per bus when no started discoverer
// watches it.
func BenchmarkObserveUnwatchedBus(b *testing.B) {
	s := &Service{watched: map[string]bool{"arn:aws:events:us-east-1:1:event-bus/other": true}}
	events := [][]byte{[]byte(`{"source":"a"}`)}
	ctx := b.Context()
	for b.Loop() {
		s.ObserveEvents(ctx, "arn:aws:events:us-east-1:1:event-bus/default", events)
	}
}
