package lambda

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestNewURLRequest(t *testing.T) {
	r := httptest.NewRequest("POST", "/items/7?a=1&a=2&b=x", strings.NewReader(`{"k":1}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	r.Header.Set("Cookie", "s=1; t=2")
	ev := newURLRequest(r, []byte(`{"k":1}`), "abc", "us-east-1", "rid", time.Unix(1700000000, 0))
	if ev.Version != "2.0" || ev.RawPath != "/items/7" || ev.RawQueryString != "a=1&a=2&b=x" || ev.Body != `{"k":1}` || ev.IsBase64Encoded {
		t.Errorf("event = %+v", ev)
	}
	if ev.QueryStringParameters["a"] != "1,2" || ev.Headers["x-multi"] != "one,two" || len(ev.Cookies) != 2 || ev.Headers["cookie"] != "" {
		t.Errorf("params %v headers %v cookies %v", ev.QueryStringParameters, ev.Headers, ev.Cookies)
	}
	if ev.RequestContext.HTTP.Method != "POST" || ev.RequestContext.DomainName != "abc.lambda-url.us-east-1.on.aws" || ev.RequestContext.TimeEpoch != 1700000000000 {
		t.Errorf("context = %+v", ev.RequestContext)
	}
	bin := newURLRequest(httptest.NewRequest("POST", "/", nil), []byte{0xff, 0, 1}, "abc", "us-east-1", "rid", time.Now())
	if !bin.IsBase64Encoded || bin.Body != "/wAB" {
		t.Errorf("binary body = %q (base64 %v)", bin.Body, bin.IsBase64Encoded)
	}
}

func TestInterpretURLResponse(t *testing.T) {
	tests := []struct {
		name, payload string
		status        int
		body, header  string
	}{
		{"structured response", `{"statusCode":201,"headers":{"X-A":"b"},"body":"hi"}`, 201, "hi", "b"},
		{"base64 body is decoded", `{"statusCode":200,"body":"aGk=","isBase64Encoded":true}`, 200, "hi", ""},
		{"object without statusCode is the JSON body", `{"ok":true}`, 200, `{"ok":true}`, ""},
		{"bare string is its text", `"hello"`, 200, "hello", ""},
		{"number is JSON", `42`, 200, "42", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := interpretURLResponse([]byte(tc.payload))
			if status != tc.status || string(body) != tc.body || h.Get("X-A") != tc.header {
				t.Errorf("got %d %q %v", status, body, h)
			}
		})
	}
	_, h, _ := interpretURLResponse([]byte(`{"statusCode":200,"cookies":["a=1","b=2"]}`))
	if got := h.Values("Set-Cookie"); len(got) != 2 {
		t.Errorf("cookies = %v", got)
	}
}
