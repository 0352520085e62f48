package lambda

import (
	"errors"
	"testing"

	"github.com/kiri-run/kiri/internal/dispatch"
)

// An S3 event reaches a function only while the function's policy lets S3 invoke it; an event
// recorded without its source (queued before sources were kept) is delivered as before.
func TestDeliverEventNeedsThePermission(t *testing.T) {
	s, ctx := testService(t)
	fn := createFn(t, s, ctx, "onupload", buildZip(t, zipEntry{"a.py", "def h(e, c): pass", 0o644}))
	arn := *fn.FunctionArn
	const s3, bucket, account = "s3.amazonaws.com", "arn:aws:s3:::uploads", "000000000000"
	queued := func() int {
		t.Helper()
		var n int
		if err := s.st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_queue_messages WHERE queue = ?", topicAsync).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	deliver := func(src dispatch.Source) error {
		return kind{s}.Deliver(ctx, dispatch.Delivery{Target: arn, Source: src, Payload: []byte(`{}`)})
	}
	src := dispatch.Source{Principal: s3, ARN: bucket, Account: account}
	if err := (kind{s}).Check(ctx, arn, src); !errors.Is(err, dispatch.ErrTargetDenied) {
		t.Fatalf("Check without a permission = %v, want ErrTargetDenied", err)
	}
	if err := deliver(src); !errors.Is(err, dispatch.ErrTargetDenied) {
		t.Fatalf("Deliver without a permission = %v, want ErrTargetDenied", err)
	}
	if n := queued(); n != 0 {
		t.Fatalf("without a permission, %d invocations were queued", n)
	}
	if err := deliver(dispatch.Source{Principal: s3}); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 1 {
		t.Fatalf("an event without its source: %d invocations queued, want 1", n)
	}
	if _, err := s.addPermission(ctx, &AddPermissionRequest{FunctionName: ptr("onupload"), StatementId: ptr("s3"),
		Action: ptr("lambda:InvokeFunction"), Principal: ptr(s3), SourceArn: ptr(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := (kind{s}).Check(ctx, arn, src); err != nil {
		t.Fatalf("Check with the permission: %v", err)
	}
	if err := deliver(src); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 2 {
		t.Fatalf("with the permission: %d invocations queued, want 2", n)
	}
}

func TestMissingFunctionIsNoTarget(t *testing.T) {
	s, ctx := testService(t)
	arn := "arn:aws:lambda:us-east-1:000000000000:function:nobody"
	if err := (kind{s}).Check(ctx, arn, dispatch.Source{Principal: "s3.amazonaws.com"}); !errors.Is(err, dispatch.ErrNoTarget) {
		t.Errorf("Check = %v, want ErrNoTarget", err)
	}
	if err := (kind{s}).Deliver(ctx, dispatch.Delivery{Target: arn, Payload: []byte("{}")}); !errors.Is(err, dispatch.ErrNoTarget) {
		t.Errorf("Deliver = %v, want ErrNoTarget", err)
	}
}

// A delivery made as a role of the function's account (a schedule's execution role) needs no
// resource policy while IAM is off; one from another account still does.
func TestRoleDeliveryFromTheFunctionsAccount(t *testing.T) {
	s, ctx := testService(t)
	fn := createFn(t, s, ctx, "onschedule", buildZip(t, zipEntry{"a.py", "def h(e, c): pass", 0o644}))
	src := dispatch.Source{Principal: "scheduler.amazonaws.com", ARN: "arn:aws:scheduler:us-east-1:000000000000:schedule/default/tick",
		Account: "000000000000", Role: "arn:aws:iam::000000000000:role/scheduler"}
	if err := (kind{s}).Check(ctx, *fn.FunctionArn, src); err != nil {
		t.Fatalf("Check as a role of the function's account: %v", err)
	}
	if err := (kind{s}).Deliver(ctx, dispatch.Delivery{Target: *fn.FunctionArn, Source: src, Payload: []byte(`{}`)}); err != nil {
		t.Fatalf("Deliver as a role of the function's account: %v", err)
	}
	src.Account, src.Role = "111122223333", "arn:aws:iam::111122223333:role/scheduler"
	if err := (kind{s}).Check(ctx, *fn.FunctionArn, src); !errors.Is(err, dispatch.ErrTargetDenied) {
		t.Fatalf("Check as a role of another account = %v, want ErrTargetDenied", err)
	}
}
