package awsproto_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// serveFuzz pushes one request through Resolve and Serve; the codec must answer, never panic,
// and never blame itself (500) for client input.
func serveFuzz(t *testing.T, h http.Handler, req *http.Request) {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
		t.Fatalf("status %d for client input: %s", rec.Code, rec.Body.String())
	}
}

func FuzzJSONDecoder(f *testing.F) {
	for _, s := range []string{
		`{"TableName":"t","Item":{"pk":{"S":"a"},"m":{"M":{"x":{"L":[{"N":"1"},{"B":"AAE="}]}}}}}`,
		`{"TableName":"t","Item":{"pk":{"S":"\u00e9\ud83d\ude00"}}}`,
		`{"TableName":1}`, `[`, `{"Item":{"a":{"BS":["!!"]}}}`, `{"TableName":"t","Item":{},"Expected":{"a":{"Exists":true,"Value":{"NULL":true}}}}`,
	} {
		f.Add(s)
	}
	h := edge(wireRouter(f))
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		serveFuzz(t, h, req)
	})
}

func FuzzXMLDecoder(f *testing.F) {
	for _, s := range []string{
		`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag></TagSet></Tagging>`,
		`<Tagging><TagSet><Tag><Key>a</Key><Value>1</Value></Tag><Tag/></TagSet></Tagging>`,
		`<a><b>`, `<?xml version="1.0"?><Tagging xmlns="x"><TagSet>&amp;</TagSet></Tagging>`,
	} {
		f.Add(s)
	}
	h := edge(wireRouter(f))
	f.Fuzz(func(t *testing.T, body string) {
		serveFuzz(t, h, httptest.NewRequest("PUT", "/bkt?tagging", strings.NewReader(body)))
	})
}

func FuzzQueryDecoder(f *testing.F) {
	for _, s := range []string{
		"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::1:role/abcdefghijkl&RoleSessionName=s1&Tags.member.1.Key=k&Tags.member.1.Value=v",
		"Action=AssumeRole&PolicyArns.member.1.arn=x&DurationSeconds=99999999999&ProvidedContexts.member.2.ContextAssertion=a",
		"Action=GetSessionToken&DurationSeconds=%zz", "Action=AssumeRole&Tags=&TransitiveTagKeys.member.1=a",
	} {
		f.Add(s)
	}
	h := edge(wireRouter(f))
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serveFuzz(t, h, req)
	})
}

func FuzzRouter(f *testing.F) {
	f.Add("GET", "/bkt/key?list-type=2", "", "")
	f.Add("POST", "/2015-03-31/functions/f/invocations", "", `{}`)
	f.Add("POST", "/", "DynamoDB_20120810.GetItem", `{}`)
	f.Add("PUT", "/bkt/a/b/c?partNumber=1&uploadId=x", "", "x")
	f.Add("HEAD", "/%2F/%", "", "")
	f.Add("GET", "/?Action=GetCallerIdentity", "", "")
	h := edge(wireRouter(f))
	f.Fuzz(func(t *testing.T, method, target, amzTarget, body string) {
		if method == "" || strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return
		}
		req, err := http.NewRequest(method, "http://localhost"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		if amzTarget != "" {
			req.Header.Set("X-Amz-Target", amzTarget)
		}
		serveFuzz(t, h, req)
	})
}
