package iam

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/oidc"
	"github.com/kiri-run/kiri/internal/store"
)

// OpenID Connect provider quotas.
const (
	maxClientIDs   = 100
	maxThumbprints = 5
)

func (s *Service) registerOIDC() {
	awsproto.Handle(s.api, "CreateOpenIDConnectProvider", s.createOIDCProvider)
	awsproto.Handle(s.api, "GetOpenIDConnectProvider", s.getOIDCProvider)
	awsproto.Handle(s.api, "DeleteOpenIDConnectProvider", s.deleteOIDCProvider)
	awsproto.Handle(s.api, "ListOpenIDConnectProviders", s.listOIDCProviders)
	awsproto.Handle(s.api, "AddClientIDToOpenIDConnectProvider", s.addClientID)
	awsproto.Handle(s.api, "RemoveClientIDFromOpenIDConnectProvider", s.removeClientID)
	awsproto.Handle(s.api, "UpdateOpenIDConnectProviderThumbprint", s.updateThumbprint)
	awsproto.Handle(s.api, "TagOpenIDConnectProvider", s.tagOIDCProvider)
	awsproto.Handle(s.api, "UntagOpenIDConnectProvider", s.untagOIDCProvider)
	awsproto.Handle(s.api, "ListOpenIDConnectProviderTags", s.listOIDCProviderTags)
}

type oidcRow struct {
	identity.OIDCProvider
	account string
	created time.Time
}

// checkIssuerURL validates a provider URL: https, or http for an issuer on a loopback address
// (a local identity provider), with no query or fragment.
func checkIssuerURL(raw string) error {
	if !oidc.IssuerURL(raw) {
		return invalidInput("Invalid Open ID Connect Provider URL")
	}
	return nil
}

func scanOIDC(row interface{ Scan(...any) error }) (*oidcRow, error) {
	r := &oidcRow{}
	var ids, thumbs string
	var at int64
	if err := row.Scan(&r.ARN, &r.account, &r.URL, &ids, &thumbs, &at); err != nil {
		return nil, err
	}
	r.created = time.UnixMilli(at).UTC()
	if err := json.Unmarshal([]byte(ids), &r.ClientIDs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(thumbs), &r.Thumbprints); err != nil {
		return nil, err
	}
	return r, nil
}

const oidcColumns = `arn, account, url, client_ids, thumbprints, created_at`

func findOIDC(q db, account, arn string) (*oidcRow, error) {
	r, err := scanOIDC(q.QueryRow(`SELECT `+oidcColumns+` FROM iam_oidc_providers WHERE arn = ? AND account = ?`, arn, account))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load OpenID Connect provider: %w", err)
	}
	return r, nil
}

func mustOIDC(q db, account, arn string) (*oidcRow, error) {
	r, err := findOIDC(q, account, arn)
	if err == nil && r == nil {
		err = awsproto.Errorf("NoSuchEntity", 404, "OpenIDConnect Provider not found for arn %s", arn)
	}
	return r, err
}

func saveOIDCLists(tx *store.Tx, r *oidcRow) error {
	if len(r.ClientIDs) > maxClientIDs {
		return limitExceeded("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	if len(r.Thumbprints) > maxThumbprints {
		return limitExceeded("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", maxThumbprints)
	}
	ids, _ := json.Marshal(nonNil(r.ClientIDs))
	thumbs, _ := json.Marshal(nonNil(r.Thumbprints))
	_, err := tx.Exec(`UPDATE iam_oidc_providers SET client_ids = ?, thumbprints = ? WHERE arn = ?`, string(ids), string(thumbs), r.ARN)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Service) createOIDCProvider(ctx context.Context, in *CreateOpenIDConnectProviderRequest) (*CreateOpenIDConnectProviderResponse, error) {
	account, _ := caller(ctx)
	raw := awsproto.Value(in.Url)
	if err := checkIssuerURL(raw); err != nil {
		return nil, err
	}
	r := &oidcRow{account: account, created: s.now().UTC().Truncate(time.Millisecond)}
	r.URL = strings.TrimRight(raw, "/")
	r.ARN = "arn:aws:iam::" + account + ":oidc-provider/" + r.Host()
	r.ClientIDs = dedupe(in.ClientIDList)
	r.Thumbprints = dedupe(in.ThumbprintList)
	if err := s.allow(ctx, "CreateOpenIDConnectProvider", r.ARN); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := findOIDC(tx, account, r.ARN)
		if err != nil {
			return err
		}
		if existing != nil {
			return awsproto.Errorf("EntityAlreadyExists", 409, "Provider with url %s already exists.", raw)
		}
		if _, err := tx.Exec(`INSERT INTO iam_oidc_providers (`+oidcColumns+`) VALUES (?, ?, ?, '[]', '[]', ?)`,
			r.ARN, account, r.URL, r.created.UnixMilli()); err != nil {
			return err
		}
		if err := saveOIDCLists(tx, r); err != nil {
			return err
		}
		return addTags(tx, r.ARN, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return &CreateOpenIDConnectProviderResponse{OpenIDConnectProviderArn: awsproto.Ptr(r.ARN), Tags: sortedTags(in.Tags)}, nil
}

func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *Service) getOIDCProvider(ctx context.Context, in *GetOpenIDConnectProviderRequest) (*GetOpenIDConnectProviderResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	r, err := mustOIDC(q, account, awsproto.Value(in.OpenIDConnectProviderArn))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "GetOpenIDConnectProvider", r.ARN); err != nil {
		return nil, err
	}
	tags, err := loadTags(q, r.ARN)
	if err != nil {
		return nil, err
	}
	return &GetOpenIDConnectProviderResponse{Url: awsproto.Ptr(r.Host()), ClientIDList: nonNil(r.ClientIDs),
		ThumbprintList: nonNil(r.Thumbprints), CreateDate: awsproto.Ptr(r.created), Tags: tags}, nil
}

