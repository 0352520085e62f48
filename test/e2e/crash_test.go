package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	_ "modernc.org/sqlite"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestCrashKeepsAcknowledgedWrites kills Kiri with SIGKILL under load from 16 writers,
// restarts it, and checks every acknowledged write survived, over several cycles. Later
// services add their write paths to crashPaths.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs Kiri as a subprocess for several seconds")
	}
	opts := kiritest.CrashOptions{
		Paths:  crashPaths(),
		Server: kiritest.Options{Strict: true},
		Settle: settleOutbox,
	}
	kiritest.RunCrash(t, opts)
}

func crashPaths() []kiritest.WritePath {
	return []kiritest.WritePath{assumeRolePath{}}
}

// assumeRolePath writes through STS AssumeRole: the issued credentials are rows in the store,
// and each issue also enqueues an audit record in the outbox in the same transaction.
type assumeRolePath struct{}

type issuedCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken, Arn string
}

func (assumeRolePath) Name() string { return "sts.AssumeRole" }

func (assumeRolePath) Prepare(context.Context, *kiritest.Clients) error { return nil }

func (assumeRolePath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	out, err := c.STS.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(fmt.Sprintf("arn:aws:iam::%s:role/crash-%d", kiritest.TestAccount, worker)),
		RoleSessionName: aws.String(fmt.Sprintf("s%d", seq)),
	})
	if err != nil {
		return "", err
	}
	ack, err := json.Marshal(issuedCredentials{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Arn:             aws.ToString(out.AssumedRoleUser.Arn),
	})
	return string(ack), err
}

// Verify signs a request with every acknowledged credential: strict mode accepts it only if
// the credential survived.
func (assumeRolePath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		work = make(chan string)
	)
	for range 16 {
		wg.Go(func() {
			for ack := range work {
				var cr issuedCredentials
				json.Unmarshal([]byte(ack), &cr)
				if err := verifyCredential(ctx, c, cr); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, a := range acks {
		work <- a
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d credentials lost, e.g. %s", len(errs), len(acks), errs[0])
	}
	return nil
}

func verifyCredential(ctx context.Context, c *kiritest.Clients, cr issuedCredentials) error {
	cfg := c.Config.Copy()
	cfg.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken}, nil
	})
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("%s: %w", cr.AccessKeyID, err)
	}
	if aws.ToString(who.Arn) != cr.Arn {
		return fmt.Errorf("%s acts as %s, want %s", cr.AccessKeyID, aws.ToString(who.Arn), cr.Arn)
	}
	return nil
}

// settleOutbox checks the outbox resumed after the crashes: every acknowledged credential
// issue has its audit record delivered, and nothing is left undelivered.
func settleOutbox(t *testing.T, p *kiritest.Process, acks map[string][]string) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.DataDir(), "kiri.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := make(map[string]bool)
	for _, a := range acks[assumeRolePath{}.Name()] {
		var cr issuedCredentials
		json.Unmarshal([]byte(a), &cr)
		want[cr.AccessKeyID] = true
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing, pending := auditGaps(t, db, want)
		if missing == 0 && pending == 0 {
			t.Logf("outbox: all %d acknowledged issues have their audit record delivered (waited %s)", len(want), time.Since(deadline.Add(-60*time.Second)).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox did not resume: %d audit records missing, %d audit records undelivered", missing, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func auditGaps(t *testing.T, db *sql.DB, want map[string]bool) (missing, pending int) {
	rows, err := db.Query(`SELECT issued_key_id FROM sts_audit`)
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool)
	for rows.Next() {
		var k string
		rows.Scan(&k)
		have[k] = true
	}
	rows.Close()
	for k := range want {
		if !have[k] {
			missing++
		}
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM kiri_outbox WHERE topic = 'sts.audit'`).Scan(&pending); err != nil && !strings.Contains(err.Error(), "no such") {
		t.Fatal(err)
	}
	return missing, pending
}
