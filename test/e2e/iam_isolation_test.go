package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	logs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// isolationCall is one operation tried by another account on the owner's resources.
type isolationCall struct {
	op   string // Service.Operation
	call func(ctx context.Context) error
	// refused is the error the call gets without a grant ("403": S3's bodiless 403); "" for a
	// call that acts in the caller's own account and succeeds without touching the owner's.
	refused string
	// granted is what the call gets once the owner has granted the other account everything
	// the resource's policy can grant: "ok" success, "*" any answer but a refusal (the
	// operation ran and refused its input), another code that error; "" still refused.
	granted string
	// last marks a granted call that changes the owner's resource for good: it runs after
	// the others.
	last bool
}

// otherAccountKey is the second account of the isolation tests.
var otherAccountKey = auth.Key{AccessKeyID: "AKIAKIRITEST00000002", SecretAccessKey: "kiri-test-secret-key-0000000000000000002", AccountID: "444455556666"}

// TestIAMIsolation tries every operation of every service from another account on the
// owner's resources in strict mode: each is refused with the service's access-denied error
// (or, where the service looks names up in the caller's own account, its not-found error).
// Then the owner grants the other account what each resource's policy can grant (bucket,
// queue and topic policies, AddPermission), and the calls those grants cover succeed while
// the rest stay refused.
func TestIAMIsolation(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true, IAM: authz.Enforce, Keys: []auth.Key{
		{AccessKeyID: kiritest.TestAccessKey, SecretAccessKey: kiritest.TestSecretKey, AccountID: kiritest.TestAccount}, otherAccountKey}})
	owner := srv.Clients()
	other := srv.ClientsAs(otherAccountKey.AccessKeyID, otherAccountKey.SecretAccessKey, "")
	f := newIsolationFixture(t, srv, owner, other)
	calls := slices.Concat(f.sqsCalls(), f.snsCalls(), f.lambdaCalls(), f.logsCalls(), f.s3Calls(), f.iamCalls(), f.dynamodbCalls())

	t.Run("without grants", func(t *testing.T) {
		for _, c := range calls {
			err := c.call(t.Context())
			if c.refused == "" {
				if err != nil {
					t.Errorf("%s in the caller's own account: %v", c.op, err)
				}
				continue
			}
			if !isAPIError(err, c.refused) {
				t.Errorf("%s: %v, want %s", c.op, err, c.refused)
			}
		}
	})

	t.Run("refusals in each service's words", func(t *testing.T) {
		ctx := t.Context()
		other, a := "arn:aws:iam::"+f.other12+":root", f.ownerAcct
		for _, c := range []struct {
			name string
			err  error
			want string
		}{
			{"sqs", second(f.other.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.queueURL), MessageBody: aws.String("m")})),
				"User: " + other + " is not authorized to perform: sqs:sendmessage on resource: " + f.queueARN +
					" because no resource-based policy allows the sqs:sendmessage action"},
			{"sns", second(f.other.SNS.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.topicARN), Message: aws.String("m")})),
				"User: " + other + " is not authorized to perform: SNS:Publish on resource: " + f.topicARN +
					" because no resource-based policy allows the SNS:Publish action"},
			{"lambda", second(f.other.Lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.fnARN)})),
				"User: " + other + " is not authorized to perform: lambda:InvokeFunction on resource: " + f.fnARN +
					" because no resource-based policy allows the lambda:InvokeFunction action"},
			{"logs", second(f.other.Logs.ListTagsForResource(ctx, &logs.ListTagsForResourceInput{ResourceArn: aws.String(f.groupARN)})),
				"User: " + other + " is not authorized to perform: logs:ListTagsForResource on resource: arn:aws:logs:us-east-1:" + a +
					":log-group:" + isoName + ":log-stream: because no resource-based policy allows the logs:ListTagsForResource action"},
			{"dynamodb", second(f.other.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.tableARN),
				Key: map[string]ddbtypes.AttributeValue{"pk": ddbS("k")}})),
				"User: " + other + " is not authorized to perform: dynamodb:GetItem on resource: " + f.tableARN +
					" because no resource-based policy allows the dynamodb:GetItem action"},
			{"s3", getErr(ctx, f.other.S3, f.bucket, "k"), "Access Denied"},
		} {
			var ae smithy.APIError
			if !errors.As(c.err, &ae) || ae.ErrorMessage() != c.want {
				t.Errorf("%s: %v\nwant message %s", c.name, c.err, c.want)
			}
		}
	})

	f.grant(t)
	t.Run("with the owner's grants", func(t *testing.T) {
		var later []isolationCall
		for _, c := range calls {
			if c.last {
				later = append(later, c)
				continue
			}
			f.expectGranted(t, c)
		}
		for _, c := range later {
			f.expectGranted(t, c)
		}
	})
}

func (f *isolationFixture) expectGranted(t *testing.T, c isolationCall) {
	t.Helper()
	if c.refused == "" {
		return // acts in the caller's own account; tried once
	}
	err := c.call(t.Context())
	switch c.granted {
	case "":
		if !isAPIError(err, c.refused) {
			t.Errorf("%s, which the grants do not cover: %v, want %s", c.op, err, c.refused)
		}
	case "ok":
		if err != nil {
			t.Errorf("%s with a grant: %v", c.op, err)
		}
	case "*":
		if err != nil && isAPIError(err, c.refused) {
			t.Errorf("%s with a grant: still refused: %v", c.op, err)
		}
	default:
		if !isAPIError(err, c.granted) {
			t.Errorf("%s with a grant: %v, want %s", c.op, err, c.granted)
		}
	}
}

// isAPIError reports whether err is the AWS error code, or for "403" any HTTP 403.
func isAPIError(err error, code string) bool {
	if code == "403" {
		var re interface{ HTTPStatusCode() int }
		return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden
	}
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == code
}

// refusal is a refusal a call found in an answer's body (DeleteObjects' per-key errors).
func refusal(code string) error { return &smithy.GenericAPIError{Code: code} }

