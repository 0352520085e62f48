package iam

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxKeysPerUser is IAM's quota of access keys per user.
const maxKeysPerUser = 2

func (s *Service) registerKeys() {
	awsproto.Handle(s.api, "CreateAccessKey", s.createAccessKey)
	awsproto.Handle(s.api, "ListAccessKeys", s.listAccessKeys)
	awsproto.Handle(s.api, "UpdateAccessKey", s.updateAccessKey)
	awsproto.Handle(s.api, "DeleteAccessKey", s.deleteAccessKey)
	awsproto.Handle(s.api, "GetAccessKeyLastUsed", s.getAccessKeyLastUsed)
}

// keyRow is an access key as auth needs it.
type keyRow struct {
	ok                      bool
	account, userID, secret string
	active                  bool
}

// keyUser is the user an access key operation is about: UserName, else the caller.
func keyUser(q db, ctx context.Context, userName *string) (*entity, error) {
	account, c := caller(ctx)
	if userName != nil {
		return mustEntity(q, account, kindUser, *userName)
	}
	_, kind, _, name, ok := splitIAMARN(c.PrincipalARN)
	if !ok || kind != kindUser {
		return nil, validationError("Must specify userName when calling with non-User credentials")
	}
	return mustEntity(q, account, kindUser, name)
}

func (s *Service) createAccessKey(ctx context.Context, in *CreateAccessKeyRequest) (*CreateAccessKeyResponse, error) {
	now := s.now().UTC().Truncate(time.Second)
	key := &AccessKey{
		AccessKeyId:     awsproto.Ptr("AKIA" + randomBase32(16)),
		SecretAccessKey: awsproto.Ptr(randomSecret()),
		Status:          awsproto.Ptr("Active"),
		CreateDate:      awsproto.Ptr(now),
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		u, err := keyUser(tx, ctx, in.UserName)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, "CreateAccessKey", u.arn()); err != nil {
			return err
		}
		n, err := count(tx, `SELECT COUNT(*) FROM iam_access_keys WHERE user_id = ?`, u.id)
		if err != nil {
			return err
		}
		if n >= maxKeysPerUser {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		key.UserName = awsproto.Ptr(u.name)
		s.keys.Changed(tx, *key.AccessKeyId)
		_, err = tx.Exec(`INSERT INTO iam_access_keys (access_key_id, account, user_id, secret, status, created_at) VALUES (?, ?, ?, ?, 'Active', ?)`,
			*key.AccessKeyId, u.account, u.id, *key.SecretAccessKey, now.UnixMilli())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CreateAccessKeyResponse{AccessKey: key}, nil
}

// randomSecret is a 40-character secret access key, as AWS's.
func randomSecret() string {
	b := make([]byte, 30)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Service) listAccessKeys(ctx context.Context, in *ListAccessKeysRequest) (*ListAccessKeysResponse, error) {
	q := s.read(ctx)
	u, err := keyUser(q, ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListAccessKeys", u.arn()); err != nil {
		return nil, err
	}
	rows, err := q.Query(`SELECT access_key_id, status, created_at FROM iam_access_keys WHERE user_id = ?`, u.id)
	if err != nil {
		return nil, fmt.Errorf("list access keys: %w", err)
	}
	defer rows.Close()
	var keys []AccessKeyMetadata
	for rows.Next() {
		var id, status string
		var at int64
		if err := rows.Scan(&id, &status, &at); err != nil {
			return nil, err
		}
		keys = append(keys, AccessKeyMetadata{AccessKeyId: awsproto.Ptr(id), Status: awsproto.Ptr(status),
			CreateDate: awsproto.Ptr(time.UnixMilli(at).UTC()), UserName: awsproto.Ptr(u.name)})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(keys, func(a, b AccessKeyMetadata) int { return strings.Compare(*a.AccessKeyId, *b.AccessKeyId) })
	items, truncated, next, err := page(keys, func(k AccessKeyMetadata) string { return *k.AccessKeyId }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []AccessKeyMetadata{}
	}
	return &ListAccessKeysResponse{AccessKeyMetadata: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}

func noSuchKey(id string) error {
	return awsproto.Errorf("NoSuchEntity", 404, "The Access Key with id %s cannot be found.", id)
}

// onKey runs fn, in a write, on an access key of the user (UserName, else the caller).
func (s *Service) onKey(ctx context.Context, userName *string, id, action string, fn func(tx *store.Tx) error) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		u, err := keyUser(tx, ctx, userName)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, action, u.arn()); err != nil {
			return err
		}
		n, err := count(tx, `SELECT COUNT(*) FROM iam_access_keys WHERE access_key_id = ? AND user_id = ?`, id, u.id)
		if err != nil {
			return err
		}
		if n == 0 {
			return noSuchKey(id)
		}
		s.keys.Changed(tx, id)
		return fn(tx)
	})
}

