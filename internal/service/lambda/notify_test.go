package lambda

import "testing"

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
		if err := s.st.QueryRow(ctx, "SELECT COUNT(*) FROM kiri_outbox WHERE topic = ?", topicAsync).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := s.DeliverEvent(ctx, arn, s3, bucket, account, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 0 {
		t.Fatalf("without a permission, %d invocations were queued", n)
	}
	if err := s.DeliverEvent(ctx, arn, s3, "", "", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 1 {
		t.Fatalf("an event without its source: %d invocations queued, want 1", n)
	}
	if _, err := s.addPermission(ctx, &AddPermissionRequest{FunctionName: ptr("onupload"), StatementId: ptr("s3"),
		Action: ptr("lambda:InvokeFunction"), Principal: ptr(s3), SourceArn: ptr(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeliverEvent(ctx, arn, s3, bucket, account, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if n := queued(); n != 2 {
		t.Fatalf("with the permission: %d invocations queued, want 2", n)
	}
}