// isolationFixture holds the owner's resources and the clients of both accounts.
type isolationFixture struct {
	srv                *kiritest.Server
	owner, other       *kiritest.Clients
	ownerAcct, other12 string

	queueURL, queueARN, otherQueueARN string
	topicARN, subARN                  string
	fnARN, mappingUUID                string
	groupARN                          string
	tableARN                          string
	bucket, uploadID                  string
	sharedRole, policyARN             string
	zip                               []byte // the function's code
}

const isoName = "iso-owner"

func newIsolationFixture(t *testing.T, srv *kiritest.Server, owner, other *kiritest.Clients) *isolationFixture {
	t.Helper()
	ctx := t.Context()
	a := kiritest.TestAccount
	f := &isolationFixture{srv: srv, owner: owner, other: other, ownerAcct: a, other12: otherAccountKey.AccountID,
		queueARN: "arn:aws:sqs:us-east-1:" + a + ":" + isoName, otherQueueARN: "arn:aws:sqs:us-east-1:" + otherAccountKey.AccountID + ":iso-b",
		fnARN: "arn:aws:lambda:us-east-1:" + a + ":function:" + isoName, groupARN: "arn:aws:logs:us-east-1:" + a + ":log-group:" + isoName,
		bucket: "iso-owner-bucket"}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("owner's %s: %v", what, err)
		}
	}
	q, err := owner.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(isoName)})
	must("queue", err)
	f.queueURL = aws.ToString(q.QueueUrl)
	_, err = other.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("iso-b")})
	must("other's queue", err)

	tp, err := owner.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(isoName)})
	must("topic", err)
	f.topicARN = aws.ToString(tp.TopicArn)
	sub, err := owner.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: tp.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(f.queueARN),
		ReturnSubscriptionArn: true})
	must("subscription", err)
	f.subARN = aws.ToString(sub.SubscriptionArn)

	f.zip = kiritest.GoFunctionZip(t, "./testdata/lambda/echo")
	role, err := createFunctionRole(ctx, owner, "iso", "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
		"arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
	must("function role", err)
	createTestFunction(t, owner.Lambda, isoName, f.zip, func(in *lambda.CreateFunctionInput) { in.Role = aws.String(role) })
	waitActive(t, owner.Lambda, isoName)
	_, err = owner.Lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String(isoName), Name: aws.String("live"), FunctionVersion: aws.String("$LATEST")})
	must("alias", err)
	m, err := owner.Lambda.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: aws.String(isoName),
		EventSourceArn: aws.String(f.queueARN), Enabled: aws.Bool(false)})
	must("event source mapping", err)
	f.mappingUUID = aws.ToString(m.UUID)

	_, err = owner.Logs.CreateLogGroup(ctx, &logs.CreateLogGroupInput{LogGroupName: aws.String(isoName)})
	must("log group", err)
	_, err = owner.Logs.CreateLogStream(ctx, &logs.CreateLogStreamInput{LogGroupName: aws.String(isoName), LogStreamName: aws.String("s")})
	must("log stream", err)

	createDDBTable(t, owner.DynamoDB, isoName, false)
	f.tableARN = "arn:aws:dynamodb:us-east-1:" + a + ":table/" + isoName
	_, err = owner.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(isoName), Item: map[string]ddbtypes.AttributeValue{"pk": ddbS("k")}})
	must("item", err)

	f.sharedRole = createRole(t, owner, "iso-shared", trustAccounts(a))
	pol, err := owner.IAM.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("iso-policy"),
		PolicyDocument: aws.String(allowDoc(`"s3:GetObject"`, "*"))})
	must("managed policy", err)
	f.policyARN = aws.ToString(pol.Policy.Arn)

	mustCreateBucket(t, owner.S3, f.bucket)
	_, err = owner.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(f.bucket), Key: aws.String("k"), Body: strings.NewReader("owner's")})
	must("object", err)
	up, err := owner.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(f.bucket), Key: aws.String("mp")})
	must("multipart upload", err)
	f.uploadID = aws.ToString(up.UploadId)
	return f
}

