package sts

import (
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/oidc"
)

func TestCheckClaims(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	p := identity.OIDCProvider{ClientIDs: []string{"app", "cli"}}
	at := func(d time.Duration) *jwt.NumericDate { return jwt.NewNumericDate(now.Add(d)) }
	cases := []struct {
		name   string
		claims oidc.Claims
		want   string
		aud    string
	}{
		{"valid", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"app"}}}, "", "app"},
		{"second audience listed", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x", "cli"}}}, "", "cli"},
		{"authorized party stands in for the audience", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x"}}, AZP: "app"}, "", "app"},
		{"no expiry", oidc.Claims{Claims: jwt.Claims{Audience: jwt.Audience{"app"}}}, "InvalidIdentityToken", ""},
		{"expired beyond the skew", oidc.Claims{Claims: jwt.Claims{Expiry: at(-6 * time.Minute), Audience: jwt.Audience{"app"}}}, "ExpiredTokenException", ""},
		{"expired within the skew", oidc.Claims{Claims: jwt.Claims{Expiry: at(-time.Minute), Audience: jwt.Audience{"app"}}}, "", "app"},
		{"not yet valid", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), NotBefore: at(10 * time.Minute), Audience: jwt.Audience{"app"}}}, "IDPRejectedClaim", ""},
		{"issued in the future", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), IssuedAt: at(10 * time.Minute), Audience: jwt.Audience{"app"}}}, "IDPRejectedClaim", ""},
		{"wrong audience", oidc.Claims{Claims: jwt.Claims{Expiry: at(time.Hour), Audience: jwt.Audience{"x"}}}, "InvalidIdentityToken", ""},
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

func errCode(err error) string {
	if e, ok := err.(*awsproto.Error); ok {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return err.Error()
}
