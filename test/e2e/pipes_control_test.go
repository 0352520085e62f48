package e2e

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestPipeValidation refuses what Pipes refuses, and what Kiri's pipes do not do, with
// ValidationException naming the field; nothing is created.
func TestPipeValidation(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	sqsQueue(t, cl.SQS, "v-src", nil)
	src, dst := queueARN("v-src"), queueARN("v-dst")
	base := func(mod func(*pipes.CreatePipeInput)) *pipes.CreatePipeInput {
		in := &pipes.CreatePipeInput{Name: aws.String("v"), RoleArn: aws.String(pipeRole), Source: aws.String(src), Target: aws.String(dst)}
		mod(in)
		return in
	}
	cases := []struct {
		name  string
		in    *pipes.CreatePipeInput
		field string
	}{
		{"a Kinesis source", base(func(in *pipes.CreatePipeInput) {
			in.Source = aws.String("arn:aws:kinesis:us-east-1:000000000000:stream/s")
		}), "Source"},
		{"a DynamoDB stream without its parameters", base(func(in *pipes.CreatePipeInput) {
			in.Source = aws.String("arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2026-01-01T00:00:00.000")
		}), "SourceParameters.DynamoDBStreamParameters"},
		{"parameters of another source", base(func(in *pipes.CreatePipeInput) {
			in.SourceParameters = &ptypes.PipeSourceParameters{KinesisStreamParameters: &ptypes.PipeSourceKinesisStreamParameters{StartingPosition: "LATEST"}}
		}), "SourceParameters.KinesisStreamParameters"},
		{"a batch above 10 without a batching window", base(func(in *pipes.CreatePipeInput) {
			in.SourceParameters = &ptypes.PipeSourceParameters{SqsQueueParameters: &ptypes.PipeSourceSqsQueueParameters{BatchSize: aws.Int32(100)}}
		}), "SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds"},
		{"an invalid filter pattern", base(func(in *pipes.CreatePipeInput) {
			in.SourceParameters = &ptypes.PipeSourceParameters{FilterCriteria: &ptypes.FilterCriteria{Filters: []ptypes.Filter{{Pattern: aws.String(`{"a": 1}`)}}}}
		}), "SourceParameters.FilterCriteria"},
		{"an API Gateway enrichment", base(func(in *pipes.CreatePipeInput) {
			in.Enrichment = aws.String("arn:aws:execute-api:us-east-1:000000000000:abc123/prod/POST/enrich")
		}), "Enrichment"},
		{"parameters of another target", base(func(in *pipes.CreatePipeInput) {
			in.TargetParameters = &ptypes.PipeTargetParameters{LambdaFunctionParameters: &ptypes.PipeTargetLambdaFunctionParameters{}}
		}), "TargetParameters.LambdaFunctionParameters"},
		{"a FIFO queue target without a message group", base(func(in *pipes.CreatePipeInput) {
			in.Target = aws.String(queueARN("v-dst.fifo"))
		}), "TargetParameters.SqsQueueParameters.MessageGroupId"},
		{"an unknown template variable", base(func(in *pipes.CreatePipeInput) {
			in.TargetParameters = &ptypes.PipeTargetParameters{InputTemplate: aws.String(`<aws.pipes.nope>`)}
		}), "TargetParameters.InputTemplate"},
		{"execution logs", base(func(in *pipes.CreatePipeInput) {
			in.LogConfiguration = &ptypes.PipeLogConfigurationParameters{Level: ptypes.LogLevelInfo}
		}), "LogConfiguration"},
		{"a name the model refuses", base(func(in *pipes.CreatePipeInput) { in.Name = aws.String("bad name!") }), "name"},
		{"a role that is not a role ARN", base(func(in *pipes.CreatePipeInput) { in.RoleArn = aws.String("arn:aws:iam::000000000000:user/u") }), "roleArn"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := cl.Pipes.CreatePipe(t.Context(), c.in)
			var ve *ptypes.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationException", err)
			}
			if len(ve.FieldList) != 1 || aws.ToString(ve.FieldList[0].Name) != c.field || aws.ToString(ve.FieldList[0].Message) == "" {
				t.Fatalf("fieldList %+v (message %q), want %s", ve.FieldList, ve.ErrorMessage(), c.field)
			}
		})
	}
	list, err := cl.Pipes.ListPipes(t.Context(), &pipes.ListPipesInput{})
	if err != nil || len(list.Pipes) != 0 {
		t.Fatalf("ListPipes = %v, %v: a refused pipe was created", list, err)
	}
	_, err = cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("nope")})
	var nf *ptypes.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribePipe of a missing pipe: %v", err)
	}
}

