// Package auth verifies AWS Signature Version 4 on incoming requests and maps
// access keys to accounts.
//
// In dev mode (the default, loopback only) any credentials are accepted and
// requests belong to account 000000000000. In strict mode every request must
// carry a valid SigV4 signature, in its Authorization header or as a presigned
// query string, made with a key from the keys file or a temporary key issued
// by STS. Secrets never appear in errors, and the types holding them redact
// them when printed or logged.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Mode selects how strictly requests are authenticated.
type Mode string

const (
	// Dev accepts any credentials; every request belongs to account 000000000000.
	Dev Mode = "dev"
	// Strict verifies every signature against configured keys.
	Strict Mode = "strict"
)

// DevAccountID is the account every dev-mode request belongs to.
const DevAccountID = "000000000000"

// maxSkew is how far a header-signed request's time may be from the server's.
const maxSkew = 15 * time.Minute

// Key is one credential: long-term from the keys file, or temporary from STS.
// Printing or logging a Key never shows its secret or session token.
type Key struct {
	AccessKeyID, SecretAccessKey, AccountID string
	SessionToken                            string    // temporary keys only
	Expiration                              time.Time // temporary keys only; zero never expires
	PrincipalARN                            string    // "" → arn:aws:iam::<account>:root
	UserID                                  string    // "" → the account id
	// Session is what the key's principal carries for authorization beyond its ARN.
	Session Session

	fromIAM bool // found through LongTermKeys
}

// Session is what a principal carries for authorization beyond its ARN: STS fills it for the
// temporary keys of a role session, IAM for a user's keys.
type Session struct {
	// ParentARN is the role (with its path) a role session acts for; "" otherwise.
	ParentARN string
	// Tags are the principal's tags (the user's or role's, and the session's).
	Tags map[string]string
	// Policies are the session policy documents the session was created with.
	Policies []string
	// Issued is when temporary credentials were issued; zero for long-term keys.
	Issued time.Time
}

// String describes k without its secret or session token.
func (k Key) String() string {
	s := "Key{AccessKeyID: " + k.AccessKeyID + ", AccountID: " + k.AccountID + ", SecretAccessKey: [redacted]"
	if k.SessionToken != "" {
		s += ", SessionToken: [redacted], Expiration: " + k.Expiration.UTC().Format(time.RFC3339)
	}
	return s + "}"
}

// GoString is String, so %#v does not print the secret either.
func (k Key) GoString() string { return k.String() }

// LogValue logs k without its secret or session token.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", k.AccessKeyID), slog.String("account_id", k.AccountID))
}

// TemporaryKeys finds credentials STS issued (implemented by the STS service over the store).
// It is asked only about access key ids starting with "ASIA", and the keys it
// returns must carry their SessionToken: a key without one is treated as long-term.
type TemporaryKeys interface {
	LookupTemporaryKey(ctx context.Context, accessKeyID string) (Key, bool, error)
}

// LongTermKeys finds access keys IAM made for its users (implemented by the IAM service over
// the store). It is asked about access key ids the keys file does not hold; it answers ok=false
// for a key that does not exist and for an inactive one, which AWS refuses alike.
type LongTermKeys interface {
	LookupLongTermKey(ctx context.Context, accessKeyID string) (Key, bool, error)
	// KeyUsed records that a request signed with the key was accepted, for the service and
	// region it was signed for (IAM's GetAccessKeyLastUsed). It must not block.
	KeyUsed(accessKeyID, service, region string, at time.Time)
}

// Config configures an Authenticator.
type Config struct {
	Mode      Mode             // Dev (also when "") or Strict; any other value is treated as Strict
	Keys      []Key            // long-term keys (strict mode); the first of duplicate ids wins
	Temporary TemporaryKeys    // may be nil: then no temporary keys are accepted
	LongTerm  LongTermKeys     // may be nil: then only the keys file's long-term keys are accepted
	Now       func() time.Time // nil → time.Now
}

// Authenticator verifies requests against the configured keys. It is safe
// for concurrent use.
type Authenticator struct {
	mode  Mode
	keys  map[string]Key
	temp  TemporaryKeys
	long  LongTermKeys
	now   func() time.Time
	cache keyCache
}

