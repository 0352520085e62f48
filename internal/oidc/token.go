// Package oidc verifies JSON Web Tokens signed by OpenID Connect issuers: it parses compact
// JWS tokens, fetches and caches each issuer's signing keys (JWKS) found through its discovery
// document, and checks a token's signature with them. STS's AssumeRoleWithWebIdentity and API
// Gateway's JWT authorizers use it; each applies its own rules to the claims.
package oidc

import (
	"encoding/json"
	"errors"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Algorithms are the signature algorithms a token may be signed with, those AWS accepts.
var Algorithms = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512, jose.PS256}

var (
	// ErrNotJWT is a token that is not a signed JWT with an issuer.
	ErrNotJWT = errors.New("not a signed JWT with an iss claim")
	// ErrUnverified is a token whose signature none of the issuer's keys verifies.
	ErrUnverified = errors.New("no key of the issuer verifies the token's signature")
)

// Claims are the registered claims of a token and the OpenID Connect and OAuth claims Kiri
// reads, with every claim as the token carries it in Raw.
type Claims struct {
	jwt.Claims
	AMR      StringList     `json:"amr"`
	AZP      string         `json:"azp"`
	ClientID string         `json:"client_id"`
	Scope    string         `json:"scope"`
	SCP      StringList     `json:"scp"`
	Raw      map[string]any `json:"-"`
}

// StringList reads a claim that is a string or a list of strings.
type StringList []string

// UnmarshalJSON reads a string or a list of strings.
func (l *StringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = StringList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*l = many
	return nil
}

// Token is a parsed, not yet verified token.
type Token struct {
	jws *jwt.JSONWebToken
	// Unverified are the token's claims as it states them, before its signature is checked;
	// read them only to find the issuer.
	Unverified *Claims
}

// KeyID is the kid of the token's header, "" when it names none.
func (t *Token) KeyID() string { return t.jws.Headers[0].KeyID }

// Algorithm is the alg of the token's header, one of Algorithms.
func (t *Token) Algorithm() string { return t.jws.Headers[0].Algorithm }

// Parse reads a compact JWS with one signature by one of Algorithms, and its claims without
// verifying them; the token must name its issuer.
func Parse(raw string) (*Token, error) {
	tok, err := jwt.ParseSigned(raw, Algorithms)
	if err != nil || len(tok.Headers) != 1 {
		return nil, ErrNotJWT
	}
	var c Claims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil || c.Issuer == "" {
		return nil, ErrNotJWT
	}
	return &Token{jws: tok, Unverified: &c}, nil
}

// Verify checks the token's signature with the issuer's keys (the ones its kid names, else
// each signing key) and returns its verified claims.
func (t *Token) Verify(keys *jose.JSONWebKeySet) (*Claims, error) {
	candidates := keys.Keys
	if kid := t.KeyID(); kid != "" {
		candidates = keys.Key(kid)
	}
	for _, k := range candidates {
		if k.Use != "" && k.Use != "sig" || !k.Valid() || !k.IsPublic() {
			continue
		}
		var c Claims
		var raw map[string]any
		if err := t.jws.Claims(k.Key, &c, &raw); err == nil {
			c.Raw = raw
			return &c, nil
		}
	}
	return nil, ErrUnverified
}

// Scopes are the token's OAuth scopes: its space-separated scope claim, else its scp list.
func (c *Claims) Scopes() []string {
	if c.Scope != "" {
		return splitSpaces(c.Scope)
	}
	return c.SCP
}

func splitSpaces(s string) []string {
	var out []string
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return out
}