// grant gives the other account what each of the owner's resources can grant it.
func (f *isolationFixture) grant(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	b := f.other12
	queuePolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"other","Effect":"Allow","Principal":{"AWS":"` + b + `"},"Action":"sqs:*","Resource":"` + f.queueARN + `"}]}`
	topicPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + b + `:root"},"Action":"sns:*","Resource":"` + f.topicARN + `"}]}`
	bucketPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + b + `"},"Action":"s3:*",` +
		`"Resource":["arn:aws:s3:::` + f.bucket + `","arn:aws:s3:::` + f.bucket + `/*"]}]}`
	for what, err := range map[string]error{
		"queue policy": second(f.owner.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(f.queueURL),
			Attributes: map[string]string{"Policy": queuePolicy}})),
		"topic policy": second(f.owner.SNS.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(f.topicARN),
			AttributeName: aws.String("Policy"), AttributeValue: aws.String(topicPolicy)})),
		"function policy": second(f.owner.Lambda.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(isoName),
			StatementId: aws.String("other"), Action: aws.String("lambda:*"), Principal: aws.String(b)})),
		"role trust policy": second(f.owner.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String("iso-shared"),
			PolicyDocument: aws.String(trustAccounts(f.ownerAcct, b))})),
		"bucket policy": second(f.owner.S3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(f.bucket), Policy: aws.String(bucketPolicy)})),
	} {
		if err != nil {
			t.Fatalf("owner's %s: %v", what, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func (f *isolationFixture) sqsCalls() []isolationCall {
	c := f.other.SQS
	u := aws.String(f.queueURL)
	const denied = "AccessDenied"
	handle := base64.StdEncoding.EncodeToString([]byte(`{"taskId":"t","sourceArn":"` + f.queueARN + `"}`))
	return []isolationCall{
		{op: "sqs.CreateQueue", refused: "", call: func(ctx context.Context) error {
			return second(c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("iso-b2")}))
		}},
		{op: "sqs.ListQueues", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String("iso")})
			if err == nil && slices.ContainsFunc(out.QueueUrls, func(u string) bool { return strings.Contains(u, f.ownerAcct) }) {
				err = fmt.Errorf("lists the owner's queue: %v", out.QueueUrls)
			}
			return err
		}},
		{op: "sqs.GetQueueUrl", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(isoName), QueueOwnerAWSAccountId: aws.String(f.ownerAcct)}))
		}},
		{op: "sqs.GetQueueAttributes", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: u, AttributeNames: []sqstypes.QueueAttributeName{"All"}}))
		}},
		{op: "sqs.SendMessage", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: u, MessageBody: aws.String("from the other account")}))
		}},
		{op: "sqs.SendMessageBatch", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: u, Entries: []sqstypes.SendMessageBatchRequestEntry{
				{Id: aws.String("1"), MessageBody: aws.String("one")}}}))
		}},
		{op: "sqs.ReceiveMessage", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: u}))
		}},
		{op: "sqs.DeleteMessage", refused: denied, granted: "ReceiptHandleIsInvalid", call: func(ctx context.Context) error {
			return second(c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: u, ReceiptHandle: aws.String("not-a-handle")}))
		}},
		{op: "sqs.DeleteMessageBatch", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: u, Entries: []sqstypes.DeleteMessageBatchRequestEntry{
				{Id: aws.String("1"), ReceiptHandle: aws.String("not-a-handle")}}}))
		}},
		{op: "sqs.ChangeMessageVisibility", refused: denied, granted: "ReceiptHandleIsInvalid", call: func(ctx context.Context) error {
			return second(c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: u, ReceiptHandle: aws.String("not-a-handle")}))
		}},
		{op: "sqs.ChangeMessageVisibilityBatch", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: u,
				Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("1"), ReceiptHandle: aws.String("not-a-handle")}}}))
		}},
		{op: "sqs.PurgeQueue", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: u}))
		}},
		{op: "sqs.ListDeadLetterSourceQueues", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: u}))
		}},
		// SQS keeps these for the queue owner's account, whatever the queue's policy says.
		{op: "sqs.DeleteQueue", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: u}))
		}},
		{op: "sqs.SetQueueAttributes", refused: denied, call: func(ctx context.Context) error {
			return second(c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: u, Attributes: map[string]string{"VisibilityTimeout": "31"}}))
		}},
		{op: "sqs.TagQueue", refused: denied, call: func(ctx context.Context) error {
			return second(c.TagQueue(ctx, &sqs.TagQueueInput{QueueUrl: u, Tags: map[string]string{"by": "other"}}))
		}},
		{op: "sqs.UntagQueue", refused: denied, call: func(ctx context.Context) error {
			return second(c.UntagQueue(ctx, &sqs.UntagQueueInput{QueueUrl: u, TagKeys: []string{"by"}}))
		}},
		{op: "sqs.ListQueueTags", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListQueueTags(ctx, &sqs.ListQueueTagsInput{QueueUrl: u}))
		}},
		{op: "sqs.AddPermission", refused: denied, call: func(ctx context.Context) error {
			return second(c.AddPermission(ctx, &sqs.AddPermissionInput{QueueUrl: u, Label: aws.String("mine"),
				AWSAccountIds: []string{f.other12}, Actions: []string{"SendMessage"}}))
		}},
		{op: "sqs.RemovePermission", refused: denied, call: func(ctx context.Context) error {
			return second(c.RemovePermission(ctx, &sqs.RemovePermissionInput{QueueUrl: u, Label: aws.String("other")}))
		}},
		{op: "sqs.StartMessageMoveTask", refused: denied, call: func(ctx context.Context) error {
			return second(c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(f.queueARN)}))
		}},
		{op: "sqs.ListMessageMoveTasks", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(f.queueARN)}))
		}},
		{op: "sqs.CancelMessageMoveTask", refused: denied, call: func(ctx context.Context) error {
			return second(c.CancelMessageMoveTask(ctx, &sqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(handle)}))
		}},
	}
}

func (f *isolationFixture) snsCalls() []isolationCall {
	c := f.other.SNS
	topic := aws.String(f.topicARN)
	const denied = "AuthorizationError"
	return []isolationCall{
		{op: "sns.CreateTopic", refused: "", call: func(ctx context.Context) error {
			return second(c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(isoName)}))
		}},
		{op: "sns.ListTopics", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListTopics(ctx, &sns.ListTopicsInput{})
			if err == nil && slices.ContainsFunc(out.Topics, func(t snstypes.Topic) bool { return aws.ToString(t.TopicArn) == f.topicARN }) {
				err = errors.New("lists the owner's topic")
			}
			return err
		}},
		{op: "sns.ListSubscriptions", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListSubscriptions(ctx, &sns.ListSubscriptionsInput{})
			if err == nil && len(out.Subscriptions) > 0 {
				err = fmt.Errorf("lists subscriptions it does not own: %v", out.Subscriptions)
			}
			return err
		}},
		{op: "sns.GetTopicAttributes", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: topic}))
		}},
		{op: "sns.SetTopicAttributes", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic, AttributeName: aws.String("DisplayName"),
				AttributeValue: aws.String("renamed")}))
		}},
		{op: "sns.TagResource", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.TagResource(ctx, &sns.TagResourceInput{ResourceArn: topic, Tags: []snstypes.Tag{{Key: aws.String("by"), Value: aws.String("other")}}}))
		}},
		{op: "sns.UntagResource", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.UntagResource(ctx, &sns.UntagResourceInput{ResourceArn: topic, TagKeys: []string{"by"}}))
		}},
		{op: "sns.ListTagsForResource", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListTagsForResource(ctx, &sns.ListTagsForResourceInput{ResourceArn: topic}))
		}},
		{op: "sns.Subscribe", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sqs"), Endpoint: aws.String(f.otherQueueARN)}))
		}},
		{op: "sns.ListSubscriptionsByTopic", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: topic}))
		}},
		{op: "sns.Publish", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.Publish(ctx, &sns.PublishInput{TopicArn: topic, Message: aws.String("from the other account")}))
		}},
		{op: "sns.PublishBatch", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: topic, PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{
				{Id: aws.String("1"), Message: aws.String("one")}}}))
		}},
		{op: "sns.ConfirmSubscription", refused: denied, granted: "InvalidParameter", call: func(ctx context.Context) error {
			return second(c.ConfirmSubscription(ctx, &sns.ConfirmSubscriptionInput{TopicArn: topic, Token: aws.String(strings.Repeat("ab", 64))}))
		}},
		// A subscription stays its owner's: the topic's policy does not reach it.
		{op: "sns.GetSubscriptionAttributes", refused: denied, granted: "NotFound", call: func(ctx context.Context) error {
			return second(c.GetSubscriptionAttributes(ctx, &sns.GetSubscriptionAttributesInput{SubscriptionArn: aws.String(f.subARN)}))
		}},
		{op: "sns.SetSubscriptionAttributes", refused: denied, granted: "NotFound", call: func(ctx context.Context) error {
			return second(c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(f.subARN),
				AttributeName: aws.String("RawMessageDelivery"), AttributeValue: aws.String("true")}))
		}},
		{op: "sns.Unsubscribe", refused: denied, call: func(ctx context.Context) error {
			return second(c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(f.subARN)}))
		}},
		{op: "sns.DeleteTopic", refused: denied, granted: "ok", last: true, call: func(ctx context.Context) error {
			return second(c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic}))
		}},
	}
}

