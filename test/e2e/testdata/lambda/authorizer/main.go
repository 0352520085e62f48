// Command authorizer is a Lambda REQUEST authorizer for HTTP APIs. Its first identity source
// value decides: "allow" lets the caller in, "deny" does not, "fail" makes the function fail and
// "malformed" answers something that is no authorizer response. With MODE=policy it answers
// with an IAM policy that allows GET requests of the stage only; otherwise with a simple
// response. Its context names the caller, the event's type, version and ARN, and a nonce that
// tells one call from another.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Version        string          `json:"version"`
	Type           string          `json:"type"`
	RouteArn       string          `json:"routeArn"`
	MethodArn      string          `json:"methodArn"`
	IdentitySource json.RawMessage `json:"identitySource"`
	Body           *string         `json:"body"`
}

// firstIdentity is the first identity source value: a list in payload 2.0, a comma-joined
// string in 1.0.
func (e *event) firstIdentity() string {
	var list []string
	if json.Unmarshal(e.IdentitySource, &list) == nil && len(list) > 0 {
		return list[0]
	}
	var joined string
	json.Unmarshal(e.IdentitySource, &joined)
	first, _, _ := strings.Cut(joined, ",")
	return first
}

func main() {
	lambda.Start(func(ctx context.Context, ev event) (any, error) {
		who := ev.firstIdentity()
		arn := ev.RouteArn + ev.MethodArn
		context := map[string]any{"user": who, "type": ev.Type, "version": ev.Version, "arn": arn,
			"nonce": strconv.FormatInt(time.Now().UnixNano(), 10), "hasBody": ev.Body != nil, "level": 3}
		switch who {
		case "fail":
			return nil, errors.New("asked to fail")
		case "malformed":
			return "not an answer", nil
		}
		if os.Getenv("MODE") != "policy" {
			return map[string]any{"isAuthorized": who == "allow", "context": context}, nil
		}
		// arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH → API/STAGE/GET/*
		parts := strings.SplitN(arn, "/", 3)
		effect := "Deny"
		if who == "allow" {
			effect = "Allow"
		}
		return map[string]any{
			"principalId": "user-" + who,
			"policyDocument": map[string]any{"Version": "2012-10-17", "Statement": []map[string]any{{
				"Action": "execute-api:Invoke", "Effect": effect, "Resource": parts[0] + "/" + parts[1] + "/GET/*",
			}}},
			"context": context,
		}, nil
	})
}