// New returns an Authenticator for cfg.
func New(cfg Config) *Authenticator {
	a := &Authenticator{mode: Strict, keys: make(map[string]Key, len(cfg.Keys)), temp: cfg.Temporary, long: cfg.LongTerm, now: cfg.Now}
	if cfg.Mode == Dev || cfg.Mode == "" {
		a.mode = Dev
	}
	if a.now == nil {
		a.now = time.Now
	}
	for _, k := range cfg.Keys {
		if _, dup := a.keys[k.AccessKeyID]; !dup {
			a.keys[k.AccessKeyID] = k
		}
	}
	return a
}

// Mode reports the mode a runs in.
func (a *Authenticator) Mode() Mode { return a.mode }

// Target says which service a request is for, so errors take that service's codes.
type Target struct {
	Service        string // model name: "s3", "sts", "dynamodb", …; "" → the signing name of the scope
	Protocol       string // "json", "rest-json", "rest-xml", "query"
	AllowAnonymous bool   // operations AWS lets through unsigned
}

// Identity is who a verified request comes from.
type Identity struct {
	AccessKeyID, AccountID, Region, PrincipalARN, UserID string
	SessionToken                                         string
	Temporary                                            bool
	Anonymous                                            bool
	// Session is what the key's principal carries for authorization.
	Session Session
	// Streaming holds what chunk-signature verification of aws-chunked bodies needs later
	// (signing key, seed signature, amz date, scope); nil unless the payload hash is STREAMING-*.
	Streaming *StreamingContext
}

// LogValue logs id without its session token.
func (id *Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("access_key_id", id.AccessKeyID), slog.String("account_id", id.AccountID),
		slog.String("principal", id.PrincipalARN), slog.Bool("anonymous", id.Anonymous))
}

// Verify checks sig against the request. Dev mode: never verifies signatures (any key works,
// account 000000000000, principal arn:aws:iam::000000000000:root), but a readable signing time
// is held to the same expiry (X-Amz-Expires, SigV2 Expires) and 15 minute skew as in strict mode,
// so that presigned URLs expire; a temporary key issued by STS still resolves to its stored
// identity (account, assumed-role ARN). Strict mode: verifies the
// signature, the expiry/skew, the session token of temporary keys; anonymous is refused unless
// t.AllowAnonymous. Errors are *awsproto.Error values with AWS's code per service.
//
// A nil sig is read from r with Parse. Verify may replace r.Body: when it had
// to hash the body it puts back a reader over the same bytes, and for an S3
// request claiming a hex payload hash it wraps the body in a reader that
// checks the hash at EOF (see NewSHA256Reader).
func (a *Authenticator) Verify(ctx context.Context, r *http.Request, sig *Signature, t Target) (*Identity, error) {
	if sig == nil {
		sig = Parse(r)
	}
	if t.Service == "" {
		t.Service = sig.Service
	}
	// Legacy S3 SigV2 (header or presigned query) has its own verifier (sigv2.go).
	if sig.Anonymous || sig.failure != nil && sig.failure.kind == failUnsupported {
		if v2, ok := parseSigV2(r); ok {
			return a.verifySigV2(ctx, r, v2, t)
		}
	}
	var id *Identity
	var f *failure
	if a.mode == Dev {
		id, f = a.devIdentity(ctx, sig)
		if f == nil && sig.failure == nil && !sig.Anonymous {
			f = a.checkTime(sig)
		}
	} else {
		id, f = a.strictIdentity(ctx, r, sig, t)
	}
	if f != nil {
		return nil, targetError(f, t)
	}
	return id, nil
}