func (f *isolationFixture) lambdaCalls() []isolationCall {
	c := f.other.Lambda
	fn := aws.String(f.fnARN)
	const denied = "AccessDeniedException"
	return []isolationCall{
		{op: "lambda.ListFunctions", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListFunctions(ctx, &lambda.ListFunctionsInput{})
			if err == nil && len(out.Functions) > 0 {
				err = fmt.Errorf("lists functions it does not own: %d", len(out.Functions))
			}
			return err
		}},
		{op: "lambda.GetAccountSettings", refused: "", call: func(ctx context.Context) error {
			return second(c.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{}))
		}},
		{op: "lambda.ListEventSourceMappings", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{})
			if err == nil && len(out.EventSourceMappings) > 0 {
				err = errors.New("lists mappings it does not own")
			}
			return err
		}},
		{op: "lambda.GetFunction", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: fn}))
		}},
		{op: "lambda.GetFunctionConfiguration", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: fn}))
		}},
		{op: "lambda.Invoke", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.Invoke(ctx, &lambda.InvokeInput{FunctionName: fn, Payload: []byte(`{"from":"other"}`)}))
		}},
		{op: "lambda.InvokeAsync", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.InvokeAsync(ctx, &lambda.InvokeAsyncInput{FunctionName: fn, InvokeArgs: strings.NewReader(`{}`)}))
		}},
		{op: "lambda.InvokeWithResponseStream", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			out, err := c.InvokeWithResponseStream(ctx, &lambda.InvokeWithResponseStreamInput{FunctionName: fn, Payload: []byte(`{}`)})
			if err == nil {
				for range out.GetStream().Events() {
				}
				err = out.GetStream().Close()
			}
			return err
		}},
		{op: "lambda.PublishVersion", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: fn}))
		}},
		{op: "lambda.ListVersionsByFunction", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: fn}))
		}},
		{op: "lambda.CreateAlias", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: fn, Name: aws.String("other"), FunctionVersion: aws.String("$LATEST")}))
		}},
		{op: "lambda.GetAlias", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: fn, Name: aws.String("live")}))
		}},
		{op: "lambda.UpdateAlias", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: fn, Name: aws.String("live"), Description: aws.String("by the other account")}))
		}},
		{op: "lambda.ListAliases", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListAliases(ctx, &lambda.ListAliasesInput{FunctionName: fn}))
		}},
		{op: "lambda.GetPolicy", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: fn}))
		}},
		{op: "lambda.PutFunctionConcurrency", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: fn, ReservedConcurrentExecutions: aws.Int32(5)}))
		}},
		{op: "lambda.DeleteFunctionConcurrency", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: fn}))
		}},
		{op: "lambda.TagResource", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.TagResource(ctx, &lambda.TagResourceInput{Resource: fn, Tags: map[string]string{"by": "other"}}))
		}},
		{op: "lambda.UntagResource", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.UntagResource(ctx, &lambda.UntagResourceInput{Resource: fn, TagKeys: []string{"by"}}))
		}},
		{op: "lambda.ListTags", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(c.ListTags(ctx, &lambda.ListTagsInput{Resource: fn}))
		}},
		{op: "lambda.UpdateFunctionCode", refused: denied, granted: "ok", last: true, call: func(ctx context.Context) error {
			return second(c.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: fn, ZipFile: f.zip}))
		}},
		{op: "lambda.DeleteAlias", refused: denied, granted: "ok", last: true, call: func(ctx context.Context) error {
			return second(c.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: fn, Name: aws.String("live")}))
		}},
		// Lambda keeps these for the function's own account, whatever its policy says.
		{op: "lambda.CreateFunction", refused: denied, call: func(ctx context.Context) error {
			return second(c.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: fn, Runtime: lambdatypes.RuntimeProvidedal2023,
				Handler: aws.String("bootstrap"), Role: aws.String("arn:aws:iam::" + f.other12 + ":role/r"),
				Code: &lambdatypes.FunctionCode{ZipFile: f.zip}}))
		}},
		{op: "lambda.UpdateFunctionConfiguration", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: fn, Description: aws.String("x")}))
		}},
		{op: "lambda.GetFunctionConcurrency", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: fn}))
		}},
		{op: "lambda.AddPermission", refused: denied, call: func(ctx context.Context) error {
			return second(c.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: fn, StatementId: aws.String("mine"),
				Action: aws.String("lambda:InvokeFunction"), Principal: aws.String(f.other12)}))
		}},
		{op: "lambda.RemovePermission", refused: denied, call: func(ctx context.Context) error {
			return second(c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: fn, StatementId: aws.String("other")}))
		}},
		{op: "lambda.PutFunctionEventInvokeConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: fn, MaximumRetryAttempts: aws.Int32(1)}))
		}},
		{op: "lambda.UpdateFunctionEventInvokeConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: fn, MaximumRetryAttempts: aws.Int32(1)}))
		}},
		{op: "lambda.GetFunctionEventInvokeConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: fn}))
		}},
		{op: "lambda.DeleteFunctionEventInvokeConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: fn}))
		}},
		{op: "lambda.ListFunctionEventInvokeConfigs", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: fn}))
		}},
		{op: "lambda.CreateFunctionUrlConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.CreateFunctionUrlConfig(ctx, &lambda.CreateFunctionUrlConfigInput{FunctionName: fn, AuthType: lambdatypes.FunctionUrlAuthTypeNone}))
		}},
		{op: "lambda.GetFunctionUrlConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetFunctionUrlConfig(ctx, &lambda.GetFunctionUrlConfigInput{FunctionName: fn}))
		}},
		{op: "lambda.UpdateFunctionUrlConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateFunctionUrlConfig(ctx, &lambda.UpdateFunctionUrlConfigInput{FunctionName: fn, AuthType: lambdatypes.FunctionUrlAuthTypeAwsIam}))
		}},
		{op: "lambda.DeleteFunctionUrlConfig", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeleteFunctionUrlConfig(ctx, &lambda.DeleteFunctionUrlConfigInput{FunctionName: fn}))
		}},
		{op: "lambda.ListFunctionUrlConfigs", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListFunctionUrlConfigs(ctx, &lambda.ListFunctionUrlConfigsInput{FunctionName: fn}))
		}},
		{op: "lambda.CreateEventSourceMapping", refused: denied, call: func(ctx context.Context) error {
			return second(c.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{FunctionName: fn, EventSourceArn: aws.String(f.queueARN)}))
		}},
		// Event source mappings are looked up in the caller's account.
		{op: "lambda.GetEventSourceMapping", refused: "ResourceNotFoundException", call: func(ctx context.Context) error {
			return second(c.GetEventSourceMapping(ctx, &lambda.GetEventSourceMappingInput{UUID: aws.String(f.mappingUUID)}))
		}},
		{op: "lambda.UpdateEventSourceMapping", refused: "ResourceNotFoundException", call: func(ctx context.Context) error {
			return second(c.UpdateEventSourceMapping(ctx, &lambda.UpdateEventSourceMappingInput{UUID: aws.String(f.mappingUUID), BatchSize: aws.Int32(5)}))
		}},
		{op: "lambda.DeleteEventSourceMapping", refused: "ResourceNotFoundException", call: func(ctx context.Context) error {
			return second(c.DeleteEventSourceMapping(ctx, &lambda.DeleteEventSourceMappingInput{UUID: aws.String(f.mappingUUID)}))
		}},
		{op: "lambda.DeleteFunction", refused: denied, granted: "ok", last: true, call: func(ctx context.Context) error {
			return second(c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: fn}))
		}},
	}
}

