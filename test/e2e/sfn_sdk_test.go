package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestStepFunctionsAWSSDKIntegrations calls services of every protocol through
// arn:aws:states:::aws-sdk:SERVICE:ACTION: S3 (rest-xml) creates a bucket, puts and gets an
// object and names a missing key S3.NoSuchKeyException for a Catch; SNS publishes and STS and
// IAM answer (query); Lambda invokes a function (rest-json); CloudWatch Logs creates and
// lists a log group (json). Members are named as the SDKs name them, in and out.
func TestStepFunctionsAWSSDKIntegrations(t *testing.T) {
	t.Parallel()
	cl := startKiri(t)
	createTestFunction(t, cl.Lambda, "doubler", kiritest.ZipSource(t, map[string]string{"app.py": sfnFunction}), func(in *lambda.CreateFunctionInput) {
		in.Runtime, in.Handler = ltypes.RuntimePython312, aws.String("app.handler")
	})
	waitActive(t, cl.Lambda, "doubler")
	topic := createTopic(t, cl.SNS, "sdk-topic", nil)
	trust := `{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"lambda.amazonaws.com\"},\"Action\":\"sts:AssumeRole\"}]}`
	def := `{"StartAt":"Bucket","States":{
		"Bucket":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:createBucket","Parameters":{"Bucket":"flow-bucket"},"ResultPath":null,"Next":"Put"},
		"Put":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:putObject",
			"Parameters":{"Bucket":"flow-bucket","Key":"greeting.txt","Body":"hello from a flow","ContentType":"text/plain"},
			"ResultSelector":{"etag.$":"$.ETag"},"ResultPath":"$.put","Next":"Get"},
		"Get":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"flow-bucket","Key":"greeting.txt"},
			"ResultSelector":{"body.$":"$.Body","type.$":"$.ContentType","length.$":"$.ContentLength"},"ResultPath":"$.get","Next":"Missing"},
		"Missing":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:s3:getObject","Parameters":{"Bucket":"flow-bucket","Key":"nothing"},
			"Catch":[{"ErrorEquals":["S3.NoSuchKeyException"],"ResultPath":"$.missing","Next":"Publish"}],"ResultPath":null,"Next":"Publish"},
		"Publish":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sns:publish","Parameters":{"TopicArn":"` + topic + `","Message":"hi"},
			"ResultSelector":{"id.$":"$.MessageId"},"ResultPath":"$.publish","Next":"Who"},
		"Who":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:sts:getCallerIdentity","Parameters":{},
			"ResultSelector":{"arn.$":"$.Arn","account.$":"$.Account"},"ResultPath":"$.who","Next":"Role"},
		"Role":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:iam:createRole",
			"Parameters":{"RoleName":"made-by-flow","AssumeRolePolicyDocument":"` + trust + `"},
			"ResultSelector":{"arn.$":"$.Role.Arn"},"ResultPath":"$.role","Next":"Invoke"},
		"Invoke":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:lambda:invoke","Parameters":{"FunctionName":"doubler","Payload":{"n":4}},
			"ResultSelector":{"payload.$":"States.StringToJson($.Payload)","code.$":"$.StatusCode"},"ResultPath":"$.invoke","Next":"Group"},
		"Group":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:cloudwatchlogs:createLogGroup","Parameters":{"LogGroupName":"/flow/sdk"},
			"ResultPath":null,"Next":"Groups"},
		"Groups":{"Type":"Task","Resource":"arn:aws:states:::aws-sdk:cloudwatchlogs:describeLogGroups","Parameters":{"LogGroupNamePrefix":"/flow/"},
			"ResultSelector":{"name.$":"$.LogGroups[0].LogGroupName"},"ResultPath":"$.groups","End":true}}}`
	arn := createMachine(t, cl.SFN, "sdk", def, "")
	d := runToEnd(t, cl.SFN, arn, `{}`)
	if d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
	}
	var out struct {
		Put struct{ Etag string }
		Get struct {
			Body, Type string
			Length     int
		}
		Missing struct{ Error, Cause string }
		Publish struct{ ID string }
		Who     struct{ Arn, Account string }
		Role    struct{ Arn string }
		Invoke  struct {
			Payload struct{ Doubled int }
			Code    int
		}
		Groups struct{ Name string }
	}
	if err := json.Unmarshal([]byte(aws.ToString(d.Output)), &out); err != nil {
		t.Fatal(err)
	}
	if out.Put.Etag == "" || out.Get.Body != "hello from a flow" || out.Get.Type != "text/plain" || out.Get.Length != 17 {
		t.Errorf("s3: put %+v get %+v", out.Put, out.Get)
	}
	if out.Missing.Error != "S3.NoSuchKeyException" || !strings.Contains(out.Missing.Cause, "NoSuchKey") {
		t.Errorf("missing key: %+v", out.Missing)
	}
	if out.Publish.ID == "" {
		t.Errorf("publish: %+v", out.Publish)
	}
	if out.Who.Arn != "arn:aws:sts::000000000000:assumed-role/sfn-role/sfn-role" || out.Who.Account != "000000000000" {
		t.Errorf("caller identity: %+v", out.Who)
	}
	if out.Role.Arn != "arn:aws:iam::000000000000:role/made-by-flow" {
		t.Errorf("iam role: %+v", out.Role)
	}
	if out.Invoke.Payload.Doubled != 8 || out.Invoke.Code != 200 {
		t.Errorf("invoke: %+v", out.Invoke)
	}
	if out.Groups.Name != "/flow/sdk" {
		t.Errorf("log groups: %+v", out.Groups)
	}
	obj := getObject(t, cl.S3, "flow-bucket", "greeting.txt")
	if obj != "hello from a flow" {
		t.Errorf("object %q", obj)
	}
}
