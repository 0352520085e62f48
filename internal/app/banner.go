package app

import (
	"fmt"
	"io"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
)

// bannerInfo is what the start-up banner tells a person.
type bannerInfo struct {
	Version, Endpoint, DataDir, Store string
	Ephemeral                         bool
	Auth                              auth.Mode
	KeysFile                          string
	Services                          []string // model names
}

// serviceTitles are the names people know the services by.
var serviceTitles = map[string]string{"sts": "STS", "iam": "IAM", "s3": "S3", "lambda": "Lambda", "logs": "CloudWatch Logs", "sqs": "SQS", "sns": "SNS", "dynamodb": "DynamoDB", "dynamodbstreams": "DynamoDB Streams", "apigatewayv2": "API Gateway", "apigatewaymanagementapi": "API Gateway @connections", "apigateway": "API Gateway REST APIs", "scheduler": "EventBridge Scheduler", "pipes": "EventBridge Pipes", "events": "EventBridge", "schemas": "EventBridge Schemas"}

// writeBanner tells a person at a terminal where Kiri serves, where it keeps its data, how it
// authenticates and how to point the AWS CLI at it.
func writeBanner(w io.Writer, b bannerInfo) {
	data := b.DataDir
	switch {
	case b.Ephemeral:
		data += " (temporary: removed on exit)"
	case b.Store != "sqlite":
		data += " (metadata in " + b.Store + ")"
	}
	authLine := "dev: any access key works, account " + auth.DevAccountID + "; only local host names and pages"
	keys := "AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test"
	if b.Auth == auth.Strict {
		authLine = "strict: requests are signed with the keys in " + b.KeysFile
		keys = "AWS_ACCESS_KEY_ID=<key id> AWS_SECRET_ACCESS_KEY=<secret>"
	}
	titles := make([]string, len(b.Services))
	for i, s := range b.Services {
		titles[i] = serviceTitles[s]
		if titles[i] == "" {
			titles[i] = s
		}
	}
	fmt.Fprintf(w, `
  Kiri %s is serving on %s

  services  %s
  data      %s
  auth      %s

  Point the AWS CLI and SDKs at it:
    export AWS_ENDPOINT_URL=%s
    export %s AWS_DEFAULT_REGION=us-east-1
    aws s3 mb s3://my-bucket && aws s3 ls

`, b.Version, b.Endpoint, strings.Join(titles, ", "), data, authLine, b.Endpoint, keys)
}