func (f *isolationFixture) logsCalls() []isolationCall {
	c := f.other.Logs
	name, group := aws.String(isoName), aws.String(f.groupARN)
	stream := aws.String("s")
	// Logs looks names up in the caller's account (the other account has no such group), and
	// refuses another account's group named by its ARN: log groups have no resource policies.
	const missing, denied = "ResourceNotFoundException", "AccessDeniedException"
	return []isolationCall{
		{op: "logs.CreateLogGroup", refused: "", call: func(ctx context.Context) error {
			return second(c.CreateLogGroup(ctx, &logs.CreateLogGroupInput{LogGroupName: aws.String("iso-b")}))
		}},
		{op: "logs.DescribeLogGroups", refused: "", call: func(ctx context.Context) error {
			out, err := c.DescribeLogGroups(ctx, &logs.DescribeLogGroupsInput{})
			if err == nil && slices.ContainsFunc(out.LogGroups, func(g logstypes.LogGroup) bool { return aws.ToString(g.LogGroupName) == isoName }) {
				err = errors.New("lists the owner's log group")
			}
			return err
		}},
		{op: "logs.DeleteLogGroup", refused: missing, call: func(ctx context.Context) error {
			return second(c.DeleteLogGroup(ctx, &logs.DeleteLogGroupInput{LogGroupName: name}))
		}},
		{op: "logs.CreateLogStream", refused: missing, call: func(ctx context.Context) error {
			return second(c.CreateLogStream(ctx, &logs.CreateLogStreamInput{LogGroupName: name, LogStreamName: aws.String("s2")}))
		}},
		{op: "logs.DeleteLogStream", refused: missing, call: func(ctx context.Context) error {
			return second(c.DeleteLogStream(ctx, &logs.DeleteLogStreamInput{LogGroupName: name, LogStreamName: stream}))
		}},
		{op: "logs.PutLogEvents", refused: missing, call: func(ctx context.Context) error {
			return second(c.PutLogEvents(ctx, &logs.PutLogEventsInput{LogGroupName: name, LogStreamName: stream,
				LogEvents: []logstypes.InputLogEvent{{Message: aws.String("m"), Timestamp: aws.Int64(1)}}}))
		}},
		{op: "logs.PutRetentionPolicy", refused: missing, call: func(ctx context.Context) error {
			return second(c.PutRetentionPolicy(ctx, &logs.PutRetentionPolicyInput{LogGroupName: name, RetentionInDays: aws.Int32(1)}))
		}},
		{op: "logs.DeleteRetentionPolicy", refused: missing, call: func(ctx context.Context) error {
			return second(c.DeleteRetentionPolicy(ctx, &logs.DeleteRetentionPolicyInput{LogGroupName: name}))
		}},
		{op: "logs.TagLogGroup", refused: missing, call: func(ctx context.Context) error {
			return second(c.TagLogGroup(ctx, &logs.TagLogGroupInput{LogGroupName: name, Tags: map[string]string{"by": "other"}}))
		}},
		{op: "logs.UntagLogGroup", refused: missing, call: func(ctx context.Context) error {
			return second(c.UntagLogGroup(ctx, &logs.UntagLogGroupInput{LogGroupName: name, Tags: []string{"by"}}))
		}},
		{op: "logs.ListTagsLogGroup", refused: missing, call: func(ctx context.Context) error {
			return second(c.ListTagsLogGroup(ctx, &logs.ListTagsLogGroupInput{LogGroupName: name}))
		}},
		{op: "logs.DescribeLogStreams", refused: denied, call: func(ctx context.Context) error {
			return second(c.DescribeLogStreams(ctx, &logs.DescribeLogStreamsInput{LogGroupIdentifier: group}))
		}},
		{op: "logs.GetLogEvents", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetLogEvents(ctx, &logs.GetLogEventsInput{LogGroupIdentifier: group, LogStreamName: stream}))
		}},
		{op: "logs.FilterLogEvents", refused: denied, call: func(ctx context.Context) error {
			return second(c.FilterLogEvents(ctx, &logs.FilterLogEventsInput{LogGroupIdentifier: group}))
		}},
		{op: "logs.TagResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.TagResource(ctx, &logs.TagResourceInput{ResourceArn: group, Tags: map[string]string{"by": "other"}}))
		}},
		{op: "logs.UntagResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.UntagResource(ctx, &logs.UntagResourceInput{ResourceArn: group, TagKeys: []string{"by"}}))
		}},
		{op: "logs.ListTagsForResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListTagsForResource(ctx, &logs.ListTagsForResourceInput{ResourceArn: group}))
		}},
	}
}

