package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

func TestHealthReportsServicesAndVersion(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	resp, err := http.Get(srv.URL + "/_kiri/health")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Version  string
		Services map[string]string
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || h.Version != "test" || h.Services["sts"] != "running" {
		t.Fatalf("health %d %+v", resp.StatusCode, h)
	}
}

func TestMetricsCountRequestsPerOperation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	for range 3 {
		if _, err := srv.Clients().STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Get(srv.URL + "/_kiri/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`kiri_requests_total{operation="GetCallerIdentity",service="sts",status="200"} 3`,
		`kiri_request_duration_seconds_count{operation="GetCallerIdentity",service="sts"} 3`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestResponsesCarryRequestIDAndTrace(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	out, err := srv.Clients().STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	id, ok := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
	if !ok || len(id) != 36 {
		t.Fatalf("request id %q from the SDK, want a UUID", id)
	}
	// The trace context a client sends is carried into Kiri's logs for that request.
	const trace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("traceparent", "00-"+trace+"-00f067aa0ba902b7-01")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rid := resp.Header.Get("x-amzn-RequestId")
	if resp.StatusCode != 200 || rid == "" {
		t.Fatalf("status %d, request id %q", resp.StatusCode, rid)
	}
	if !strings.Contains(srv.Logs(), `"request_id":"`+rid+`"`) || !strings.Contains(srv.Logs(), `"trace_id":"`+trace+`"`) {
		t.Fatalf("logs lack request %s with trace %s:\n%s", rid, trace, srv.Logs())
	}
}

func TestUnknownOperationsGetProtocolErrors(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{})
	cases := []struct {
		name, body, want string
		status           int
	}{
		{"unknown query action", "Action=MakeCoffee&Version=2011-06-15", "<Code>InvalidAction</Code>", 400},
		{"missing required member", "Action=AssumeRole&Version=2011-06-15&RoleSessionName=abc", "ValidationError", 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.want) {
				t.Fatalf("status %d body %s, want %d %s", resp.StatusCode, body, tc.status, tc.want)
			}
		})
	}
}

// TestPrettyLogsForAPerson checks what a person at a terminal sees: a banner that says where
// Kiri serves and how to point the AWS CLI at it, then one short line a request.
func TestPrettyLogsForAPerson(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{LogFormat: "pretty"})
	if _, err := srv.Clients().STS.GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	logs := srv.Logs()
	for _, want := range []string{
		"Kiri test is serving on " + srv.URL,
		"services  STS, IAM, S3, Lambda, CloudWatch Logs, SQS, SNS, DynamoDB",
		"(temporary: removed on exit)",
		"auth      dev: any access key works, account 000000000000",
		"export AWS_ENDPOINT_URL=" + srv.URL,
		" 200 sts.GetCallerIdentity POST / ",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, `{"time"`) {
		t.Errorf("pretty logs hold JSON:\n%s", logs)
	}
}
