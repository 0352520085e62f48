package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/uuid"
)

// integration is a service integration's resource (arn:aws:states:::SERVICE:ACTION[.MODE]).
type integration struct {
	service, action, mode string // mode: "", "sync", "sync:2", "waitForTaskToken"
	sdk                   bool   // arn:aws:states:::aws-sdk:SERVICE:ACTION
}

func parseIntegration(res string) (integration, bool) {
	rest, ok := strings.CutPrefix(res, "arn:aws:states:::")
	if !ok {
		return integration{}, false
	}
	var in integration
	if r, ok := strings.CutPrefix(rest, "aws-sdk:"); ok {
		in.sdk, rest = true, r
	}
	svc, action, ok := strings.Cut(rest, ":")
	if !ok || svc == "" || action == "" {
		return integration{}, false
	}
	if a, mode, ok := strings.Cut(action, "."); ok {
		action, in.mode = a, mode
	}
	if action == "startExecution" && strings.HasSuffix(rest, ".sync:2") {
		in.mode = "sync:2"
	}
	in.service, in.action = svc, action
	return in, true
}

// optimized are the optimized integrations this server runs, by service and action, with
// the modes each takes.
var optimized = map[string]map[string][]string{
	"lambda":     {"invoke": {"", "waitForTaskToken"}},
	"sqs":        {"sendMessage": {"", "waitForTaskToken"}},
	"sns":        {"publish": {"", "waitForTaskToken"}},
	"dynamodb":   {"getItem": {""}, "putItem": {""}, "updateItem": {""}, "deleteItem": {""}},
	"events":     {"putEvents": {"", "waitForTaskToken"}},
	"states":     {"startExecution": {"", "sync", "sync:2", "waitForTaskToken"}},
	"apigateway": {"invoke": {"", "waitForTaskToken"}},
}

