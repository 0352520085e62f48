package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

const (
	iamKeyID    = "AKIAIAMUSERKEY000001"
	iamSecret   = "iam-user-secret-key-00000000000000000001"
	iamUserARN  = "arn:aws:iam::123456789012:user/dev/alice"
	iamUserID   = "AIDAALICEEXAMPLE00001"
	inactiveKey = "AKIAIAMUSERKEY000002"
)

// fakeLongTermKeys is an in-memory LongTermKeys that records uses.
type fakeLongTermKeys struct {
	mu   sync.Mutex
	used []string
}

func (f *fakeLongTermKeys) LookupLongTermKey(_ context.Context, id string) (Key, bool, error) {
	if id != iamKeyID {
		return Key{}, false, nil // unknown, or inactive (inactiveKey)
	}
	return Key{AccessKeyID: id, SecretAccessKey: iamSecret, AccountID: testAccount, PrincipalARN: iamUserARN, UserID: iamUserID,
		Session: Session{Tags: map[string]string{"team": "blue"}}}, true, nil
}

func (f *fakeLongTermKeys) KeyUsed(id, service, region string, _ time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.used = append(f.used, id+" "+service+" "+region)
}

func TestVerifyIAMLongTermKeys(t *testing.T) {
	long := &fakeLongTermKeys{}
	a := New(Config{Mode: Strict, LongTerm: long, Temporary: testTemporaryKeys(),
		Keys: []Key{{AccessKeyID: testKeyID, SecretAccessKey: testSecret, AccountID: testAccount}}, Now: testClock})
	ctx := context.Background()

	r := request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true,
		creds: aws.Credentials{AccessKeyID: iamKeyID, SecretAccessKey: iamSecret}}.sign(t)
	id, err := a.Verify(ctx, r, nil, targetS3)
	if err != nil {
		t.Fatalf("a key IAM made is refused: %v", err)
	}
	if id.PrincipalARN != iamUserARN || id.UserID != iamUserID || id.AccountID != testAccount || id.Session.Tags["team"] != "blue" || id.Temporary {
		t.Fatalf("identity = %v tags %v, want the user's", id, id.Session.Tags)
	}
	if len(long.used) != 1 || long.used[0] != iamKeyID+" s3 us-east-1" {
		t.Errorf("uses recorded %v, want one for s3 in us-east-1", long.used)
	}

	// An inactive or deleted key is refused as an unknown one.
	r = request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true,
		creds: aws.Credentials{AccessKeyID: inactiveKey, SecretAccessKey: iamSecret}}.sign(t)
	_, err = a.Verify(ctx, r, nil, targetS3)
	wantAWSError(t, err, "InvalidAccessKeyId", 403)

	// The keys file's keys still sign as their account's root, and are not looked up in IAM.
	r = request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true}.sign(t)
	if id, err = a.Verify(ctx, r, nil, targetS3); err != nil || id.PrincipalARN != "arn:aws:iam::"+testAccount+":root" {
		t.Fatalf("keys file key: %v, %v", id, err)
	}

	// A session token with a long-term key is refused.
	r = request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true,
		creds: aws.Credentials{AccessKeyID: iamKeyID, SecretAccessKey: iamSecret, SessionToken: "x"}}.sign(t)
	_, err = a.Verify(ctx, r, nil, targetS3)
	wantAWSError(t, err, "InvalidToken", 400)
}

func TestVerifyDevModeIAMKeyActsAsItsUser(t *testing.T) {
	a := New(Config{Mode: Dev, LongTerm: &fakeLongTermKeys{}, Now: testClock})
	r := request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true,
		creds: aws.Credentials{AccessKeyID: iamKeyID, SecretAccessKey: "anything"}}.sign(t)
	id, err := a.Verify(context.Background(), r, nil, targetS3)
	if err != nil {
		t.Fatal(err)
	}
	if id.PrincipalARN != iamUserARN || id.AccountID != testAccount {
		t.Fatalf("identity = %v, want the user's", id)
	}
}
