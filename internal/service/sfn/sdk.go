package sfn

import (
	"context"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
)

// sdkServices are the services AWS SDK integrations (arn:aws:states:::aws-sdk:SERVICE:ACTION)
// call, by the name the integration's resource gives them: the model of the Kiri service
// that serves them and the prefix Step Functions names their errors with.
var sdkServices = map[string]struct{ model, prefix string }{
	"apigateway":              {"apigateway", "ApiGateway"},
	"apigatewaymanagementapi": {"apigatewaymanagementapi", "ApiGatewayManagementApi"},
	"apigatewayv2":            {"apigatewayv2", "ApiGatewayV2"},
	"cloudwatchlogs":          {"logs", "CloudWatchLogs"},
	"dynamodb":                {"dynamodb", "DynamoDb"},
	"dynamodbstreams":         {"dynamodbstreams", "DynamoDbStreams"},
	"eventbridge":             {"events", "EventBridge"},
	"iam":                     {"iam", "Iam"},
	"lambda":                  {"lambda", "Lambda"},
	"pipes":                   {"pipes", "Pipes"},
	"s3":                      {"s3", "S3"},
	"scheduler":               {"scheduler", "Scheduler"},
	"schemas":                 {"schemas", "Schemas"},
	"sfn":                     {"stepfunctions", "Sfn"},
	"sns":                     {"sns", "Sns"},
	"sqs":                     {"sqs", "Sqs"},
	"sts":                     {"sts", "Sts"},
}

// sdkAPI is the API of the service an AWS SDK integration names, and the operation its
// camelCase action names (getObject: GetObject); ok is false when this server serves no such
// operation.
func (s *Service) sdkAPI(in integration) (api *awsproto.Service, op string, ok bool) {
	svc, known := sdkServices[in.service]
	if !known {
		return nil, "", false
	}
	if svc.model == "stepfunctions" {
		api = s.api
	} else if a, found := service.Lookup[apiService](s.services, svc.model); found {
		api = a.API()
	}
	op = upperFirst(in.action)
	if api == nil || in.action != lowerFirst(op) || !api.HasOperation(op) {
		return nil, "", false
	}
	return api, op, true
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// callSDK runs an AWS SDK integration's action with params as role, through the service's
// own validation, authorization and handler. Its errors are named as Step Functions names
// them: the service's prefix and the model's exception name, with the Exception suffix
// (S3.NoSuchKeyException).
func (s *Service) callSDK(ctx context.Context, sc scope, role string, in integration, params []byte) taskResult {
	svc := sdkServices[in.service]
	api, op, ok := s.sdkAPI(in)
	if !ok {
		return failed("States.Runtime", "The resource arn:aws:states:::aws-sdk:%s:%s is not supported by this server", in.service, in.action)
	}
	if len(params) == 0 {
		params = []byte("{}")
	}
	out, aerr := service.RunAction(ctx, api, sc.account, sc.region, role, op, params)
	if aerr == nil {
		return taskResult{output: out}
	}
	code := api.ExceptionName(aerr.Code)
	if i := strings.LastIndexByte(code, '.'); i >= 0 { // SQS's AWS.SimpleQueueService.NonExistentQueue
		code = code[i+1:]
	}
	if !strings.HasSuffix(code, "Exception") {
		code += "Exception"
	}
	status := aerr.Status
	if status == 0 {
		status = 400
	}
	return taskResult{errName: svc.prefix + "." + code,
		cause: fmt.Sprintf("%s (Service: %s, Status Code: %d, Error Code: %s)", aerr.Message, svc.prefix, status, aerr.Code)}
}