// onOIDC runs fn, in a write, on a provider after asking for action.
func (s *Service) onOIDC(ctx context.Context, arn, action string, fn func(tx *store.Tx, r *oidcRow) error) error {
	account, _ := caller(ctx)
	return s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := mustOIDC(tx, account, arn)
		if err != nil {
			return err
		}
		if err := s.allow(ctx, action, r.ARN); err != nil {
			return err
		}
		return fn(tx, r)
	})
}

func (s *Service) deleteOIDCProvider(ctx context.Context, in *DeleteOpenIDConnectProviderRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "DeleteOpenIDConnectProvider",
		func(tx *store.Tx, r *oidcRow) error {
			if _, err := tx.Exec(`DELETE FROM iam_oidc_providers WHERE arn = ?`, r.ARN); err != nil {
				return err
			}
			_, err := tx.Exec(`DELETE FROM iam_tags WHERE owner = ?`, r.ARN)
			return err
		})
}

func (s *Service) listOIDCProviders(ctx context.Context, _ *ListOpenIDConnectProvidersRequest) (*ListOpenIDConnectProvidersResponse, error) {
	account, _ := caller(ctx)
	if err := s.allow(ctx, "ListOpenIDConnectProviders", "*"); err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, `SELECT arn FROM iam_oidc_providers WHERE account = ?`, account)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListOpenIDConnectProvidersResponse{OpenIDConnectProviderList: []OpenIDConnectProviderListEntry{}}
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return nil, err
		}
		out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, OpenIDConnectProviderListEntry{Arn: awsproto.Ptr(arn)})
	}
	sortBy(out.OpenIDConnectProviderList, func(e OpenIDConnectProviderListEntry) string { return *e.Arn })
	return out, rows.Err()
}

func (s *Service) addClientID(ctx context.Context, in *AddClientIDToOpenIDConnectProviderRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "AddClientIDToOpenIDConnectProvider",
		func(tx *store.Tx, r *oidcRow) error {
			r.ClientIDs = dedupe(append(r.ClientIDs, awsproto.Value(in.ClientID)))
			return saveOIDCLists(tx, r)
		})
}

func (s *Service) removeClientID(ctx context.Context, in *RemoveClientIDFromOpenIDConnectProviderRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "RemoveClientIDFromOpenIDConnectProvider",
		func(tx *store.Tx, r *oidcRow) error {
			r.ClientIDs = slices.DeleteFunc(r.ClientIDs, func(id string) bool { return id == awsproto.Value(in.ClientID) })
			return saveOIDCLists(tx, r)
		})
}

func (s *Service) updateThumbprint(ctx context.Context, in *UpdateOpenIDConnectProviderThumbprintRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "UpdateOpenIDConnectProviderThumbprint",
		func(tx *store.Tx, r *oidcRow) error {
			r.Thumbprints = dedupe(in.ThumbprintList)
			return saveOIDCLists(tx, r)
		})
}

func (s *Service) tagOIDCProvider(ctx context.Context, in *TagOpenIDConnectProviderRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "TagOpenIDConnectProvider",
		func(tx *store.Tx, r *oidcRow) error { return addTags(tx, r.ARN, in.Tags) })
}

func (s *Service) untagOIDCProvider(ctx context.Context, in *UntagOpenIDConnectProviderRequest) (*struct{}, error) {
	return &struct{}{}, s.onOIDC(ctx, awsproto.Value(in.OpenIDConnectProviderArn), "UntagOpenIDConnectProvider",
		func(tx *store.Tx, r *oidcRow) error { return removeTags(tx, r.ARN, in.TagKeys) })
}

func (s *Service) listOIDCProviderTags(ctx context.Context, in *ListOpenIDConnectProviderTagsRequest) (*ListOpenIDConnectProviderTagsResponse, error) {
	account, _ := caller(ctx)
	q := s.read(ctx)
	r, err := mustOIDC(q, account, awsproto.Value(in.OpenIDConnectProviderArn))
	if err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "ListOpenIDConnectProviderTags", r.ARN); err != nil {
		return nil, err
	}
	tags, err := loadTags(q, r.ARN)
	if err != nil {
		return nil, err
	}
	items, truncated, next, err := pageTags(tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []Tag{}
	}
	return &ListOpenIDConnectProviderTagsResponse{Tags: items, IsTruncated: awsproto.Ptr(truncated), Marker: next}, nil
}

// OIDCProvider finds the account's OpenID Connect provider for an issuer URL (with or without
// its scheme), for STS's AssumeRoleWithWebIdentity.
func (s *Service) OIDCProvider(ctx context.Context, account, issuer string) (identity.OIDCProvider, bool, error) {
	arn := "arn:aws:iam::" + account + ":oidc-provider/" + identity.TrimScheme(issuer)
	r, err := findOIDC(s.read(ctx), account, arn)
	if err != nil || r == nil {
		return identity.OIDCProvider{}, false, err
	}
	return r.OIDCProvider, true, nil
}