func (s *Service) updateAccessKey(ctx context.Context, in *UpdateAccessKeyRequest) (*struct{}, error) {
	id := awsproto.Value(in.AccessKeyId)
	return &struct{}{}, s.onKey(ctx, in.UserName, id, "UpdateAccessKey", func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE iam_access_keys SET status = ? WHERE access_key_id = ?`, awsproto.Value(in.Status), id)
		return err
	})
}

func (s *Service) deleteAccessKey(ctx context.Context, in *DeleteAccessKeyRequest) (*struct{}, error) {
	id := awsproto.Value(in.AccessKeyId)
	return &struct{}{}, s.onKey(ctx, in.UserName, id, "DeleteAccessKey", func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM iam_access_keys WHERE access_key_id = ?`, id)
		return err
	})
}

func (s *Service) getAccessKeyLastUsed(ctx context.Context, in *GetAccessKeyLastUsedRequest) (*GetAccessKeyLastUsedResponse, error) {
	account, _ := caller(ctx)
	id := awsproto.Value(in.AccessKeyId)
	q := s.read(ctx)
	var userID, service, region string
	var last int64
	err := q.QueryRow(`SELECT user_id, last_used, last_service, last_region FROM iam_access_keys WHERE access_key_id = ? AND account = ?`, id, account).
		Scan(&userID, &last, &service, &region)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noSuchKey(id)
	}
	if err != nil {
		return nil, err
	}
	u, err := entityByID(q, userID)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, noSuchKey(id)
	}
	if err := s.allow(ctx, "GetAccessKeyLastUsed", u.arn()); err != nil {
		return nil, err
	}
	if r, ok := s.pendingUsage(id); ok {
		last, service, region = r.at.UnixMilli(), r.service, r.region
	}
	used := &AccessKeyLastUsed{ServiceName: awsproto.Ptr("N/A"), Region: awsproto.Ptr("N/A")}
	if last != 0 {
		used = &AccessKeyLastUsed{LastUsedDate: awsproto.Ptr(time.UnixMilli(last).UTC()), ServiceName: awsproto.Ptr(service), Region: awsproto.Ptr(region)}
	}
	return &GetAccessKeyLastUsedResponse{UserName: awsproto.Ptr(u.name), AccessKeyLastUsed: used}, nil
}

// LookupLongTermKey implements auth.LongTermKeys: an active access key made with
// CreateAccessKey, signing as its user (ARN, unique id and tags). ok is false for a key IAM
// did not make, and for an inactive one.
func (s *Service) LookupLongTermKey(ctx context.Context, accessKeyID string) (auth.Key, bool, error) {
	if !strings.HasPrefix(accessKeyID, "AKIA") {
		return auth.Key{}, false, nil
	}
	q := s.read(ctx)
	k, gen, ok := s.keys.Get(accessKeyID)
	if !ok {
		var status string
		err := q.QueryRow(`SELECT account, user_id, secret, status FROM iam_access_keys WHERE access_key_id = ?`, accessKeyID).
			Scan(&k.account, &k.userID, &k.secret, &status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return auth.Key{}, false, fmt.Errorf("look up access key: %w", err)
		default:
			k.ok, k.active = true, status == "Active"
		}
		s.keys.Put(accessKeyID, k, gen)
	}
	if !k.ok || !k.active {
		return auth.Key{}, false, nil
	}
	u, err := s.userIdentity(q, k.account, k.userID)
	if err != nil || !u.ok {
		return auth.Key{}, false, err
	}
	return auth.Key{
		AccessKeyID: accessKeyID, SecretAccessKey: k.secret, AccountID: k.account,
		PrincipalARN: u.arn, UserID: k.userID, Session: auth.Session{Tags: u.tags},
	}, true, nil
}

// KeyUsed implements auth.LongTermKeys: it records an access key's last use, written in the
// background.
func (s *Service) KeyUsed(accessKeyID, service, region string, at time.Time) {
	s.usage.mu.Lock()
	s.usage.pending[accessKeyID] = usageRecord{at: at, service: service, region: region}
	s.usage.mu.Unlock()
}

// RoleUsed records that a session of the role (by unique id) was issued in region.
func (s *Service) RoleUsed(roleID, region string, at time.Time) {
	s.usage.mu.Lock()
	s.usage.pending[roleID] = usageRecord{role: true, at: at, region: region}
	s.usage.mu.Unlock()
}

func (s *Service) pendingUsage(id string) (usageRecord, bool) {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	r, ok := s.usage.pending[id]
	return r, ok
}

// flushUsage writes the last-used records gathered since the last flush.
func (s *Service) flushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	pending := s.usage.pending
	s.usage.pending = map[string]usageRecord{}
	s.usage.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		for id, r := range pending {
			var err error
			if r.role {
				_, err = tx.Exec(`UPDATE iam_entities SET last_used = ?, last_region = ? WHERE id = ?`, r.at.UnixMilli(), r.region, id)
			} else {
				_, err = tx.Exec(`UPDATE iam_access_keys SET last_used = ?, last_service = ?, last_region = ? WHERE access_key_id = ?`,
					r.at.UnixMilli(), r.service, r.region, id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}
