package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
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
	paths := append(crashPaths(), newLambdaEventPath(t))
	opts := kiritest.CrashOptions{
		Paths:  paths,
		Server: kiritest.Options{Strict: true},
		Settle: func(t *testing.T, p *kiritest.Process, acks map[string][]string) {
			settleQueues(t, p, acks)
			settleBlobs(t, p)
			logInterrupted(t, paths)
		},
	}
	kiritest.RunCrash(t, opts)
}

// logInterrupted says how many cut-short writes each path checked for partial visibility, so a
// run where the kill never caught a write in flight is visible in the log.
func logInterrupted(t *testing.T, paths []kiritest.WritePath) {
	for _, p := range paths {
		if ip, ok := p.(interface{ interrupted() int }); ok {
			t.Logf("%s: %d interrupted writes checked absent or whole", p.Name(), ip.interrupted())
		}
	}
}

func crashPaths() []kiritest.WritePath {
	return append([]kiritest.WritePath{assumeRolePath{}, newS3PutPath(), newS3MultipartPath(), newS3DeletePath(), &sqsSendPath{}, &sqsReceiveDeletePath{}, &snsPublishPath{}},
		dynamodbCrashPaths()...)
}

// assumeRolePath writes through STS AssumeRole: the issued credentials are rows in the store,
// and each issue also enqueues an audit record in the outbox in the same transaction.
type assumeRolePath struct{}

type issuedCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken, Arn string
}

func (assumeRolePath) Name() string { return "sts.AssumeRole" }

// Prepare makes each writer's role, trusting the account (strict mode enforces IAM).
func (assumeRolePath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	for worker := range 16 {
		if _, err := c.IAM.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("crash-%d", worker)),
			AssumeRolePolicyDocument: aws.String(trustAccounts(kiritest.TestAccount))}); err != nil {
			return err
		}
	}
	return nil
}

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
	return verifyEach(acks, "credentials lost", func(ack string) error {
		var cr issuedCredentials
		json.Unmarshal([]byte(ack), &cr)
		return verifyCredential(ctx, c, cr)
	})
}

