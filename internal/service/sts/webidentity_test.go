package sts

import (
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/identity"
)

func signedToken(t testing.TB, key *rsa.PrivateKey, kid string, claims any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func errCode(err error) string {
	if e, ok := err.(*awsproto.Error); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestVerifyToken(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Use: "sig"}, {Key: &other.PublicKey, KeyID: "enc", Use: "enc"}}}
	claims := map[string]any{"iss": "https://idp.example", "sub": "u", "aud": "app"}
	cases := []struct {
		name, token, want string
	}{
		{"signed with the named key", signedToken(t, key, "k1", claims), ""},
		{"no kid: every signing key is tried", signedToken(t, key, "", claims), ""},
		{"a kid the set lacks", signedToken(t, key, "k9", claims), "InvalidIdentityToken"},
		{"signed by another key under a known kid", signedToken(t, other, "k1", claims), "InvalidIdentityToken"},
		{"a key meant for encryption does not verify", signedToken(t, other, "enc", claims), "InvalidIdentityToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, c, err := parseToken(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != "https://idp.example" {
				t.Fatalf("issuer %q", c.Issuer)
			}
			_, err = verifyToken(tok, set)
			if got := errCode(err); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "a.b", "a.b.c", "e30.e30.", signedToken(t, key, "k1", map[string]any{"sub": "no issuer"})} {
		if _, _, err := parseToken(bad); errCode(err) != "InvalidIdentityToken" {
			t.Errorf("parseToken(%q) = %v, want InvalidIdentityToken", bad, err)
		}
	}
}

func TestCheckClaims(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := identity.OIDCProvider{ClientIDs: []string{"app", "cli"}}
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	cases := []struct {
		name   string
		claims tokenClaims
		want   string
		aud    string
	}{
		{"valid", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"app"}}}, "", "app"},
		{"second audience listed", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x", "cli"}}}, "", "cli"},
		{"authorized party stands in for the audience", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x"}}, AZP: "app"}, "", "app"},
		{"no expiry", tokenClaims{Claims: jwt.Claims{Audience: jwt.Audience{"app"}}}, "InvalidIdentityToken", ""},
		{"expired beyond the skew", tokenClaims{Claims: jwt.Claims{Expiry: at(-6 * time.Minute), Audience: jwt.Audience{"app"}}}, "ExpiredTokenException", ""},
		{"expired within the skew", tokenClaims{Claims: jwt.Claims{Expiry: at(-time.Minute), Audience: jwt.Audience{"app"}}}, "", "app"},
		{"not yet valid", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), NotBefore: at(10 * time.Minute), Audience: jwt.Audience{"app"}}}, "IDPRejectedClaim", ""},
		{"issued in the future", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), IssuedAt: at(10 * time.Minute), Audience: jwt.Audience{"app"}}}, "IDPRejectedClaim", ""},
		{"wrong audience", tokenClaims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x"}}}, "InvalidIdentityToken", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			aud, err := checkClaims(&tc.claims, p, now)
			if got := errCode(err); got != tc.want || aud != tc.aud {
				t.Fatalf("got %q %q, want %q %q", aud, got, tc.aud, tc.want)
			}
		})
	}
}

// FuzzParseToken feeds arbitrary tokens to the parser and the verifier: neither panics, and
// nothing verifies without the key.
func FuzzParseToken(f *testing.F) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	stranger, _ := rsa.GenerateKey(rand.Reader, 2048)
	f.Add(signedToken(f, key, "k1", map[string]any{"iss": "https://idp.example", "aud": []string{"a", "b"}, "amr": "pwd", "exp": 1}))
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.")
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.AAAA")
	set := &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &stranger.PublicKey, KeyID: "k1"}}}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, _, err := parseToken(raw)
		if err != nil {
			return
		}
		if _, err := verifyToken(tok, set); err == nil {
			t.Fatalf("token %q verified with a key that did not sign it", raw)
		}
	})
}
