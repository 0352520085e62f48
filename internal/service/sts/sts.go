// Package sts implements the AWS Security Token Service: who the caller is, and temporary
// credentials (GetSessionToken, AssumeRole) that Kiri's auth then accepts. Issued credentials
// live in the store; each issue also writes, in the same transaction, an audit record and a
// timed queue message that deletes the credentials when they expire.
package sts

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sts -package sts -out api_gen.go

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// Queues this service sends to and handles.
const (
	topicAudit  = "sts.audit"
	topicExpire = "sts.expire"
)

var migrations = []store.Migration{{
	Version: 1,
	SQL: `
CREATE TABLE sts_credentials (
	access_key_id TEXT PRIMARY KEY,
	secret_access_key TEXT NOT NULL,
	session_token TEXT NOT NULL,
	account_id TEXT NOT NULL,
	principal_arn TEXT NOT NULL,
	user_id TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE TABLE sts_audit (
	request_id TEXT PRIMARY KEY,
	event_time BIGINT NOT NULL,
	event_name TEXT NOT NULL,
	account_id TEXT NOT NULL,
	principal_arn TEXT NOT NULL,
	issued_key_id TEXT NOT NULL,
	detail TEXT NOT NULL
);`,
}}

// Service is the STS API.
type Service struct {
	api   *awsproto.Service
	st    *store.Store
	queue *queue.Engine
	log   *slog.Logger
	now   func() time.Time
	opts  options
}

// options adjusts STS. The zero value is dev mode's.
type options struct {
	// OwnAccountRoles lets a caller assume only roles of its own account, as strict mode needs
	// while Kiri has no IAM roles: with no role to hold a trust policy, no role trusts another
	// account, and any role ARN of the caller's own account is taken as existing. Default false
	// (dev mode, where every caller is one account anyway).
	OwnAccountRoles bool
}

