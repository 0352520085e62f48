package apigateway

import (
	"testing"
)

func TestInterpretResponses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, version, payload string
		status                 int
		body, contentType      string
		malformed              bool
	}{
		{name: "2.0 structured", version: "2.0", payload: `{"statusCode":201,"headers":{"X-A":"b"},"body":"hi"}`, status: 201, body: "hi", contentType: "application/json"},
		{name: "2.0 infers 200 and a JSON body without statusCode", version: "2.0", payload: `{"a":1}`, status: 200, body: `{"a":1}`, contentType: "application/json"},
		{name: "2.0 infers for a bare string", version: "2.0", payload: `"hello"`, status: 200, body: `"hello"`, contentType: "application/json"},
		{name: "2.0 decodes a base64 body", version: "2.0", payload: `{"statusCode":200,"body":"aGk=","isBase64Encoded":true,"headers":{"content-type":"text/plain"}}`, status: 200, body: "hi", contentType: "text/plain"},
		{name: "2.0 refuses invalid JSON", version: "2.0", payload: `{`, malformed: true},
		{name: "2.0 refuses a status out of range", version: "2.0", payload: `{"statusCode":42}`, malformed: true},
		{name: "1.0 structured with multi-value headers", version: "1.0", payload: `{"statusCode":404,"multiValueHeaders":{"X-M":["1","2"]},"body":"no"}`, status: 404, body: "no"},
		{name: "1.0 needs a statusCode", version: "1.0", payload: `{"a":1}`, malformed: true},
		{name: "1.0 refuses a bare string", version: "1.0", payload: `"hello"`, malformed: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			interpret := interpretV1
			if c.version == "2.0" {
				interpret = interpretV2
			}
			res, err := interpret([]byte(c.payload))
			if c.malformed {
				if err == nil {
					t.Fatalf("accepted %s", c.payload)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.status != c.status || string(res.body) != c.body || res.header.Get("Content-Type") != c.contentType {
				t.Fatalf("got %d %q %v", res.status, res.body, res.header)
			}
		})
	}
}