// verifyEach runs check on every item with 16 workers and reports how many failed, with the
// first failure as an example.
func verifyEach(items []string, what string, check func(string) error) error {
	var (
		mu   sync.Mutex
		errs []string
		wg   sync.WaitGroup
		work = make(chan string)
	)
	for range 16 {
		wg.Go(func() {
			for item := range work {
				if err := check(item); err != nil {
					mu.Lock()
					errs = append(errs, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	for _, item := range items {
		work <- item
	}
	close(work)
	wg.Wait()
	if len(errs) > 0 {
		return fmt.Errorf("%d of %d %s, e.g. %s", len(errs), len(items), what, errs[0])
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

// settleQueues checks the queue engine resumed after the crashes: every acknowledged credential
// issue has its audit record delivered, and nothing is left undelivered.
func settleQueues(t *testing.T, p *kiritest.Process, acks map[string][]string) {
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
			t.Logf("queues: all %d acknowledged issues have their audit record delivered (waited %s)", len(want), time.Since(deadline.Add(-60*time.Second)).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued work did not resume: %d audit records missing, %d audit records undelivered", missing, pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// settleBlobs checks that the crashes left no object blob behind that nothing names: a body
// written to a blob by a PUT or an UploadPart the kill cut short before its commit. Blobs of
// deleted and overwritten objects are collected through the outbox, so it waits for them too.
func settleBlobs(t *testing.T, p *kiritest.Process) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(p.DataDir(), "kiri.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		named := namedObjectBlobs(t, db)
		files, err := filepath.Glob(filepath.Join(p.DataDir(), "blobs", "*", "obj-*"))
		if err != nil {
			t.Fatal(err)
		}
		var orphans []string
		for _, f := range files {
			if !named[filepath.Base(f)] {
				orphans = append(orphans, filepath.Base(f))
			}
		}
		if len(orphans) == 0 {
			t.Logf("blobs: all %d object blobs on disk are named by an object or a part", len(files))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d object blobs on disk are named by no object or part, e.g. %s", len(orphans), len(files), orphans[0])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// namedObjectBlobs reads the blob keys S3's rows name: objects' bodies, completed multipart
// objects' parts, and parts of uploads in progress.
func namedObjectBlobs(t *testing.T, db *sql.DB) map[string]bool {
	named := make(map[string]bool)
	for _, q := range []string{
		`SELECT blob_key FROM s3_objects WHERE blob_key != ''`,
		`SELECT blob_key FROM s3_parts WHERE blob_key != ''`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			rows.Scan(&k)
			named[k] = true
		}
		rows.Close()
	}
	rows, err := db.Query(`SELECT parts FROM s3_objects WHERE parts != '' AND parts != 'null'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var raw string
		rows.Scan(&raw)
		var parts []struct {
			BlobKey string `json:"b"`
		}
		if err := json.Unmarshal([]byte(raw), &parts); err != nil {
			t.Fatalf("parts column %q: %v", raw, err)
		}
		for _, p := range parts {
			named[p.BlobKey] = true
		}
	}
	return named
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
	if err := db.QueryRow(`SELECT COUNT(*) FROM kiri_queue_messages WHERE queue = 'sts.audit'`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	return missing, pending
}

// The S3 write paths name every object by what it holds: the key encodes the writer, the
// sequence number and the layout, and the bytes are a pure function of the key. So the
// verifier knows the exact bytes of any object it finds, acknowledged or not, and "no partial
// object is visible" can be checked byte for byte.

// s3Inflight remembers the keys a path started writing and was not acknowledged for: those
// being written when Kiri was killed (or that failed). After a restart each must be absent or
// whole.
type s3Inflight struct {
	mu   sync.Mutex
	keys map[string]bool
}

func (f *s3Inflight) start(key string) {
	f.mu.Lock()
	f.keys[key] = true
	f.mu.Unlock()
}

func (f *s3Inflight) done(key string) {
	f.mu.Lock()
	delete(f.keys, key)
	f.mu.Unlock()
}

func (f *s3Inflight) interrupted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.keys)
}

func (f *s3Inflight) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.keys))
	for k := range f.keys {
		out = append(out, k)
	}
	return out
}

// s3CrashBody returns the size bytes that key always holds.
func s3CrashBody(key string, size int) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	seed := h.Sum64()
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{0: byte(seed), 1: byte(seed >> 8), 2: byte(seed >> 16), 3: byte(seed >> 24),
		4: byte(seed >> 32), 5: byte(seed >> 40), 6: byte(seed >> 48), 7: byte(seed >> 56)}).Read(b)
	return b
}

// s3CrashSize picks an object size for seq: a third below 4 KiB, a third up to 64 KiB (both
// stored inline), a third up to 512 KiB (stored as blobs).
func s3CrashSize(seq int) int {
	r := rand.New(rand.NewPCG(uint64(seq), 7))
	switch seq % 3 {
	case 0:
		return r.IntN(4 << 10)
	case 1:
		return 4<<10 + r.IntN(60<<10)
	default:
		return 64<<10 + 1 + r.IntN(448<<10)
	}
}

func s3CrashBucket(ctx context.Context, c *kiritest.Clients, bucket string) error {
	_, err := c.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	return err
}

// s3GetWhole reads key and checks it is exactly want, and that its ETag is wantETag.
func s3GetWhole(ctx context.Context, c *kiritest.Clients, bucket, key string, want []byte, wantETag string) error {
	out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s: read %d bytes (md5 %x), want %d bytes (md5 %x)", key, len(got), md5.Sum(got), len(want), md5.Sum(want))
	}
	if etag := aws.ToString(out.ETag); etag != wantETag {
		return fmt.Errorf("%s: ETag %s, want %s", key, etag, wantETag)
	}
	return nil
}

// s3AbsentOrWhole checks that key either does not exist or is exactly want with ETag wantETag.
func s3AbsentOrWhole(ctx context.Context, c *kiritest.Clients, bucket, key string, want []byte, wantETag string) error {
	err := s3GetWhole(ctx, c, bucket, key, want, wantETag)
	var nsk *s3types.NoSuchKey
	if err == nil || errors.As(err, &nsk) {
		return nil
	}
	return fmt.Errorf("unacknowledged write is partly visible: %w", err)
}

func s3ETag(body []byte) string { return fmt.Sprintf("%q", fmt.Sprintf("%x", md5.Sum(body))) }

// s3PutPath writes objects with one PutObject each, sized so that both inline and blob bodies
// are exercised.
type s3PutPath struct{ *s3Inflight }

func newS3PutPath() s3PutPath { return s3PutPath{&s3Inflight{keys: make(map[string]bool)}} }

const s3PutBucket = "crash-put"

// s3PutAck is what an acknowledged PutObject promises.
type s3PutAck struct {
	Key  string
	Size int
	MD5  string
}

func (s3PutPath) Name() string { return "s3.PutObject" }

func (s3PutPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return s3CrashBucket(ctx, c, s3PutBucket)
}

func (p s3PutPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	size := s3CrashSize(seq)
	key := fmt.Sprintf("w%d/s%d-%d", worker, seq, size)
	body := s3CrashBody(key, size)
	p.start(key)
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s3PutBucket), Key: aws.String(key), Body: bytes.NewReader(body),
	}); err != nil {
		return "", err
	}
	p.done(key)
	ack, err := json.Marshal(s3PutAck{Key: key, Size: size, MD5: fmt.Sprintf("%x", md5.Sum(body))})
	return string(ack), err
}

// Verify reads every acknowledged object back byte for byte, and checks that every object
// whose PUT was cut short is absent or whole.
func (p s3PutPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	err := verifyEach(acks, "objects lost or damaged", func(ack string) error {
		var a s3PutAck
		json.Unmarshal([]byte(ack), &a)
		body := s3CrashBody(a.Key, a.Size)
		if got := fmt.Sprintf("%x", md5.Sum(body)); got != a.MD5 {
			return fmt.Errorf("%s: the test's own body is not reproducible (md5 %s, acked %s)", a.Key, got, a.MD5)
		}
		return s3GetWhole(ctx, c, s3PutBucket, a.Key, body, fmt.Sprintf("%q", a.MD5))
	})
	if err != nil {
		return err
	}
	return verifyEach(p.list(), "interrupted PUTs visible in part", func(key string) error {
		var worker, seq, size int
		fmt.Sscanf(key, "w%d/s%d-%d", &worker, &seq, &size)
		body := s3CrashBody(key, size)
		return s3AbsentOrWhole(ctx, c, s3PutBucket, key, body, s3ETag(body))
	})
}

// s3MultipartPath writes objects through CreateMultipartUpload, UploadPart and
// CompleteMultipartUpload. Most uploads are one small part; one in twenty has a 5 MiB part and
// a small tail, as parts but the last must be at least 5 MiB.
type s3MultipartPath struct{ *s3Inflight }

func newS3MultipartPath() s3MultipartPath {
	return s3MultipartPath{&s3Inflight{keys: make(map[string]bool)}}
}

const s3MultipartBucket = "crash-multipart"

// s3MultipartLayout returns the part sizes of key's upload.
func s3MultipartLayout(seq int) []int {
	tail := s3CrashSize(seq)
	if (seq/4)%20 == 0 {
		return []int{5 << 20, tail + 1}
	}
	return []int{tail + 1}
}

func s3MultipartKey(worker, seq int, parts []int) string {
	key := fmt.Sprintf("w%d/s%d", worker, seq)
	for _, n := range parts {
		key += fmt.Sprintf("-%d", n)
	}
	return key
}

// s3MultipartExpect returns the object key holds and the ETag S3 gives it: the MD5 of the
// parts' MD5s, then "-" and the number of parts.
func s3MultipartExpect(key string) (body []byte, etag string) {
	var sizes []int
	for _, f := range strings.Split(key, "-")[1:] {
		n, _ := strconv.Atoi(f)
		sizes = append(sizes, n)
	}
	total := 0
	for _, n := range sizes {
		total += n
	}
	body = s3CrashBody(key, total)
	var sums []byte
	off := 0
	for _, n := range sizes {
		sum := md5.Sum(body[off : off+n])
		sums = append(sums, sum[:]...)
		off += n
	}
	return body, fmt.Sprintf("\"%x-%d\"", md5.Sum(sums), len(sizes))
}

func (s3MultipartPath) Name() string { return "s3.CompleteMultipartUpload" }

func (s3MultipartPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return s3CrashBucket(ctx, c, s3MultipartBucket)
}

func (p s3MultipartPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	sizes := s3MultipartLayout(seq)
	key := s3MultipartKey(worker, seq, sizes)
	body, _ := s3MultipartExpect(key)
	p.start(key)
	up, err := c.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(s3MultipartBucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	var done []s3types.CompletedPart
	off := 0
	for i, n := range sizes {
		part, err := c.S3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(s3MultipartBucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body[off : off+n]),
		})
		if err != nil {
			return "", err
		}
		done = append(done, s3types.CompletedPart{ETag: part.ETag, PartNumber: aws.Int32(int32(i + 1))})
		off += n
	}
	if _, err := c.S3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s3MultipartBucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done},
	}); err != nil {
		return "", err
	}
	p.done(key)
	return key, nil
}

// Verify reads every completed upload back byte for byte with its multipart ETag, and checks
// that every upload cut short is absent or whole.
func (p s3MultipartPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	check := func(whole bool) func(string) error {
		return func(key string) error {
			body, etag := s3MultipartExpect(key)
			if whole {
				return s3GetWhole(ctx, c, s3MultipartBucket, key, body, etag)
			}
			return s3AbsentOrWhole(ctx, c, s3MultipartBucket, key, body, etag)
		}
	}
	if err := verifyEach(acks, "completed uploads lost or damaged", check(true)); err != nil {
		return err
	}
	return verifyEach(p.list(), "interrupted uploads visible in part", check(false))
}

// s3DeletePath puts an object and deletes it; the ack is the deleted key, which must stay gone.
type s3DeletePath struct{ *s3Inflight }

func newS3DeletePath() s3DeletePath { return s3DeletePath{&s3Inflight{keys: make(map[string]bool)}} }

const s3DeleteBucket = "crash-delete"

func (s3DeletePath) Name() string { return "s3.DeleteObject" }

func (s3DeletePath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	return s3CrashBucket(ctx, c, s3DeleteBucket)
}

func (p s3DeletePath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	size := s3CrashSize(seq)
	key := fmt.Sprintf("w%d/s%d-%d", worker, seq, size)
	p.start(key)
	if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s3DeleteBucket), Key: aws.String(key), Body: bytes.NewReader(s3CrashBody(key, size)),
	}); err != nil {
		return "", err
	}
	if _, err := c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s3DeleteBucket), Key: aws.String(key)}); err != nil {
		return "", err
	}
	p.done(key)
	return key, nil
}

// Verify checks every acknowledged delete stayed deleted (HEAD answers 404), and that every
// key whose put or delete was cut short is absent or whole.
func (p s3DeletePath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	err := verifyEach(acks, "deleted objects came back", func(key string) error {
		_, err := c.S3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s3DeleteBucket), Key: aws.String(key)})
		var re interface{ HTTPStatusCode() int }
		if err == nil {
			return fmt.Errorf("%s: HEAD found the deleted object", key)
		}
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotFound {
			return fmt.Errorf("%s: HEAD: %w, want 404", key, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return verifyEach(p.list(), "interrupted put+delete visible in part", func(key string) error {
		var worker, seq, size int
		fmt.Sscanf(key, "w%d/s%d-%d", &worker, &seq, &size)
		body := s3CrashBody(key, size)
		return s3AbsentOrWhole(ctx, c, s3DeleteBucket, key, body, s3ETag(body))
	})
}

// TestS3CrashVerifiersCatchLossAndDamage proves the S3 crash verifiers are not vacuous: each
// rejects a lost object, a damaged one, and a partly written one it was not acknowledged for.
func TestS3CrashVerifiersCatchLossAndDamage(t *testing.T) {
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	ctx := context.Background()
	c := srv.Clients()
	put, multipart, del := newS3PutPath(), newS3MultipartPath(), newS3DeletePath()
	for _, p := range []kiritest.WritePath{put, multipart, del} {
		if err := p.Prepare(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	overwrite := func(bucket, key string, body []byte) {
		t.Helper()
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	putAck, err := put.Write(ctx, c, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	var pa s3PutAck
	json.Unmarshal([]byte(putAck), &pa)
	mpuKey, err := multipart.Write(ctx, c, 0, 6)
	if err != nil {
		t.Fatal(err)
	}
	delKey, err := del.Write(ctx, c, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []kiritest.WritePath{put, multipart, del} {
		acks := map[string][]string{put.Name(): {putAck}, multipart.Name(): {mpuKey}, del.Name(): {delKey}}[p.Name()]
		if err := p.Verify(ctx, c, acks); err != nil {
			t.Fatalf("%s: intact writes fail verification: %v", p.Name(), err)
		}
	}
	lost, _ := json.Marshal(s3PutAck{Key: "w0/s1-10", Size: 10, MD5: fmt.Sprintf("%x", md5.Sum(s3CrashBody("w0/s1-10", 10)))})
	for _, tc := range []struct {
		name   string
		path   kiritest.WritePath
		acks   []string
		damage func()
	}{
		{"an acknowledged PUT that is gone", put, []string{string(lost)}, func() {}},
		{"an acknowledged PUT that reads back different", put, []string{putAck}, func() {
			overwrite(s3PutBucket, pa.Key, make([]byte, pa.Size))
		}},
		{"an interrupted PUT that is visible in part", put, nil, func() {
			put.start("w1/s9-1000")
			overwrite(s3PutBucket, "w1/s9-1000", s3CrashBody("w1/s9-1000", 1000)[:500])
		}},
		{"a completed upload whose ETag is not the multipart one", multipart, []string{mpuKey}, func() {
			body, _ := s3MultipartExpect(mpuKey)
			overwrite(s3MultipartBucket, mpuKey, body)
		}},
		{"an acknowledged delete whose object came back", del, []string{delKey}, func() {
			overwrite(s3DeleteBucket, delKey, []byte("back"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.damage()
			if err := tc.path.Verify(ctx, c, tc.acks); err == nil {
				t.Fatal("verification passed")
			} else {
				t.Logf("caught: %v", err)
			}
		})
	}
}