// devIdentity trusts whatever identity the request claims, malformed or not; an
// unsigned request also acts as the dev account (with Anonymous set). Only
// SigV4a is refused, because its bodies could not be decoded later (SigV2 goes to sigv2.go).
func (a *Authenticator) devIdentity(ctx context.Context, sig *Signature) (*Identity, *failure) {
	if sig.failure != nil && sig.failure.kind == failUnsupported {
		return nil, sig.failure
	}
	region := sig.Region
	if region == "" {
		region = defaultRegion
	}
	id := &Identity{AccessKeyID: sig.AccessKeyID, AccountID: DevAccountID, Region: region, Anonymous: sig.Anonymous}
	if a.temp != nil && isTemporaryKeyID(sig.AccessKeyID) {
		k, ok, err := a.temp.LookupTemporaryKey(ctx, sig.AccessKeyID)
		if err != nil {
			return nil, &failure{kind: failInternal, message: "temporary credentials could not be looked up", cause: err}
		}
		if ok {
			id.AccountID, id.PrincipalARN, id.UserID, id.Session = k.AccountID, k.PrincipalARN, k.UserID, k.Session
			id.SessionToken, id.Temporary = k.SessionToken, true
		}
	} else if a.long != nil && sig.AccessKeyID != "" {
		// An access key IAM made acts as its user, as a temporary key acts as its session.
		k, ok, err := a.long.LookupLongTermKey(ctx, sig.AccessKeyID)
		if err != nil {
			return nil, &failure{kind: failInternal, message: "access keys could not be looked up", cause: err}
		}
		if ok {
			id.AccountID, id.PrincipalARN, id.UserID, id.Session = k.AccountID, k.PrincipalARN, k.UserID, k.Session
		}
	}
	fillDefaults(id)
	if sig.failure == nil && isStreaming(sig.PayloadHash) {
		id.Streaming = newStreamingContext(sig, nil)
	}
	return id, nil
}

func (a *Authenticator) strictIdentity(ctx context.Context, r *http.Request, sig *Signature, t Target) (*Identity, *failure) {
	s3 := t.Service == "s3"
	switch {
	case sig.failure != nil:
		return nil, sig.failure
	case sig.Anonymous && t.AllowAnonymous:
		return &Identity{Region: defaultRegion, Anonymous: true}, nil
	case sig.Anonymous:
		return nil, &failure{kind: failAnonymous}
	case sig.Presigned && !sig.hasExpires && s3:
		return nil, &failure{kind: failMalformedQuery, message: "Query-string authentication version 4 requires the " +
			"X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."}
	case !slices.Contains(sig.SignedHeaders, "host"):
		kind := failMalformedHeader
		if sig.Presigned {
			kind = failMalformedQuery
		}
		return nil, &failure{kind: kind, message: "The host header must be signed"}
	}
	key, f := a.lookupKey(ctx, sig)
	if f != nil {
		return nil, f
	}
	if f := a.checkToken(&key, sig); f != nil {
		return nil, f
	}
	if f := a.checkTime(sig); f != nil {
		return nil, f
	}
	claim, f := payloadClaim(r, sig, s3)
	if f != nil {
		return nil, f
	}
	signingKey := a.cache.signingKey(&key, sig)
	if !signatureMatches(r, sig, s3, claim.hash, signingKey[:]) {
		if !claim.retryWithBody {
			return nil, badSignature(r, sig, s3, claim.hash)
		}
		// A presigned non-S3 request may have been signed over its (empty) body.
		if claim, f = hashBody(r); f != nil {
			return nil, f
		}
		if !signatureMatches(r, sig, s3, claim.hash, signingKey[:]) {
			return nil, badSignature(r, sig, s3, claim.hash)
		}
	}
	if f := checkPayload(r, claim, s3); f != nil {
		return nil, f
	}
	id := &Identity{
		AccessKeyID: key.AccessKeyID, AccountID: key.AccountID, Region: sig.Region,
		PrincipalARN: key.PrincipalARN, UserID: key.UserID, Session: key.Session,
		SessionToken: key.SessionToken, Temporary: key.SessionToken != "",
	}
	fillDefaults(id)
	if key.fromIAM {
		a.long.KeyUsed(key.AccessKeyID, sig.Service, sig.Region, a.now())
	}
	if isStreaming(claim.hash) {
		id.Streaming = newStreamingContext(sig, signingKey[:])
	}
	return id, nil
}

func (a *Authenticator) lookupKey(ctx context.Context, sig *Signature) (Key, *failure) {
	if k, ok := a.keys[sig.AccessKeyID]; ok {
		return k, nil
	}
	if a.temp != nil && isTemporaryKeyID(sig.AccessKeyID) {
		k, ok, err := a.temp.LookupTemporaryKey(ctx, sig.AccessKeyID)
		if err != nil {
			return Key{}, &failure{kind: failInternal, message: "temporary credentials could not be looked up", cause: err}
		}
		if ok {
			k.AccessKeyID = sig.AccessKeyID
			return k, nil
		}
	}
	if a.long != nil && !isTemporaryKeyID(sig.AccessKeyID) {
		k, ok, err := a.long.LookupLongTermKey(ctx, sig.AccessKeyID)
		if err != nil {
			return Key{}, &failure{kind: failInternal, message: "access keys could not be looked up", cause: err}
		}
		if ok {
			k.AccessKeyID, k.SessionToken, k.fromIAM = sig.AccessKeyID, "", true
			return k, nil
		}
	}
	return Key{}, &failure{kind: failUnknownKey, fields: map[string]string{"AWSAccessKeyId": sig.AccessKeyID}}
}

