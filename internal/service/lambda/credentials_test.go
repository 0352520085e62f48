package lambda

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Instances keep the credentials they start with, so renewing a role's credentials must also
// move invocations to new instances: otherwise a function in constant use would keep starting
// instances with the first credentials until they expire.
func TestRenewedCredentialsStartNewInstances(t *testing.T) {
	s, ctx := testService(t)
	issued := 0
	s.deps.Credentials = func(ctx context.Context, account, role, session string, d time.Duration) (string, string, string, error) {
		issued++
		return fmt.Sprintf("ASIAKIRITEST%08d", issued), "secret", "token", nil
	}
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return clock }
	sha := storeZip(t, s, ctx, buildZip(t, zipEntry{"bootstrap", "#!/bin/sh\n", 0o755}))
	tg := &target{account: "000000000000", region: "us-east-1", name: "f", version: "$LATEST",
		role: "arn:aws:iam::000000000000:role/r", codeSha: sha, fingerprint: strings.Repeat("a", 64)}
	fn := func() (key, accessKey string) {
		t.Helper()
		f, err := s.function(ctx, tg)
		if err != nil {
			t.Fatal(err)
		}
		return f.Key, f.Environment["AWS_ACCESS_KEY_ID"]
	}
	key1, ak1 := fn()
	clock = clock.Add(time.Hour)
	key2, ak2 := fn()
	if key2 != key1 || ak2 != ak1 {
		t.Fatalf("before renewal: key %q, %q and credentials %q, %q; want both unchanged", key1, key2, ak1, ak2)
	}
	clock = clock.Add(roleSessionDuration / 2)
	key3, ak3 := fn()
	if key3 == key1 || ak3 == ak1 {
		t.Fatalf("after renewal: key %q (was %q), credentials %q (were %q); want both new", key3, key1, ak3, ak1)
	}
	if prefix := poolPrefix(tg.account, tg.region, tg.name); !strings.HasPrefix(key3, prefix) {
		t.Errorf("key %q lost the function's prefix %q, which Drain relies on", key3, prefix)
	}
}
