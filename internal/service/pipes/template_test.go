package pipes

import (
	"testing"
	"time"
)

func TestInputTemplates(t *testing.T) {
	t.Parallel()
	sqsEvent := `{"messageId":"m1","body":"{\"id\":\"a\",\"n\":2,\"tags\":[\"x\",\"y\"],\"o\":{\"k\":\"v\"}}","attributes":{"SenderId":"AIDA"},"eventSource":"aws:sqs"}`
	vars := templateVars{pipeARN: "arn:aws:pipes:us-east-1:000000000000:pipe/p", pipeName: "p", sourceARN: "src", targetARN: "dst",
		ingestion: time.Date(2026, 12, 5, 20, 0, 0, 0, time.UTC)}
	cases := []struct {
		name, template, event, want string
	}{
		{"static text stays as it is", `Hello, sender`, sqsEvent, `Hello, sender`},
		{"a lone path is the value as text", `<$.attributes.SenderId>`, sqsEvent, `AIDA`},
		{"free text takes strings unquoted", `Hello, <$.attributes.SenderId>`, sqsEvent, `Hello, AIDA`},
		{"an SQS body holding JSON is read as JSON", `{"id": "<$.body.id>", "n": <$.body.n>}`, sqsEvent, `{"id": "a", "n": 2}`},
		{"unquoted objects and arrays are inserted as JSON", `{"o": <$.body.o>, "t": <$.body.tags>}`, sqsEvent, `{"o": {"k":"v"}, "t": ["x","y"]}`},
		{"array indices", `{"t": "<$.body.tags[1]>"}`, sqsEvent, `{"t": "y"}`},
		{"a quoted object is escaped into the string", `{"o": "<$.body.o>"}`, sqsEvent, `{"o": "{\"k\":\"v\"}"}`},
		{"a missing path is null outside quotes and empty inside", `{"a": <$.nope>, "b": "<$.nope>"}`, sqsEvent, `{"a": null, "b": ""}`},
		{"reserved variables", `{"arn": "<aws.pipes.pipe-arn>", "name": "<aws.pipes.pipe-name>", "at": "<aws.pipes.event.ingestion-time>"}`, `{}`,
			`{"arn": "arn:aws:pipes:us-east-1:000000000000:pipe/p", "name": "p", "at": "2026-12-05T20:00:00.000Z"}`},
		{"the event as JSON has its body decoded", `{"e": <aws.pipes.event.json>}`, `{"body":"{\"a\":1}","eventSource":"aws:sqs"}`,
			`{"e": {"body":{"a":1},"eventSource":"aws:sqs"}}`},
		{"the event as a string is escaped in quotes", `{"e": "<aws.pipes.event>"}`, `{"a":1}`, `{"e": "{\"a\":1}"}`},
		{"angle brackets that are not placeholders stay", `a <b> c`, `{}`, `a <b> c`},
		{"quotes in JSON string escapes do not end the string", `{"s": "say \"<$.x>\""}`, `{"x":"hi"}`, `{"s": "say \"hi\""}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl, err := parseTemplate(c.template)
			if err != nil {
				t.Fatal(err)
			}
			if got := string(tmpl.render([]byte(c.event), vars)); got != c.want {
				t.Fatalf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestInputTemplatesRefused(t *testing.T) {
	t.Parallel()
	for _, src := range []string{`<aws.pipes.nope>`, `{"a": <$.a..b>}`, `<$.a[x]>`} {
		if _, err := parseTemplate(src); err == nil {
			t.Errorf("%s was accepted", src)
		}
	}
}

func TestDynamicParameters(t *testing.T) {
	t.Parallel()
	ev := []byte(`{"body":"{\"group\":\"g1\"}","messageId":"m"}`)
	for in, want := range map[string]string{"static": "static", "$.messageId": "m", "$.body.group": "g1", "$.missing": ""} {
		if got := dynamic(in, ev); got != want {
			t.Errorf("dynamic(%q) = %q, want %q", in, got, want)
		}
	}
}