// checkToken requires temporary keys to come with their session token, and
// long-term keys to come without one.
func (a *Authenticator) checkToken(k *Key, sig *Signature) *failure {
	if k.SessionToken == "" {
		if sig.securityToken != "" {
			return &failure{kind: failBadToken}
		}
		return nil
	}
	if !k.Expiration.IsZero() && !a.now().Before(k.Expiration) {
		return &failure{kind: failExpiredToken}
	}
	if subtle.ConstantTimeCompare([]byte(sig.securityToken), []byte(k.SessionToken)) != 1 {
		return &failure{kind: failBadToken}
	}
	return nil
}

// checkTime applies the 15 minute skew to header-signed requests and
// X-Amz-Expires to presigned ones.
func (a *Authenticator) checkTime(sig *Signature) *failure {
	now := a.now().UTC()
	if !sig.Presigned || !sig.hasExpires {
		if d := now.Sub(sig.signTime); d > maxSkew || d < -maxSkew {
			return skewFailure(sig.signTime, now)
		}
		return nil
	}
	if sig.signTime.Sub(now) > maxSkew {
		return &failure{kind: failPresignNotYetValid}
	}
	expires := sig.signTime.Add(time.Duration(sig.Expires) * time.Second)
	if now.After(expires) {
		return &failure{kind: failPresignExpired, fields: map[string]string{
			"X-Amz-Expires": strconv.FormatInt(sig.Expires, 10),
			"Expires":       expires.Format(time.RFC3339),
			"ServerTime":    now.Format(time.RFC3339),
		}}
	}
	return nil
}

// signatureMatches recomputes the signature and compares it in constant time.
func signatureMatches(r *http.Request, sig *Signature, s3 bool, payloadHash string, signingKey []byte) bool {
	buf := make([]byte, 0, 1024)
	buf = canonicalRequest(buf, r, sig, s3, payloadHash)
	n := len(buf)
	buf = appendStringToSign(buf, sig.AmzDate, sig, buf[:n])
	mac := hmacSHA256Bytes(signingKey, buf[n:])
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], mac[:])
	return subtle.ConstantTimeCompare(want[:], []byte(sig.Signature)) == 1
}

// badSignature builds the mismatch failure; S3 also returns what it signed,
// which helps clients debug and contains no secret.
func badSignature(r *http.Request, sig *Signature, s3 bool, payloadHash string) *failure {
	f := &failure{kind: failBadSignature}
	if s3 {
		canonical := canonicalRequest(nil, r, sig, s3, payloadHash)
		sts := appendStringToSign(nil, sig.AmzDate, sig, canonical)
		f.fields = map[string]string{
			"AWSAccessKeyId":    sig.AccessKeyID,
			"StringToSign":      string(sts),
			"SignatureProvided": printable(sig.Signature),
			"CanonicalRequest":  string(canonical),
		}
	}
	return f
}

// isTemporaryKeyID reports whether id has the form of an STS-issued key.
func isTemporaryKeyID(id string) bool { return strings.HasPrefix(id, "ASIA") }

func fillDefaults(id *Identity) {
	if id.AccountID == "" {
		id.AccountID = DevAccountID
	}
	if id.PrincipalARN == "" {
		id.PrincipalARN = "arn:aws:iam::" + id.AccountID + ":root"
	}
	if id.UserID == "" {
		id.UserID = id.AccountID
	}
}

// String describes id without its session token.
func (id *Identity) String() string {
	s := "Identity{AccessKeyID: " + id.AccessKeyID + ", AccountID: " + id.AccountID + ", Region: " + id.Region +
		", PrincipalARN: " + id.PrincipalARN + ", UserID: " + id.UserID
	if id.Temporary {
		s += ", SessionToken: [redacted]"
	}
	if id.Anonymous {
		s += ", Anonymous"
	}
	return s + "}"
}

// GoString is String, so %#v does not print the session token either.
func (id *Identity) GoString() string { return id.String() }