// New migrates STS's tables, registers its operations and its queue handlers.
func New(ctx context.Context, d service.Deps) (*Service, error) {
	st := d.Store
	if err := st.Migrate(ctx, "sts", migrations); err != nil {
		return nil, fmt.Errorf("migrate sts: %w", err)
	}
	api, err := awsproto.NewService("sts", awsproto.ServiceOptions{})
	if err != nil {
		return nil, err
	}
	opts := options{OwnAccountRoles: d.Config.Auth == auth.Strict}
	s := &Service{api: api, st: st, queue: d.Queue, log: d.Logger, now: time.Now, opts: opts}
	awsproto.Handle(api, "GetCallerIdentity", s.getCallerIdentity)
	awsproto.Handle(api, "GetSessionToken", s.getSessionToken)
	awsproto.Handle(api, "AssumeRole", s.assumeRole)
	d.Queue.Handle(topicAudit, s.recordAudit, queue.HandlerOptions{})
	d.Queue.Handle(topicExpire, s.expireCredentials, queue.HandlerOptions{})
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

// RoleCredentials issues temporary credentials of a role for a Kiri service acting on its own
// behalf in account, as Lambda assumes a function's execution role: AssumeRole without a
// caller, audited as the service. The role must be one of account's (see Options).
func (s *Service) RoleCredentials(ctx context.Context, service, account, roleARN, session string, d time.Duration) (auth.Key, error) {
	role, err := parseRoleARN(roleARN)
	if err != nil {
		return auth.Key{}, err
	}
	if s.opts.OwnAccountRoles && role.account != account {
		return auth.Key{}, fmt.Errorf("role %s is not in account %s", roleARN, account)
	}
	roleID := role.id()
	principal := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", role.partition, role.account, role.name, session)
	c := &awsproto.Call{RequestID: randomBase32(16), AccountID: role.account, PrincipalARN: service}
	return s.issue(ctx, c, role.account, principal, roleID+":"+session, d, "AssumeRole")
}

func (s *Service) getCallerIdentity(ctx context.Context, _ *GetCallerIdentityRequest) (*GetCallerIdentityResponse, error) {
	c := awsproto.CallFrom(ctx)
	return &GetCallerIdentityResponse{
		Account: awsproto.Ptr(c.AccountID),
		Arn:     awsproto.Ptr(c.PrincipalARN),
		UserId:  awsproto.Ptr(c.UserID),
	}, nil
}

func (s *Service) getSessionToken(ctx context.Context, in *GetSessionTokenRequest) (*GetSessionTokenResponse, error) {
	c := awsproto.CallFrom(ctx)
	if _, temporary, err := s.LookupTemporaryKey(ctx, c.AccessKeyID); err != nil {
		return nil, err
	} else if temporary {
		return nil, awsproto.Errorf("AccessDenied", 403, "Cannot call GetSessionToken with session credentials")
	}
	duration := durationOr(in.DurationSeconds, 12*time.Hour)
	key, err := s.issue(ctx, c, c.AccountID, c.PrincipalARN, c.UserID, duration, "GetSessionToken")
	if err != nil {
		return nil, err
	}
	return &GetSessionTokenResponse{Credentials: credentials(key)}, nil
}

func (s *Service) assumeRole(ctx context.Context, in *AssumeRoleRequest) (*AssumeRoleResponse, error) {
	c := awsproto.CallFrom(ctx)
	role, err := parseRoleARN(awsproto.Value(in.RoleArn))
	if err != nil {
		return nil, err
	}
	session := awsproto.Value(in.RoleSessionName)
	if !validSessionName(session) {
		return nil, awsproto.Errorf("ValidationError", 400,
			"1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", session)
	}
	if s.opts.OwnAccountRoles && role.account != c.AccountID {
		return nil, awsproto.Errorf("AccessDenied", 403, "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", c.PrincipalARN, role.raw)
	}
	roleID := role.id()
	principal := fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", role.partition, role.account, role.name, session)
	duration := durationOr(in.DurationSeconds, time.Hour)
	key, err := s.issue(ctx, c, role.account, principal, roleID+":"+session, duration, "AssumeRole")
	if err != nil {
		return nil, err
	}
	out := &AssumeRoleResponse{
		Credentials: credentials(key),
		AssumedRoleUser: &AssumedRoleUser{
			AssumedRoleId: awsproto.Ptr(roleID + ":" + session),
			Arn:           awsproto.Ptr(principal),
		},
		SourceIdentity: in.SourceIdentity,
	}
	if in.Policy != nil {
		// AWS reports the packed size as a percentage of the allowed maximum.
		out.PackedPolicySize = awsproto.Ptr(int32(min(len(*in.Policy)*100/2048, 100)))
	}
	return out, nil
}

// issue creates and stores temporary credentials, with their audit record and their expiry,
// in one transaction.
func (s *Service) issue(ctx context.Context, c *awsproto.Call, account, principal, userID string, d time.Duration, event string) (auth.Key, error) {
	now := s.now()
	key := auth.Key{
		AccessKeyID:     "ASIA" + randomBase32(12),
		SecretAccessKey: randomBase64(30),
		SessionToken:    randomBase64(192),
		AccountID:       account,
		PrincipalARN:    principal,
		UserID:          userID,
		Expiration:      now.Add(d).Truncate(time.Second),
	}
	detail, err := json.Marshal(auditRecord{
		RequestID: c.RequestID, Time: now.UnixMilli(), Event: event,
		CallerAccount: c.AccountID, Caller: c.PrincipalARN, CallerKey: c.AccessKeyID,
		IssuedKey: key.AccessKeyID, IssuedAccount: account, IssuedPrincipal: principal,
	})
	if err != nil {
		return auth.Key{}, err
	}
	trace := telemetry.TraceParent(ctx)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`INSERT INTO sts_credentials
			(access_key_id, secret_access_key, session_token, account_id, principal_arn, user_id, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			key.AccessKeyID, key.SecretAccessKey, key.SessionToken, key.AccountID, key.PrincipalARN, key.UserID,
			key.Expiration.UnixMilli()); err != nil {
			return err
		}
		if _, err := s.queue.Send(tx, topicAudit, queue.Outgoing{Body: detail, TraceParent: trace}); err != nil {
			return err
		}
		_, err := s.queue.Send(tx, topicExpire, queue.Outgoing{Body: []byte(key.AccessKeyID), At: key.Expiration})
		return err
	})
	if err != nil {
		return auth.Key{}, fmt.Errorf("store credentials: %w", err)
	}
	return key, nil
}

// LookupTemporaryKey implements auth.TemporaryKeys over the credentials STS has issued.
func (s *Service) LookupTemporaryKey(ctx context.Context, accessKeyID string) (auth.Key, bool, error) {
	if len(accessKeyID) < 4 || accessKeyID[:4] != "ASIA" {
		return auth.Key{}, false, nil
	}
	k := auth.Key{AccessKeyID: accessKeyID}
	var expires int64
	err := s.st.QueryRow(ctx, `SELECT secret_access_key, session_token, account_id, principal_arn, user_id, expires_at
		FROM sts_credentials WHERE access_key_id = ?`, accessKeyID).
		Scan(&k.SecretAccessKey, &k.SessionToken, &k.AccountID, &k.PrincipalARN, &k.UserID, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Key{}, false, nil
	}
	if err != nil {
		return auth.Key{}, false, fmt.Errorf("look up temporary key: %w", err)
	}
	k.Expiration = time.UnixMilli(expires)
	return k, true, nil
}

// auditRecord is one credential issue, kept in sts_audit as a security trail.
type auditRecord struct {
	RequestID       string `json:"requestId"`
	Time            int64  `json:"eventTime"`
	Event           string `json:"eventName"`
	CallerAccount   string `json:"callerAccount"`
	Caller          string `json:"callerArn"`
	CallerKey       string `json:"callerAccessKeyId"`
	IssuedKey       string `json:"issuedAccessKeyId"`
	IssuedAccount   string `json:"issuedAccount"`
	IssuedPrincipal string `json:"issuedArn"`
}

func (s *Service) recordAudit(ctx context.Context, rec queue.Message) error {
	var a auditRecord
	if err := json.Unmarshal(rec.Body, &a); err != nil {
		return queue.Permanent(fmt.Errorf("decode audit record: %w", err))
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO sts_audit (request_id, event_time, event_name, account_id, principal_arn, issued_key_id, detail)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
			a.RequestID, a.Time, a.Event, a.CallerAccount, a.Caller, a.IssuedKey, string(rec.Body))
		return err
	})
}

func (s *Service) expireCredentials(ctx context.Context, rec queue.Message) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM sts_credentials WHERE access_key_id = ?`, string(rec.Body))
		return err
	})
}

func credentials(k auth.Key) *Credentials {
	return &Credentials{
		AccessKeyId:     awsproto.Ptr(k.AccessKeyID),
		SecretAccessKey: awsproto.Ptr(k.SecretAccessKey),
		SessionToken:    awsproto.Ptr(k.SessionToken),
		Expiration:      awsproto.Ptr(k.Expiration.UTC()),
	}
}

func durationOr(seconds *int32, def time.Duration) time.Duration {
	if seconds == nil {
		return def
	}
	return time.Duration(*seconds) * time.Second
}

var upperBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// randomBase32 returns n random bytes as upper-case base32, the alphabet of AWS key ids.
func randomBase32(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return upperBase32.EncodeToString(b)
}

func randomBase64(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
