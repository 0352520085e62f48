package events

import (
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestInputTransformerQuoting(t *testing.T) {
	t.Parallel()
	event := []byte(`{"id":"e-1","detail":{"s":"a \"q\" <b>","n":1.50,"o":{"k":[1,"x"]},"t":true}}`)
	decoded, err := decodeEvent(event)
	if err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{"s": "$.detail.s", "n": "$.detail.n", "o": "$.detail.o", "t": "$.detail.t", "first": "$.detail.o.k[0]",
		"quoted": "$['detail']['s']", "none": "$.detail.nope"}
	at := time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)
	for _, c := range []struct{ name, template, want string }{
		{"bare values are JSON", `{"s":<s>,"n":<n>,"o":<o>,"t":<t>}`, `{"s":"a \"q\" <b>","n":1.50,"o":{"k":[1,"x"]},"t":true}`},
		{"values inside strings are escaped text", `{"m":"<s> / <n> / <o> / <t>"}`, `{"m":"a \"q\" <b> / 1.50 / {\"k\":[1,\"x\"]} / true"}`},
		{"a missing path is null bare and empty in a string", `{"a":<none>,"b":"[<none>]"}`, `{"a":null,"b":"[]"}`},
		{"array index and bracket names", `[<first>,<quoted>]`, `[1,"a \"q\" <b>"]`},
		{"a quoted template is a JSON string", `"the value is <s>"`, `"the value is a \"q\" <b>"`},
		{"a text template takes plain text", `value <s> and <o>`, `value a "q" <b> and {"k":[1,"x"]}`},
		{"unknown placeholders stay", `{"x":"<unknown>"}`, `{"x":"<unknown>"}`},
		{"predefined variables", `{"r":<aws.events.rule-name>,"a":"<aws.events.rule-arn>","t":<aws.events.event.ingestion-time>,"e":<aws.events.event>}`,
			`{"r":"rule","a":"arn:aws:events:us-east-1:000000000000:rule/rule","t":"2026-12-05T20:00:00Z","e":` + string(event) + `}`},
		{"escaped quotes do not end a string", `{"x":"\"<s>\""}`, `{"x":"\"a \"q\" <b>\""}`},
	} {
		tf, err := compileTransformer(&InputTransformer{InputPathsMap: paths, InputTemplate: awsproto.Ptr(c.template)})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := string(tf.apply(event, decoded, "arn:aws:events:us-east-1:000000000000:rule/rule", "rule", at))
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestInputTransformerRefusals(t *testing.T) {
	t.Parallel()
	for name, paths := range map[string]map[string]string{
		"a reserved key":    {"aws.events.x": "$.a"},
		"not a JSON path":   {"a": "detail.a"},
		"an unclosed index": {"a": "$.a[0"},
	} {
		if _, err := compileTransformer(&InputTransformer{InputPathsMap: paths, InputTemplate: awsproto.Ptr(`<a>`)}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
