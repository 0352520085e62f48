package oidc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Key set cache times: a set is kept for keysTTL; a token naming a kid the cached set lacks
// refetches it, at most once per keysRefetch per issuer.
const (
	keysTTL       = time.Hour
	keysRefetch   = 10 * time.Second
	maxKeysDoc    = 1 << 20
	fetchDeadline = 10 * time.Second
)

// IssuerURL reports whether raw may be an OpenID Connect issuer's URL, or a URL Kiri fetches
// for one (its discovery document, its keys): https, or plain http to a loopback address for a
// local identity provider; no user info, query or fragment.
func IssuerURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		if h == "localhost" || strings.HasSuffix(h, ".localhost") {
			return true
		}
		ip := net.ParseIP(h)
		return ip != nil && ip.IsLoopback()
	}
	return false
}

// Keys fetches and caches the signing keys (JWKS) of OpenID Connect issuers, found through
// each issuer's discovery document. It is safe for concurrent use.
type Keys struct {
	client *http.Client
	now    func() time.Time
	mu     sync.Mutex
	sets   map[string]keySet
}

type keySet struct {
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

// NewKeys returns an empty cache whose ages are read from now.
func NewKeys(now func() time.Time) *Keys {
	return &Keys{client: &http.Client{Timeout: fetchDeadline}, now: now, sets: map[string]keySet{}}
}

// Get returns the issuer's key set, fetched again when it is old or lacks kid.
func (ks *Keys) Get(ctx context.Context, issuer, kid string) (*jose.JSONWebKeySet, error) {
	now := ks.now()
	ks.mu.Lock()
	cached, ok := ks.sets[issuer]
	ks.mu.Unlock()
	fresh := ok && now.Sub(cached.fetched) < keysTTL
	if fresh && (kid == "" || len(cached.keys.Key(kid)) > 0 || now.Sub(cached.fetched) < keysRefetch) {
		return cached.keys, nil
	}
	set, err := ks.fetch(ctx, issuer)
	if err != nil {
		if fresh {
			return cached.keys, nil
		}
		return nil, err
	}
	ks.mu.Lock()
	ks.sets[issuer] = keySet{keys: set, fetched: now}
	ks.mu.Unlock()
	return set, nil
}

// fetch reads the issuer's discovery document, then the key set its jwks_uri names.
func (ks *Keys) fetch(ctx context.Context, issuer string) (*jose.JSONWebKeySet, error) {
	if !IssuerURL(issuer) {
		return nil, fmt.Errorf("issuer %q is not an https URL (or http on loopback)", issuer)
	}
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := ks.getJSON(ctx, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &discovery); err != nil {
		return nil, err
	}
	if !IssuerURL(discovery.JWKSURI) {
		return nil, fmt.Errorf("discovery document's jwks_uri %q is not an https URL (or http on loopback)", discovery.JWKSURI)
	}
	var set jose.JSONWebKeySet
	if err := ks.getJSON(ctx, discovery.JWKSURI, &set); err != nil {
		return nil, err
	}
	return &set, nil
}

func (ks *Keys) getJSON(ctx context.Context, url string, into any) error {
	ctx, cancel := context.WithTimeout(ctx, fetchDeadline)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeysDoc))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}
