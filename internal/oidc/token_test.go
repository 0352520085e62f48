package oidc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"slices"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func signedToken(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestVerify(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}, {Key: &other.PublicKey, KeyID: "enc", Use: "enc"}, {Key: &ec.PublicKey, KeyID: "ec"},
	}}
	claims := map[string]any{"iss": "https://idp.example", "sub": "u", "aud": "app", "scope": "read  write", "custom": 7}
	cases := []struct {
		name, token string
		want        error
	}{
		{"signed with the named key", signedToken(t, jose.RS256, key, "k1", claims), nil},
		{"ES256 with the named key", signedToken(t, jose.ES256, ec, "ec", claims), nil},
		{"no kid: every signing key is tried", signedToken(t, jose.RS256, key, "", claims), nil},
		{"a kid the set lacks", signedToken(t, jose.RS256, key, "k9", claims), ErrUnverified},
		{"signed by another key under a known kid", signedToken(t, jose.RS256, other, "k1", claims), ErrUnverified},
		{"a key meant for encryption does not verify", signedToken(t, jose.RS256, other, "enc", claims), ErrUnverified},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := Parse(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Unverified.Issuer != "https://idp.example" {
				t.Fatalf("issuer %q", tok.Unverified.Issuer)
			}
			c, err := tok.Verify(set)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if err == nil && (c.Subject != "u" || c.Raw["custom"] != float64(7) || !slices.Equal(c.Scopes(), []string{"read", "write"})) {
				t.Fatalf("claims %+v", c)
			}
		})
	}
	for _, bad := range []string{"", "a.b", "a.b.c", "e30.e30.", signedToken(t, jose.RS256, key, "k1", map[string]any{"sub": "no issuer"}),
		signedToken(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), "k1", claims)} {
		if _, err := Parse(bad); !errors.Is(err, ErrNotJWT) {
			t.Errorf("Parse(%q) = %v, want ErrNotJWT", bad, err)
		}
	}
}

func TestScopes(t *testing.T) {
	cases := []struct {
		name string
		c    Claims
		want []string
	}{
		{"space-separated scope claim", Claims{Scope: " a b  c "}, []string{"a", "b", "c"}},
		{"scp list", Claims{SCP: StringList{"x", "y"}}, []string{"x", "y"}},
		{"scope wins over scp", Claims{Scope: "a", SCP: StringList{"x"}}, []string{"a"}},
		{"none", Claims{}, nil},
	}
	for _, tc := range cases {
		if got := tc.c.Scopes(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestIssuerURL(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://idp.example/realm": true, "http://127.0.0.1:8080/realm": true, "http://localhost:9000": true, "http://[::1]:80": true,
		"http://idp.example": false, "https://u:p@idp.example": false, "https://idp.example?x=1": false, "ftp://idp.example": false, "": false,
	} {
		if got := IssuerURL(raw); got != want {
			t.Errorf("IssuerURL(%q) = %v, want %v", raw, got, want)
		}
	}
}

// FuzzParse feeds arbitrary tokens to the parser and the verifier: neither panics, and nothing
// verifies without the key.
func FuzzParse(f *testing.F) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	f.Add(signedToken(f, jose.RS256, key, "k1", map[string]any{"iss": "https://idp.example", "aud": []string{"a", "b"}, "amr": "pwd", "exp": 1}))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &stranger.PublicKey, KeyID: "k1"}}}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := Parse(raw)
		if err != nil {
			return
		}
		_ = tok.Unverified.Scopes()
		if _, err := tok.Verify(set); err == nil {
			t.Fatalf("token %q verified with a key that did not sign it", raw)
		}
	})
}
