package apigateway

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/oidc"
)

// jwtFailure is why a token was refused, as API Gateway describes it in its
// www-authenticate header.
type jwtFailure string

// authorizeJWT verifies the bearer token of the authorizer's identity source against its issuer's
// keys, issuer, audience and times, and the route's scopes: 401 without a valid token, 403
// without a required scope.
func (s *Service) authorizeJWT(w http.ResponseWriter, req *proxyRequest, a *Authorizer) bool {
	raw := identityValue(req, nil, a.IdentitySource[0])
	if raw == "" {
		w.Header().Set("Www-Authenticate", "Bearer")
		writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	claims, fail := s.verifyJWT(req, a, bearerToken(raw))
	if fail != "" {
		w.Header().Set("Www-Authenticate", fmt.Sprintf(`Bearer scope="" error="invalid_token" error_description=%q`, string(fail)))
		writeMessage(w, http.StatusUnauthorized, "Unauthorized")
		return false
	}
	scopes := claims.Scopes()
	if want := req.match.route.AuthorizationScopes; len(want) > 0 && !slices.ContainsFunc(want, func(s string) bool { return slices.Contains(scopes, s) }) {
		w.Header().Set("Www-Authenticate", fmt.Sprintf(`Bearer scope=%q error="insufficient_scope" error_description="the token does not have the required scope"`,
			strings.Join(want, " ")))
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return false
	}
	out := &jwtAuth{claims: make(map[string]string, len(claims.Raw)), scopes: scopes}
	for k, v := range claims.Raw {
		out.claims[k] = claimString(v)
	}
	req.auth = &authContext{jwt: out}
	return true
}

// rsaAlgorithms are the signature algorithms JWT authorizers accept: RSA-based ones.
var rsaAlgorithms = map[string]bool{"RS256": true, "RS384": true, "RS512": true, "PS256": true}

// bearerToken strips the Bearer scheme from an Authorization value, as API Gateway does.
func bearerToken(v string) string {
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return v
}

// verifyJWT checks a token as API Gateway's JWT authorizers do: signed by a key of the
// configured issuer (found through its discovery document), iss equal to the issuer, aud (or
// client_id when there is no aud) among the audiences, exp in the future, nbf and iat not.
func (s *Service) verifyJWT(req *proxyRequest, a *Authorizer, raw string) (*oidc.Claims, jwtFailure) {
	tok, err := oidc.Parse(raw)
	if err != nil {
		return nil, "the token is malformed or is not signed with a supported algorithm"
	}
	if alg := tok.Algorithm(); !rsaAlgorithms[alg] {
		// API Gateway's JWT authorizers verify RSA signatures only.
		return nil, jwtFailure("signing method " + alg + " is invalid")
	}
	issuer := awsproto.Value(a.JwtConfiguration.Issuer)
	if tok.Unverified.Issuer != issuer {
		return nil, "the token does not have a valid issuer"
	}
	keys, err := s.jwks.Get(req.r.Context(), issuer, tok.KeyID())
	if err != nil {
		s.log.Warn("JWT issuer's keys could not be read", "api", req.d.apiID, "issuer", issuer, "error", err)
		return nil, "unable to retrieve the issuer's signing keys"
	}
	c, err := tok.Verify(keys)
	if err != nil {
		return nil, "the token does not have a valid signature"
	}
	return c, checkJWTClaims(c, a.JwtConfiguration, req.now)
}

// checkJWTClaims applies a verified token's issuer, audience and times.
func checkJWTClaims(c *oidc.Claims, cfg *JWTConfiguration, now time.Time) jwtFailure {
	if c.Issuer != awsproto.Value(cfg.Issuer) {
		return "the token does not have a valid issuer"
	}
	audiences := []string(c.Audience)
	if len(audiences) == 0 && c.ClientID != "" {
		audiences = []string{c.ClientID}
	}
	if !slices.ContainsFunc(audiences, func(a string) bool { return slices.Contains(cfg.Audience, a) }) {
		return "the token does not have a valid audience"
	}
	switch {
	case c.Expiry == nil || !now.Before(c.Expiry.Time()):
		return "the token has expired"
	case c.NotBefore != nil && now.Before(c.NotBefore.Time()):
		return "the token is not valid yet"
	case c.IssuedAt != nil && now.Add(time.Second).Before(c.IssuedAt.Time()):
		return "the token was issued in the future"
	}
	return ""
}
