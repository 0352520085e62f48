package s3

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestPostPolicy(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	enc := func(doc string) string { return base64.StdEncoding.EncodeToString([]byte(doc)) }
	fields := map[string]string{"bucket": "b", "key": "foo.txt", "content-type": "text/plain"}
	cases := []struct {
		name, doc string
		wantCode  string // "" for success
	}{
		{"matching conditions pass", `{"expiration":"2030-01-02T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","foo"],["eq","$Content-Type","text/plain"]]}`, ""},
		{"operators and field names ignore case", `{"expiration":"2030-01-02T00:00:00.000Z","conditions":[{"BuCkEt":"b"},["StArTs-WiTh","$KEY","foo"],["starts-with","$content-type",""]]}`, ""},
		{"expired policy is denied", `{"expiration":"2029-12-31T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""],["starts-with","$content-type",""]]}`, "AccessDenied"},
		{"unnamed field is denied", `{"expiration":"2030-01-02T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""]]}`, "AccessDenied"},
		{"condition on an absent field compares the empty string", `{"expiration":"2030-01-02T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""],["starts-with","$content-type",""],["eq","$x-amz-meta-a","x"]]}`, "AccessDenied"},
		{"expiration key is case-sensitive", `{"EXPIRATION":"2030-01-02T00:00:00Z","conditions":[]}`, "InvalidPolicyDocument"},
		{"expiration must be ISO 8601", `{"expiration":"2030-01-02 00:00:00+00:00","conditions":[]}`, "InvalidPolicyDocument"},
		{"conditions are required", `{"expiration":"2030-01-02T00:00:00Z"}`, "InvalidPolicyDocument"},
		{"empty condition object is invalid", `{"expiration":"2030-01-02T00:00:00Z","conditions":[{}]}`, "InvalidPolicyDocument"},
		{"content-length-range needs two bounds", `{"expiration":"2030-01-02T00:00:00Z","conditions":[["content-length-range",0]]}`, "InvalidPolicyDocument"},
		{"negative content-length-range is invalid", `{"expiration":"2030-01-02T00:00:00Z","conditions":[["content-length-range",-1,0]]}`, "InvalidPolicyDocument"},
		{"policy that is not base64 JSON is invalid", `not json`, "InvalidPolicyDocument"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parsePostPolicy(enc(tc.doc))
			if err == nil {
				err = p.check(fields, now)
			}
			if got := errCode(err); got != tc.wantCode {
				t.Fatalf("got %q (%v), want %q", got, err, tc.wantCode)
			}
		})
	}
}

func TestPostPolicySize(t *testing.T) {
	p := &postPolicy{MinSize: 2, MaxSize: 4}
	for size, want := range map[int64]string{1: "EntityTooSmall", 2: "", 4: "", 5: "EntityTooLarge"} {
		if got := errCode(p.checkSize(size)); got != want {
			t.Errorf("size %d: got %q, want %q", size, got, want)
		}
	}
}
