package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestKeysCache fetches an issuer's keys through its discovery document once, refetches them for
// an unknown kid at most once per keysRefetch, and again when they are older than keysTTL.
func TestKeysCache(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	var fetches atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1"}}})
	})
	now := time.Unix(1_700_000_000, 0)
	ks := NewKeys(func() time.Time { return now })
	get := func(kid string, wantFetches int32) {
		t.Helper()
		set, err := ks.Get(t.Context(), srv.URL, kid)
		if err != nil || len(set.Key("k1")) != 1 {
			t.Fatalf("Get(%q) = %v, %v", kid, set, err)
		}
		if n := fetches.Load(); n != wantFetches {
			t.Fatalf("Get(%q): %d fetches, want %d", kid, n, wantFetches)
		}
	}
	get("k1", 1)
	get("k1", 1)
	get("k2", 1) // an unknown kid right after a fetch does not refetch
	now = now.Add(keysRefetch)
	get("k2", 2)
	get("k1", 2)
	now = now.Add(keysTTL)
	get("k1", 3)
	if _, err := NewKeys(time.Now).Get(t.Context(), "http://idp.example", ""); err == nil {
		t.Fatal("a plain-http issuer off loopback was fetched")
	}
}
