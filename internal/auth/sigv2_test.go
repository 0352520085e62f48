package auth

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

// The vectors are from the Amazon S3 SigV2 documentation ("Signing and authenticating REST
// requests"), signed with the documentation's example key.
func sigV2Authenticator(mode Mode, now time.Time) *Authenticator {
	return New(Config{Mode: mode, Keys: []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}},
		Now: func() time.Time { return now }})
}

func TestVerifySigV2(t *testing.T) {
	docTime := time.Date(2007, 3, 27, 19, 36, 42, 0, time.UTC)
	tests := []struct {
		name     string
		mode     Mode
		now      time.Time
		method   string
		uri      string
		header   map[string]string
		wantCode string
		status   int
	}{
		{name: "documented header signature verifies", mode: Strict, now: docTime, method: "GET", uri: "/johnsmith/photos/puppy.jpg",
			header: map[string]string{"Authorization": "AWS " + testKeyID + ":bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "Date": "Tue, 27 Mar 2007 19:36:42 +0000"}},
		{name: "documented presigned URL verifies before it expires", mode: Strict, now: time.Unix(1175139000, 0), method: "GET",
			uri: "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=" + testKeyID + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D"},
		{name: "expired presigned URL is AccessDenied", mode: Strict, now: time.Unix(1175139621, 0), method: "GET",
			uri:      "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=" + testKeyID + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
			wantCode: "AccessDenied", status: 403},
		{name: "presigned URL for another key is SignatureDoesNotMatch", mode: Strict, now: time.Unix(1175139000, 0), method: "GET",
			uri:      "/johnsmith/photos/kitten.jpg?AWSAccessKeyId=" + testKeyID + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
			wantCode: "SignatureDoesNotMatch", status: 403},
		{name: "presigned URL used with another method is SignatureDoesNotMatch", mode: Strict, now: time.Unix(1175139000, 0), method: "PUT",
			uri:      "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=" + testKeyID + "&Expires=1175139620&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D",
			wantCode: "SignatureDoesNotMatch", status: 403},
		{name: "unknown access key is InvalidAccessKeyId", mode: Strict, now: time.Unix(1175139000, 0), method: "GET",
			uri:      "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIANOBODY&Expires=1175139620&Signature=abc%3D",
			wantCode: "InvalidAccessKeyId", status: 403},
		{name: "presigned URL without Expires is AccessDenied", mode: Strict, now: docTime, method: "GET",
			uri: "/johnsmith/photos/puppy.jpg?AWSAccessKeyId=" + testKeyID + "&Signature=abc", wantCode: "AccessDenied", status: 403},
		{name: "header signature outside the skew window is RequestTimeTooSkewed", mode: Strict, now: docTime.Add(time.Hour),
			method: "GET", uri: "/johnsmith/photos/puppy.jpg",
			header:   map[string]string{"Authorization": "AWS " + testKeyID + ":bWq2s1WEIj+Ydj0vQ697zp+IXMU=", "Date": "Tue, 27 Mar 2007 19:36:42 +0000"},
			wantCode: "RequestTimeTooSkewed", status: 403},
		{name: "dev mode accepts any SigV2 signature", mode: Dev, now: docTime, method: "GET",
			uri: "/b/k?AWSAccessKeyId=anything&Expires=1175139620&Signature=bad"},
		{name: "dev mode refuses an expired SigV2 presigned URL", mode: Dev, now: time.Unix(1175139621, 0), method: "GET",
			uri:      "/b/k?AWSAccessKeyId=anything&Expires=1175139620&Signature=bad",
			wantCode: "AccessDenied", status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequest(tc.method, "http://johnsmith.s3.amazonaws.com"+tc.uri, nil)
			setRequestURI(r, tc.uri)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			id, err := sigV2Authenticator(tc.mode, tc.now).Verify(context.Background(), r, nil, targetS3)
			if tc.wantCode != "" {
				wantAWSError(t, err, tc.wantCode, tc.status)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.mode == Strict && (id.AccountID != testAccount || id.AccessKeyID != testKeyID) {
				t.Fatalf("identity = %v", id)
			}
		})
	}
}

func TestStringToSignV2IncludesSubResourcesAndAmzHeaders(t *testing.T) {
	uri := "/b/k%20x?uploadId=u1&partNumber=2&foo=bar&AWSAccessKeyId=A&Expires=9&Signature=s&x-amz-security-token=tok"
	r, _ := http.NewRequest(http.MethodPut, "http://localhost"+uri, nil)
	setRequestURI(r, uri)
	r.Header.Set("Content-Type", "text/plain")
	r.Header.Set("X-Amz-Meta-B", "2")
	r.Header.Add("X-Amz-Meta-A", " 1 ")
	r.Header.Add("X-Amz-Meta-A", "3")
	v, ok := parseSigV2(r)
	if !ok {
		t.Fatal("not recognised as SigV2")
	}
	want := "PUT\n\ntext/plain\n9\nx-amz-meta-a:1,3\nx-amz-meta-b:2\nx-amz-security-token:tok\n/b/k%20x?partNumber=2&uploadId=u1"
	if got := stringToSignV2(r, v); got != want {
		t.Fatalf("string to sign\n%q\nwant\n%q", got, want)
	}
	if v.securityToken != "tok" {
		t.Fatalf("security token = %q", v.securityToken)
	}
}

func TestSubResourcesAreSorted(t *testing.T) {
	if !slices.IsSorted(s3SubResources) {
		t.Fatal("s3SubResources must be in byte order: SigV2 sorts sub-resources")
	}
}

func TestSigV4PresignedIsNotSigV2(t *testing.T) {
	q := url.Values{"X-Amz-Algorithm": {"AWS4-HMAC-SHA256"}, "AWSAccessKeyId": {"x"}}
	r, _ := http.NewRequest(http.MethodGet, "http://localhost/b/k?"+q.Encode(), nil)
	if _, ok := parseSigV2(r); ok {
		t.Fatal("a SigV4 presigned query was taken for SigV2")
	}
}
