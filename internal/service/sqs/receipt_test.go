package sqs

import (
	"testing"

	"github.com/kiri-run/kiri/internal/queue"
)

func TestReceiptHandles(t *testing.T) {
	t.Parallel()
	r := queue.Receipt{ID: 123456789, Token: "0123456789abcdef"}
	h := encodeReceipt(42, r)
	qid, got, ok := decodeReceipt(h)
	if !ok || qid != 42 || got != r {
		t.Fatalf("decodeReceipt(%q) = %d %+v %v", h, qid, got, ok)
	}
	for name, bad := range map[string]string{
		"empty":            "",
		"not base64":       "not a handle!",
		"another version":  encodeReceipt(42, r)[1:],
		"no token":         encodeReceipt(42, queue.Receipt{ID: 1}),
		"a token with '_'": encodeReceipt(42, queue.Receipt{ID: 1, Token: "a_b"}),
		"a token with '%'": encodeReceipt(42, queue.Receipt{ID: 1, Token: "a%b"}),
		"too long":         string(make([]byte, maxReceiptHandle+1)),
	} {
		if _, _, ok := decodeReceipt(bad); ok {
			t.Errorf("%s: %q was accepted", name, bad)
		}
	}
}

func FuzzReceiptHandle(f *testing.F) {
	f.Add(encodeReceipt(1, queue.Receipt{ID: 1, Token: "ab12"}))
	f.Add("AQEBMWIwNWE0ZTkwZmY3Mjg3OA")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		qid, r, ok := decodeReceipt(h)
		if !ok {
			return
		}
		if qid <= 0 || r.ID <= 0 || r.Token == "" {
			t.Fatalf("decodeReceipt(%q) accepted %d %+v", h, qid, r)
		}
		if _, err := queue.ParseReceipt(r.String()); err != nil {
			t.Fatalf("decodeReceipt(%q) gave a receipt the engine refuses: %v", h, err)
		}
		if q2, r2, ok := decodeReceipt(encodeReceipt(qid, r)); !ok || q2 != qid || r2 != r {
			t.Fatalf("a decoded handle does not survive encoding")
		}
	})
}