// iamCalls are IAM's and STS's: IAM has no resource policies, so another account's entities
// stay out of reach whatever the owner grants, except a role whose trust policy names the
// other account, which it may then assume.
func (f *isolationFixture) iamCalls() []isolationCall {
	c, s := f.other.IAM, f.other.STS
	const denied = "AccessDenied"
	return []isolationCall{
		{op: "iam.ListRoles", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListRoles(ctx, &iam.ListRolesInput{})
			if err == nil && len(out.Roles) > 0 {
				err = fmt.Errorf("lists roles it does not own: %d", len(out.Roles))
			}
			return err
		}},
		{op: "iam.ListPolicies", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListPolicies(ctx, &iam.ListPoliciesInput{Scope: iamtypes.PolicyScopeTypeLocal})
			if err == nil && len(out.Policies) > 0 {
				err = fmt.Errorf("lists policies it does not own: %d", len(out.Policies))
			}
			return err
		}},
		{op: "iam.GetPolicy", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(f.policyARN)}))
		}},
		{op: "iam.GetPolicyVersion", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(f.policyARN), VersionId: aws.String("v1")}))
		}},
		{op: "iam.DeletePolicy", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(f.policyARN)}))
		}},
		{op: "iam.SimulatePrincipalPolicy", refused: denied, call: func(ctx context.Context) error {
			return second(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String(f.sharedRole),
				ActionNames: []string{"s3:GetObject"}}))
		}},
		{op: "sts.AssumeRole", refused: denied, granted: "ok", call: func(ctx context.Context) error {
			return second(s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(f.sharedRole), RoleSessionName: aws.String("other")}))
		}},
		{op: "sts.AssumeRole of the function's role", refused: denied, call: func(ctx context.Context) error {
			return second(s.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + f.ownerAcct + ":role/iso"),
				RoleSessionName: aws.String("other")}))
		}},
	}
}