// TestPipeControlPlane creates, describes, lists (filtered and paged), tags, updates and
// deletes pipes, and fails a pipe whose source does not exist as Pipes does.
func TestPipeControlPlane(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	cl := srv.Clients()
	for _, q := range []string{"c-a", "c-b", "c-dst"} {
		sqsQueue(t, cl.SQS, q, nil)
	}
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("alpha"), Source: aws.String(queueARN("c-a")), Target: aws.String(queueARN("c-dst")),
		Description: aws.String("first"), Tags: map[string]string{"team": "a"}})
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("beta"), Source: aws.String(queueARN("c-b")), Target: aws.String(queueARN("c-dst"))})
	out, err := cl.Pipes.CreatePipe(t.Context(), &pipes.CreatePipeInput{Name: aws.String("gamma"), RoleArn: aws.String(pipeRole),
		Source: aws.String(queueARN("c-missing")), Target: aws.String(queueARN("c-dst")), DesiredState: ptypes.RequestedPipeStateStopped})
	if err != nil || out.DesiredState != ptypes.RequestedPipeStateStopped {
		t.Fatalf("CreatePipe stopped: %v %v", out, err)
	}
	waitPipeState(t, cl.Pipes, "gamma", ptypes.PipeStateStopped)
	_, err = cl.Pipes.CreatePipe(t.Context(), &pipes.CreatePipeInput{Name: aws.String("alpha"), RoleArn: aws.String(pipeRole),
		Source: aws.String(queueARN("c-a")), Target: aws.String(queueARN("c-dst"))})
	var conflict *ptypes.ConflictException
	if !errors.As(err, &conflict) || aws.ToString(conflict.ResourceId) != "alpha" {
		t.Fatalf("second CreatePipe alpha: %v", err)
	}

	d, err := cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("alpha")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(d.Arn) != "arn:aws:pipes:us-east-1:000000000000:pipe/alpha" || aws.ToString(d.Description) != "first" ||
		d.Tags["team"] != "a" || aws.ToInt32(d.SourceParameters.SqsQueueParameters.BatchSize) != 10 || aws.ToString(d.RoleArn) != pipeRole {
		t.Fatalf("DescribePipe %+v", d)
	}

	names := func(in *pipes.ListPipesInput) string {
		var got []string
		for {
			out, err := cl.Pipes.ListPipes(t.Context(), in)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range out.Pipes {
				got = append(got, aws.ToString(p.Name)+"="+string(p.CurrentState))
			}
			if out.NextToken == nil {
				return strings.Join(got, ",")
			}
			in.NextToken = out.NextToken
		}
	}
	for _, c := range []struct {
		in   *pipes.ListPipesInput
		want string
	}{
		{&pipes.ListPipesInput{Limit: aws.Int32(1)}, "alpha=RUNNING,beta=RUNNING,gamma=STOPPED"},
		{&pipes.ListPipesInput{NamePrefix: aws.String("b")}, "beta=RUNNING"},
		{&pipes.ListPipesInput{SourcePrefix: aws.String(queueARN("c-a"))}, "alpha=RUNNING"},
		{&pipes.ListPipesInput{TargetPrefix: aws.String(queueARN("c-d"))}, "alpha=RUNNING,beta=RUNNING,gamma=STOPPED"},
		{&pipes.ListPipesInput{DesiredState: ptypes.RequestedPipeStateStopped}, "gamma=STOPPED"},
		{&pipes.ListPipesInput{CurrentState: ptypes.PipeStateRunning}, "alpha=RUNNING,beta=RUNNING"},
	} {
		if got := names(c.in); got != c.want {
			t.Errorf("ListPipes %+v = %s, want %s", c.in, got, c.want)
		}
	}

	// Starting a pipe whose source does not exist fails it, as Pipes reports it.
	if _, err := cl.Pipes.StartPipe(t.Context(), &pipes.StartPipeInput{Name: aws.String("gamma")}); err != nil {
		t.Fatal(err)
	}
	failed := waitPipeState(t, cl.Pipes, "gamma", ptypes.PipeStateStartFailed)
	if !strings.Contains(aws.ToString(failed.StateReason), "The specified queue does not exist") {
		t.Fatalf("StateReason %q", aws.ToString(failed.StateReason))
	}

	arn := aws.ToString(d.Arn)
	if _, err := cl.Pipes.TagResource(t.Context(), &pipes.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Pipes.UntagResource(t.Context(), &pipes.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := cl.Pipes.ListTagsForResource(t.Context(), &pipes.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "dev" {
		t.Fatalf("tags %v, %v", tags, err)
	}

	up, err := cl.Pipes.UpdatePipe(t.Context(), &pipes.UpdatePipeInput{Name: aws.String("alpha"), RoleArn: aws.String(pipeRole),
		Description: aws.String("second"), SourceParameters: &ptypes.UpdatePipeSourceParameters{
			SqsQueueParameters: &ptypes.UpdatePipeSourceSqsQueueParameters{BatchSize: aws.Int32(5)}}})
	if err != nil || up.CurrentState != ptypes.PipeStateUpdating {
		t.Fatalf("UpdatePipe %v, %v", up, err)
	}
	d = waitPipeState(t, cl.Pipes, "alpha", ptypes.PipeStateRunning)
	if aws.ToString(d.Description) != "second" || aws.ToInt32(d.SourceParameters.SqsQueueParameters.BatchSize) != 5 {
		t.Fatalf("after UpdatePipe %+v", d)
	}

	del, err := cl.Pipes.DeletePipe(t.Context(), &pipes.DeletePipeInput{Name: aws.String("alpha")})
	if err != nil || del.CurrentState != ptypes.PipeStateDeleting || del.DesiredState != ptypes.RequestedPipeStateDescribeResponseDeleted {
		t.Fatalf("DeletePipe %v, %v", del, err)
	}
	eventually(t, 10*time.Second, "alpha gone", func() bool {
		_, err := cl.Pipes.DescribePipe(t.Context(), &pipes.DescribePipeInput{Name: aws.String("alpha")})
		var nf *ptypes.NotFoundException
		return errors.As(err, &nf)
	})
}
