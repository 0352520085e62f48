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
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/oidc"
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
}, {
	// What a session carries for authorization: its role (parent), principal tags, session
	// policies, when it was issued, its transitive tag keys and source identity, which a role
	// session passes on to the sessions it assumes.
	Version: 2,
	SQL: `
ALTER TABLE sts_credentials ADD COLUMN parent_arn TEXT NOT NULL DEFAULT '';
ALTER TABLE sts_credentials ADD COLUMN tags TEXT NOT NULL DEFAULT '';
ALTER TABLE sts_credentials ADD COLUMN policies TEXT NOT NULL DEFAULT '';
ALTER TABLE sts_credentials ADD COLUMN issued_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sts_credentials ADD COLUMN transitive TEXT NOT NULL DEFAULT '';
ALTER TABLE sts_credentials ADD COLUMN source_identity TEXT NOT NULL DEFAULT '';`,
}}

// Service is the STS API.
type Service struct {
	api      *awsproto.Service
	st       *store.Store
	queue    *queue.Engine
	log      *slog.Logger
	now      func() time.Time
	authz    *authz.Authorizer
	services *service.Directory
	issuers  *oidc.Keys
	// strict is strict-mode authentication: without IAM enforcement, a caller then assumes
	// only roles of its own account.
	strict bool
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
	s := &Service{api: api, st: st, queue: d.Queue, log: d.Logger, now: time.Now, authz: d.Authz, services: d.Services,
		strict: d.Config.Auth == auth.Strict}
	s.issuers = oidc.NewKeys(s.now)
	awsproto.Handle(api, "GetCallerIdentity", s.getCallerIdentity)
	awsproto.Handle(api, "GetSessionToken", s.getSessionToken)
	awsproto.Handle(api, "AssumeRole", s.assumeRole)
	awsproto.Handle(api, "AssumeRoleWithWebIdentity", s.assumeRoleWithWebIdentity)
	d.Queue.Handle(topicAudit, s.recordAudit, queue.HandlerOptions{})
	d.Queue.Handle(topicExpire, s.expireCredentials, queue.HandlerOptions{})
	return s, nil
}

// API returns the codec-facing service to mount on the router.
func (s *Service) API() *awsproto.Service { return s.api }

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
	// The session acts as its caller, with the caller's tags.
	key, err := s.issue(ctx, c, grant{account: c.AccountID, principal: c.PrincipalARN, userID: c.UserID, duration: duration,
		event: "GetSessionToken", session: auth.Session{Tags: c.PrincipalTags}})
	if err != nil {
		return nil, err
	}
	return &GetSessionTokenResponse{Credentials: credentials(key)}, nil
}

// grant is what one issue of temporary credentials gives.
type grant struct {
	account, principal, userID string
	duration                   time.Duration
	event                      string
	session                    auth.Session
	transitive                 []string // session tag keys passed on to chained sessions
	sourceIdentity             string
}

// issue creates and stores temporary credentials, with their audit record and their expiry,
// in one transaction.
func (s *Service) issue(ctx context.Context, c *awsproto.Call, g grant) (auth.Key, error) {
	now := s.now()
	g.session.Issued = now.Truncate(time.Second)
	key := auth.Key{
		AccessKeyID:     "ASIA" + randomBase32(10)[:16],
		SecretAccessKey: randomBase64(30),
		SessionToken:    randomBase64(192),
		AccountID:       g.account,
		PrincipalARN:    g.principal,
		UserID:          g.userID,
		Expiration:      now.Add(g.duration).Truncate(time.Second),
		Session:         g.session,
	}
	detail, err := json.Marshal(auditRecord{
		RequestID: c.RequestID, Time: now.UnixMilli(), Event: g.event,
		CallerAccount: c.AccountID, Caller: c.PrincipalARN, CallerKey: c.AccessKeyID,
		IssuedKey: key.AccessKeyID, IssuedAccount: g.account, IssuedPrincipal: g.principal,
	})
	if err != nil {
		return auth.Key{}, err
	}
	tags, policies, transitive := jsonOrEmpty(g.session.Tags), jsonOrEmpty(g.session.Policies), jsonOrEmpty(g.transitive)
	trace := telemetry.TraceParent(ctx)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`INSERT INTO sts_credentials
			(access_key_id, secret_access_key, session_token, account_id, principal_arn, user_id, expires_at,
			 parent_arn, tags, policies, issued_at, transitive, source_identity)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			key.AccessKeyID, key.SecretAccessKey, key.SessionToken, key.AccountID, key.PrincipalARN, key.UserID,
			key.Expiration.UnixMilli(), g.session.ParentARN, tags, policies, g.session.Issued.UnixMilli(), transitive,
			g.sourceIdentity); err != nil {
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

// jsonOrEmpty is v as JSON, "" for an empty map or list.
func jsonOrEmpty[T any](v T) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

// LookupTemporaryKey implements auth.TemporaryKeys over the credentials STS has issued.
func (s *Service) LookupTemporaryKey(ctx context.Context, accessKeyID string) (auth.Key, bool, error) {
	k, _, ok, err := s.lookupSession(ctx, accessKeyID)
	return k, ok, err
}

// chain is what a role session passes on to the sessions it assumes.
type chain struct {
	transitive     map[string]string // transitive session tags
	sourceIdentity string
}

// lookupSession loads issued credentials, with what they pass on when chained.
func (s *Service) lookupSession(ctx context.Context, accessKeyID string) (auth.Key, chain, bool, error) {
	if len(accessKeyID) < 4 || accessKeyID[:4] != "ASIA" {
		return auth.Key{}, chain{}, false, nil
	}
	k := auth.Key{AccessKeyID: accessKeyID}
	var expires, issued int64
	var tags, policies, transitive string
	var ch chain
	err := s.st.QueryRow(ctx, `SELECT secret_access_key, session_token, account_id, principal_arn, user_id, expires_at,
		parent_arn, tags, policies, issued_at, transitive, source_identity
		FROM sts_credentials WHERE access_key_id = ?`, accessKeyID).
		Scan(&k.SecretAccessKey, &k.SessionToken, &k.AccountID, &k.PrincipalARN, &k.UserID, &expires,
			&k.Session.ParentARN, &tags, &policies, &issued, &transitive, &ch.sourceIdentity)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Key{}, chain{}, false, nil
	}
	if err != nil {
		return auth.Key{}, chain{}, false, fmt.Errorf("look up temporary key: %w", err)
	}
	k.Expiration = time.UnixMilli(expires)
	if issued != 0 {
		k.Session.Issued = time.UnixMilli(issued).UTC()
	}
	for _, f := range []struct {
		text string
		into any
	}{{tags, &k.Session.Tags}, {policies, &k.Session.Policies}} {
		if f.text != "" {
			if err := json.Unmarshal([]byte(f.text), f.into); err != nil {
				return auth.Key{}, chain{}, false, fmt.Errorf("decode session of %s: %w", accessKeyID, err)
			}
		}
	}
	if transitive != "" {
		var keys []string
		if err := json.Unmarshal([]byte(transitive), &keys); err != nil {
			return auth.Key{}, chain{}, false, fmt.Errorf("decode session of %s: %w", accessKeyID, err)
		}
		ch.transitive = map[string]string{}
		for _, key := range keys {
			if v, ok := k.Session.Tags[key]; ok {
				ch.transitive[key] = v
			}
		}
	}
	return k, ch, true, nil
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