func (f *isolationFixture) s3Calls() []isolationCall {
	c := f.other.S3
	b := aws.String(f.bucket)
	k := aws.String("k")
	const denied = "403"
	call := func(op, granted string, do func(ctx context.Context) error) isolationCall {
		return isolationCall{op: "s3." + op, refused: denied, granted: granted, call: do}
	}
	return []isolationCall{
		{op: "s3.ListBuckets", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
			if err == nil && len(out.Buckets) > 0 {
				err = fmt.Errorf("lists buckets it does not own: %d", len(out.Buckets))
			}
			return err
		}},
		{op: "s3.CreateBucket", refused: "BucketAlreadyExists", granted: "BucketAlreadyExists", call: func(ctx context.Context) error {
			return second(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b}))
		}},
		call("HeadBucket", "ok", func(ctx context.Context) error { return second(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b})) }),
		call("GetBucketLocation", "ok", func(ctx context.Context) error {
			return second(c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b}))
		}),
		call("ListObjects", "ok", func(ctx context.Context) error { return second(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: b})) }),
		call("ListObjectsV2", "ok", func(ctx context.Context) error {
			return second(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}))
		}),
		call("ListObjectVersions", "ok", func(ctx context.Context) error {
			return second(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b}))
		}),
		call("GetBucketVersioning", "ok", func(ctx context.Context) error {
			return second(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b}))
		}),
		call("PutBucketVersioning", "ok", func(ctx context.Context) error {
			return second(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}))
		}),
		call("GetBucketAcl", "ok", func(ctx context.Context) error { return second(c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: b})) }),
		call("PutBucketAcl", "ok", func(ctx context.Context) error {
			return second(c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: b, ACL: s3types.BucketCannedACLPrivate}))
		}),
		call("GetBucketPolicyStatus", "ok", func(ctx context.Context) error {
			return second(c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: b}))
		}),
		// S3 keeps the bucket policy for the owner's account, whatever the policy says.
		call("GetBucketPolicy", "", func(ctx context.Context) error {
			return second(c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: b}))
		}),
		call("PutBucketPolicy", "", func(ctx context.Context) error {
			return second(c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: b, Policy: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + f.bucket + `/*"}]}`)}))
		}),
		call("DeleteBucketPolicy", "", func(ctx context.Context) error {
			return second(c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: b}))
		}),
		call("PutBucketTagging", "ok", func(ctx context.Context) error {
			return second(c.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{{Key: aws.String("by"), Value: aws.String("other")}}}}))
		}),
		call("GetBucketTagging", "ok", func(ctx context.Context) error {
			return second(c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b}))
		}),
		call("DeleteBucketTagging", "ok", func(ctx context.Context) error {
			return second(c.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b}))
		}),
		call("PutBucketCors", "ok", func(ctx context.Context) error {
			return second(c.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: b, CORSConfiguration: &s3types.CORSConfiguration{
				CORSRules: []s3types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}}}}}))
		}),
		call("GetBucketCors", "ok", func(ctx context.Context) error {
			return second(c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: b}))
		}),
		call("DeleteBucketCors", "ok", func(ctx context.Context) error {
			return second(c.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: b}))
		}),
		call("PutBucketEncryption", "ok", func(ctx context.Context) error {
			return second(c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
				Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256}}}}}))
		}),
		call("GetBucketEncryption", "ok", func(ctx context.Context) error {
			return second(c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}))
		}),
		call("DeleteBucketEncryption", "ok", func(ctx context.Context) error {
			return second(c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b}))
		}),
		call("PutBucketLifecycleConfiguration", "ok", func(ctx context.Context) error {
			return second(c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
				LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{ID: aws.String("r"),
					Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("tmp/")},
					Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}}}}))
		}),
		call("GetBucketLifecycleConfiguration", "ok", func(ctx context.Context) error {
			return second(c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: b}))
		}),
		call("DeleteBucketLifecycle", "ok", func(ctx context.Context) error {
			return second(c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b}))
		}),
		call("PutBucketNotificationConfiguration", "ok", func(ctx context.Context) error {
			return second(c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: b,
				NotificationConfiguration: &s3types.NotificationConfiguration{}}))
		}),
		call("GetBucketNotificationConfiguration", "ok", func(ctx context.Context) error {
			return second(c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: b}))
		}),
		call("PutBucketOwnershipControls", "ok", func(ctx context.Context) error {
			return second(c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &s3types.OwnershipControls{
				Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}))
		}),
		call("GetBucketOwnershipControls", "ok", func(ctx context.Context) error {
			return second(c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: b}))
		}),
		call("DeleteBucketOwnershipControls", "ok", func(ctx context.Context) error {
			return second(c.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: b}))
		}),
		call("PutPublicAccessBlock", "ok", func(ctx context.Context) error {
			return second(c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{}}))
		}),
		call("GetPublicAccessBlock", "ok", func(ctx context.Context) error {
			return second(c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: b}))
		}),
		call("DeletePublicAccessBlock", "ok", func(ctx context.Context) error {
			return second(c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b}))
		}),
		call("PutObjectLockConfiguration", "*", func(ctx context.Context) error {
			return second(c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: b,
				ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}}))
		}),
		call("GetObjectLockConfiguration", "*", func(ctx context.Context) error {
			return second(c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: b}))
		}),
		call("PutObjectRetention", "*", func(ctx context.Context) error {
			return second(c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: b, Key: k, Retention: &s3types.ObjectLockRetention{
				Mode: s3types.ObjectLockRetentionModeGovernance, RetainUntilDate: aws.Time(time.Now().Add(time.Hour))}}))
		}),
		call("GetObjectRetention", "*", func(ctx context.Context) error {
			return second(c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: b, Key: k}))
		}),
		call("PutObjectLegalHold", "*", func(ctx context.Context) error {
			return second(c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{Bucket: b, Key: k,
				LegalHold: &s3types.ObjectLockLegalHold{Status: s3types.ObjectLockLegalHoldStatusOff}}))
		}),
		call("GetObjectLegalHold", "*", func(ctx context.Context) error {
			return second(c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: b, Key: k}))
		}),
		call("PutObject", "ok", func(ctx context.Context) error {
			return second(c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("by-other"), Body: strings.NewReader("x")}))
		}),
		call("GetObject", "ok", func(ctx context.Context) error { return getErr(ctx, c, f.bucket, "k") }),
		call("HeadObject", "ok", func(ctx context.Context) error {
			return second(c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}))
		}),
		call("GetObjectAttributes", "ok", func(ctx context.Context) error {
			return second(c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: k, ObjectAttributes: []s3types.ObjectAttributes{"ETag"}}))
		}),
		call("CopyObject", "ok", func(ctx context.Context) error {
			return second(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: aws.String("copy"), CopySource: aws.String(f.bucket + "/k")}))
		}),
		call("GetObjectAcl", "ok", func(ctx context.Context) error {
			return second(c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: b, Key: k}))
		}),
		call("PutObjectAcl", "ok", func(ctx context.Context) error {
			return second(c.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: b, Key: k, ACL: s3types.ObjectCannedACLPrivate}))
		}),
		call("PutObjectTagging", "ok", func(ctx context.Context) error {
			return second(c.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: b, Key: k, Tagging: &s3types.Tagging{TagSet: []s3types.Tag{}}}))
		}),
		call("GetObjectTagging", "ok", func(ctx context.Context) error {
			return second(c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: k}))
		}),
		call("DeleteObjectTagging", "ok", func(ctx context.Context) error {
			return second(c.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: b, Key: k}))
		}),
		call("DeleteObject", "ok", func(ctx context.Context) error {
			return second(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("by-other")}))
		}),
		// DeleteObjects answers each key's refusal in its result.
		{op: "s3.DeleteObjects", refused: "AccessDenied", granted: "ok", call: func(ctx context.Context) error {
			out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("copy")}}}})
			if err == nil && len(out.Errors) > 0 {
				err = refusal(aws.ToString(out.Errors[0].Code))
			}
			return err
		}},
		call("CreateMultipartUpload", "ok", func(ctx context.Context) error {
			return second(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("other-mp")}))
		}),
		call("UploadPart", "ok", func(ctx context.Context) error {
			return second(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: b, Key: aws.String("mp"), UploadId: aws.String(f.uploadID),
				PartNumber: aws.Int32(1), Body: strings.NewReader("part")}))
		}),
		call("UploadPartCopy", "ok", func(ctx context.Context) error {
			return second(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: aws.String("mp"), UploadId: aws.String(f.uploadID),
				PartNumber: aws.Int32(2), CopySource: aws.String(f.bucket + "/k")}))
		}),
		call("ListParts", "ok", func(ctx context.Context) error {
			return second(c.ListParts(ctx, &s3.ListPartsInput{Bucket: b, Key: aws.String("mp"), UploadId: aws.String(f.uploadID)}))
		}),
		call("ListMultipartUploads", "ok", func(ctx context.Context) error {
			return second(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b}))
		}),
		call("CompleteMultipartUpload", "*", func(ctx context.Context) error {
			return second(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: aws.String(f.uploadID),
				MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: aws.String(`"0"`)}}}}))
		}),
		{op: "s3.AbortMultipartUpload", refused: denied, granted: "ok", last: true, call: func(ctx context.Context) error {
			return second(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: aws.String("mp"), UploadId: aws.String(f.uploadID)}))
		}},
		{op: "s3.DeleteBucket", refused: denied, granted: "BucketNotEmpty", last: true, call: func(ctx context.Context) error {
			return second(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b}))
		}},
	}
}