// checkResource describes why a Task's resource cannot run on a state machine of type typ, or
// is "" when it can.
func (s *Service) checkResource(res, typ string) string {
	notRecognized := "The resource provided " + res + " is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
	if _, ok := activityOf(res); ok {
		if typ == typeExpress {
			return "Express state machine does not support Activity ARN"
		}
		return ""
	}
	if _, ok := lambdaARN(res); ok {
		return ""
	}
	in, ok := parseIntegration(res)
	if !ok {
		return notRecognized
	}
	if in.sdk {
		if _, _, ok := s.sdkAPI(in); !ok || in.mode != "" && in.mode != "waitForTaskToken" {
			return notRecognized
		}
	} else {
		modes, ok := optimized[in.service][in.action]
		if !ok || !contains(modes, in.mode) {
			return notRecognized
		}
	}
	if typ == typeExpress && in.mode != "" {
		return "Express state machine does not support '." + in.mode + "' service integration"
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// lambdaARN reports whether res is a function ARN (the legacy Task resource form).
func lambdaARN(res string) (string, bool) {
	parts := strings.SplitN(res, ":", 7)
	return res, len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" && parts[6] != ""
}

// runTask runs a task of ex as ex's role.
func (s *Service) runTask(ctx context.Context, ex *execution, t asl.TaskEffect) taskResult {
	r, _ := parseARN(ex.ARN)
	sc := r.scope
	if fn, ok := lambdaARN(t.Resource); ok {
		return s.invokeLambda(ctx, sc, ex, fn, t.Parameters, false)
	}
	in, ok := parseIntegration(t.Resource)
	if !ok {
		return failed("States.Runtime", "The resource %s is not supported by this server", t.Resource)
	}
	var res taskResult
	switch {
	case in.sdk:
		res = s.callSDK(ctx, sc, ex.RoleARN, in, t.Parameters)
	case in.service == "lambda":
		var p struct {
			FunctionName string
			Payload      json.RawMessage
			Qualifier    string
		}
		if err := json.Unmarshal(t.Parameters, &p); err != nil || p.FunctionName == "" {
			return failed("States.Runtime", "The Parameters of a lambda:invoke Task must name a FunctionName")
		}
		payload := []byte(p.Payload)
		if len(payload) == 0 {
			payload = []byte("{}")
		}
		res = s.invokeLambda(ctx, sc, ex, functionARN(sc, p.FunctionName, p.Qualifier), payload, true)
	case in.service == "sqs":
		res = s.callJSON(ctx, sc, ex.RoleARN, "sqs", "SQS", "SendMessage", stringMembers(t.Parameters, "MessageBody"))
	case in.service == "dynamodb":
		res = s.callJSON(ctx, sc, ex.RoleARN, "dynamodb", "DynamoDB", upperFirst(in.action), t.Parameters)
	case in.service == "events":
		res = s.callJSON(ctx, sc, ex.RoleARN, "events", "EventBridge", "PutEvents", entriesDetail(t.Parameters))
	case in.service == "sns":
		res = s.publish(ctx, sc, ex, t.Parameters)
	case in.service == "states":
		return s.startChild(ctx, ex, t, in.mode)
	case in.service == "apigateway":
		res = s.invokeAPI(ctx, sc, ex.RoleARN, t.Parameters)
	default:
		return failed("States.Runtime", "The resource %s is not supported by this server", t.Resource)
	}
	if in.mode == "waitForTaskToken" {
		if res.errName != "" {
			res.submitFailed = true
		} else {
			res.wait, res.submitted = true, res.output
		}
	}
	return res
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// functionARN is the ARN of a function named by name, partial or full ARN, in sc.
func functionARN(sc scope, name, qualifier string) string {
	if !strings.HasPrefix(name, "arn:") {
		if strings.Count(name, ":") == 2 { // ACCOUNT:function:NAME
			name = "arn:aws:lambda:" + sc.region + ":" + name
		} else {
			name = "arn:aws:lambda:" + sc.region + ":" + sc.account + ":function:" + name
		}
	}
	if qualifier != "" && strings.Count(name, ":") == 6 {
		name += ":" + qualifier
	}
	return name
}

// functions invokes Lambda functions synchronously as a role (implemented by the Lambda
// service); it returns the function's response and its FunctionError.
type functions interface {
	InvokeAsRole(ctx context.Context, arn, principal, roleARN string, payload []byte) ([]byte, string, error)
}

// invokeLambda invokes a function as ex's role. The lambda:invoke integration answers the
// Invoke API's response with the function's payload in it; the legacy function ARN resource
// answers the payload itself. A function error is named by its errorType.
func (s *Service) invokeLambda(ctx context.Context, sc scope, ex *execution, fn string, payload []byte, wrapped bool) taskResult {
	f, ok := service.Lookup[functions](s.services, "lambda")
	if !ok {
		return failed("Lambda.ServiceException", "Lambda is not running")
	}
	out, fnErr, err := f.InvokeAsRole(ctx, fn, principal, ex.RoleARN, payload)
	if err != nil {
		code := "ResourceNotFoundException"
		var ae *awsproto.Error
		switch {
		case errors.As(err, &ae):
			code = ae.Code
		case errors.Is(err, dispatch.ErrTargetDenied):
			code = "AWSLambdaException"
		}
		return failed("Lambda."+code, "%s", err.Error())
	}
	if fnErr != "" {
		var e struct {
			ErrorType string `json:"errorType"`
		}
		_ = json.Unmarshal(out, &e)
		name := e.ErrorType
		if name == "" {
			name = "Lambda.Unknown"
		}
		return taskResult{errName: name, cause: string(out)}
	}
	if !json.Valid(out) {
		out, _ = json.Marshal(string(out))
	}
	if !wrapped {
		return taskResult{output: out}
	}
	resp, _ := json.Marshal(map[string]any{
		"ExecutedVersion": "$LATEST", "Payload": json.RawMessage(out), "StatusCode": 200,
		"SdkHttpMetadata":     map[string]any{"HttpStatusCode": 200},
		"SdkResponseMetadata": map[string]any{"RequestId": uuid.New()},
	})
	return taskResult{output: resp}
}

// apiService is any service: its API runs actions for integrations.
type apiService interface {
	API() *awsproto.Service
}

// callJSON runs action of the JSON-protocol service name with params as role, and names its
// errors prefix.Code, as Step Functions names an integration's errors.
func (s *Service) callJSON(ctx context.Context, sc scope, role, name, prefix, action string, params []byte) taskResult {
	svc, ok := service.Lookup[apiService](s.services, name)
	if !ok {
		return failed(prefix+".ServiceException", "%s is not running", name)
	}
	status, body := service.RunJSONAction(ctx, svc.API(), sc.account, sc.region, role, action, params)
	if status < 300 {
		if len(bytes.TrimSpace(body)) == 0 {
			body = []byte("{}")
		}
		return taskResult{output: body}
	}
	var e struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	_ = json.Unmarshal(body, &e)
	code := e.Type[strings.LastIndexByte(e.Type, '#')+1:]
	if code == "" {
		code = "ServiceException"
	}
	msg := e.Message
	if msg == "" {
		msg = e.Message2
	}
	return taskResult{errName: prefix + "." + code,
		cause: fmt.Sprintf("%s (Service: %s, Status Code: %d, Error Code: %s)", msg, name, status, code)}
}

// stringMembers turns the named members of params that are JSON values other than strings
// into their JSON text, as Step Functions does for message bodies.
func stringMembers(params []byte, names ...string) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(params, &m) != nil {
		return params
	}
	for _, n := range names {
		if v, ok := m[n]; ok && len(v) > 0 && v[0] != '"' {
			s, _ := json.Marshal(string(v))
			m[n] = s
		}
	}
	b, _ := json.Marshal(m)
	return b
}

// entriesDetail turns each PutEvents entry's Detail that is a JSON object into its text.
func entriesDetail(params []byte) []byte {
	var p map[string]json.RawMessage
	if json.Unmarshal(params, &p) != nil {
		return params
	}
	var entries []json.RawMessage
	if json.Unmarshal(p["Entries"], &entries) != nil {
		return params
	}
	for i, e := range entries {
		entries[i] = stringMembers(e, "Detail")
	}
	p["Entries"], _ = json.Marshal(entries)
	b, _ := json.Marshal(p)
	return b
}

// publish publishes to an SNS topic through the target registry, as ex's role.
func (s *Service) publish(ctx context.Context, sc scope, ex *execution, params []byte) taskResult {
	var p struct {
		TopicArn string
		Message  json.RawMessage
		Subject  string
	}
	if err := json.Unmarshal(params, &p); err != nil || p.TopicArn == "" || len(p.Message) == 0 {
		return failed("SNS.InvalidParameterException", "The Parameters of an sns:publish Task must give TopicArn and Message")
	}
	msg := string(p.Message)
	var str string
	if json.Unmarshal(p.Message, &str) == nil {
		msg = str
	}
	src := dispatch.Source{Principal: principal, ARN: ex.MachineARN, Account: sc.account, Region: sc.region, Role: ex.RoleARN}
	err := s.targets.Deliver(ctx, dispatch.Delivery{Target: p.TopicArn, Source: src, Payload: []byte(msg), Subject: p.Subject})
	switch {
	case errors.Is(err, dispatch.ErrNoTarget):
		return failed("SNS.NotFoundException", "Topic does not exist (Service: Sns, Status Code: 404, Error Code: NotFound)")
	case errors.Is(err, dispatch.ErrTargetDenied):
		return failed("SNS.AuthorizationErrorException", "%s", err.Error())
	case err != nil:
		return failed("SNS.InternalErrorException", "%s", err.Error())
	}
	out, _ := json.Marshal(map[string]any{"MessageId": uuid.New(), "SdkHttpMetadata": map[string]any{"HttpStatusCode": 200}})
	return taskResult{output: out}
}

// startChild starts the nested execution of a states:startExecution task, as ex's role. With
// .sync or .sync:2 the task waits for the child to end; with .waitForTaskToken, for its token.
func (s *Service) startChild(ctx context.Context, ex *execution, t asl.TaskEffect, mode string) taskResult {
	var p struct {
		StateMachineArn string
		Name            string
		Input           json.RawMessage
	}
	if err := json.Unmarshal(t.Parameters, &p); err != nil || p.StateMachineArn == "" {
		return failed("States.Runtime", "The Parameters of a states:startExecution Task must give StateMachineArn")
	}
	if s.enforcing() {
		err := s.authz.AuthorizeRole(ctx, ex.RoleARN, ex.Name, authz.Request{Action: "states:StartExecution", Resource: p.StateMachineArn})
		if err != nil {
			return failed("StepFunctions.AccessDeniedException", "%s", err.Error())
		}
	}
	input := "{}"
	if len(p.Input) > 0 {
		input = string(p.Input)
		var str string
		if json.Unmarshal(p.Input, &str) == nil {
			input = str
		}
	}
	var parent *parentTask
	if mode == "sync" || mode == "sync:2" {
		parent = &parentTask{Execution: ex.ARN, Effect: t.ID, JSON: mode == "sync:2"}
	}
	child, err := s.start(ctx, p.StateMachineArn, p.Name, &input, "", parent)
	if err != nil {
		code := "StepFunctionsException"
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			code = ae.Code
		}
		res := failed("StepFunctions."+code, "%s", err.Error())
		res.submitFailed = mode != ""
		return res
	}
	out, _ := json.Marshal(map[string]any{"ExecutionArn": child.ARN, "StartDate": child.Started.UnixMilli()})
	if mode != "" {
		return taskResult{wait: true, submitted: out}
	}
	return taskResult{output: out}
}

// childOutcome is the outcome a .sync task reports for a nested execution that ended.
func childOutcome(ex *execution, asJSON bool) taskResult {
	d := map[string]any{"ExecutionArn": ex.ARN, "StateMachineArn": ex.MachineARN, "Name": ex.Name, "Status": ex.Status,
		"StartDate": ex.Started.UnixMilli(), "Input": ex.Input, "InputDetails": map[string]bool{"Included": true}}
	if ex.Stopped != nil {
		d["StopDate"] = ex.Stopped.UnixMilli()
	}
	if asJSON {
		d["Input"] = json.RawMessage(ex.Input)
	}
	if ex.Output != nil {
		d["Output"], d["OutputDetails"] = *ex.Output, map[string]bool{"Included": true}
		if asJSON {
			d["Output"] = json.RawMessage(*ex.Output)
		}
	}
	if ex.Error != nil {
		d["Error"] = *ex.Error
	}
	if ex.Cause != nil {
		d["Cause"] = *ex.Cause
	}
	b, _ := json.Marshal(d)
	if ex.Status == statusSucceeded {
		return taskResult{output: b}
	}
	return taskResult{errName: "States.TaskFailed", cause: string(b)}
}