// dynamodbCalls are DynamoDB's: a table named by its name is looked up in the caller's own
// account (where it does not exist); named by its ARN, another account's table is refused, as
// Kiri's tables have no resource policies, so grants change nothing.
func (f *isolationFixture) dynamodbCalls() []isolationCall {
	c := f.other.DynamoDB
	tbl := aws.String(f.tableARN)
	key := map[string]ddbtypes.AttributeValue{"pk": ddbS("k")}
	const missing, denied = "ResourceNotFoundException", "AccessDeniedException"
	return []isolationCall{
		{op: "dynamodb.ListTables", refused: "", call: func(ctx context.Context) error {
			out, err := c.ListTables(ctx, &dynamodb.ListTablesInput{})
			if err == nil && slices.Contains(out.TableNames, isoName) {
				err = errors.New("lists the owner's table")
			}
			return err
		}},
		{op: "dynamodb.GetItem by name", refused: missing, call: func(ctx context.Context) error {
			return second(c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(isoName), Key: key}))
		}},
		{op: "dynamodb.DescribeTable", refused: denied, call: func(ctx context.Context) error {
			return second(c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: tbl}))
		}},
		{op: "dynamodb.UpdateTable", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: tbl, DeletionProtectionEnabled: aws.Bool(true)}))
		}},
		{op: "dynamodb.DeleteTable", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: tbl}))
		}},
		{op: "dynamodb.PutItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.PutItem(ctx, &dynamodb.PutItemInput{TableName: tbl, Item: key}))
		}},
		{op: "dynamodb.GetItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.GetItem(ctx, &dynamodb.GetItemInput{TableName: tbl, Key: key}))
		}},
		{op: "dynamodb.UpdateItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tbl, Key: key}))
		}},
		{op: "dynamodb.DeleteItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tbl, Key: key}))
		}},
		{op: "dynamodb.Query", refused: denied, call: func(ctx context.Context) error {
			return second(c.Query(ctx, &dynamodb.QueryInput{TableName: tbl, KeyConditionExpression: aws.String("pk = :k"),
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":k": ddbS("k")}}))
		}},
		{op: "dynamodb.Scan", refused: denied, call: func(ctx context.Context) error {
			return second(c.Scan(ctx, &dynamodb.ScanInput{TableName: tbl}))
		}},
		{op: "dynamodb.BatchGetItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]ddbtypes.KeysAndAttributes{f.tableARN: {Keys: []map[string]ddbtypes.AttributeValue{key}}}}))
		}},
		{op: "dynamodb.BatchWriteItem", refused: denied, call: func(ctx context.Context) error {
			return second(c.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]ddbtypes.WriteRequest{f.tableARN: {{PutRequest: &ddbtypes.PutRequest{Item: key}}}}}))
		}},
		{op: "dynamodb.TransactWriteItems", refused: denied, call: func(ctx context.Context) error {
			return second(c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{TableName: tbl, Item: key}}}}))
		}},
		{op: "dynamodb.TransactGetItems", refused: denied, call: func(ctx context.Context) error {
			return second(c.TransactGetItems(ctx, &dynamodb.TransactGetItemsInput{TransactItems: []ddbtypes.TransactGetItem{{Get: &ddbtypes.Get{TableName: tbl, Key: key}}}}))
		}},
		{op: "dynamodb.UpdateTimeToLive", refused: denied, call: func(ctx context.Context) error {
			return second(c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: tbl,
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("e"), Enabled: aws.Bool(true)}}))
		}},
		{op: "dynamodb.DescribeTimeToLive", refused: denied, call: func(ctx context.Context) error {
			return second(c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: tbl}))
		}},
		{op: "dynamodb.TagResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: tbl, Tags: []ddbtypes.Tag{{Key: aws.String("by"), Value: aws.String("other")}}}))
		}},
		{op: "dynamodb.UntagResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.UntagResource(ctx, &dynamodb.UntagResourceInput{ResourceArn: tbl, TagKeys: []string{"by"}}))
		}},
		{op: "dynamodb.ListTagsOfResource", refused: denied, call: func(ctx context.Context) error {
			return second(c.ListTagsOfResource(ctx, &dynamodb.ListTagsOfResourceInput{ResourceArn: tbl}))
		}},
		{op: "dynamodb.ExecuteStatement", refused: denied, call: func(ctx context.Context) error {
			return second(c.ExecuteStatement(ctx, &dynamodb.ExecuteStatementInput{Statement: aws.String(`SELECT * FROM "` + f.tableARN + `"`)}))
		}},
	}
}
