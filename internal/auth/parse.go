package auth

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	algorithmHMAC  = "AWS4-HMAC-SHA256"
	algorithmECDSA = "AWS4-ECDSA-P256-SHA256"
	scopeTerminal  = "aws4_request"
	amzDateFormat  = "20060102T150405Z"
	defaultRegion  = "us-east-1"
	maxPresignTTL  = 7 * 24 * 60 * 60 // seconds: X-Amz-Expires may not exceed a week

	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerContentSHA256 = "X-Amz-Content-Sha256"
	headerSecurityToken = "X-Amz-Security-Token"

	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	querySecurityToken = "X-Amz-Security-Token"
	queryContentSHA256 = "X-Amz-Content-Sha256"
)

// Signature is what a request claims about its signer, read without
// verifying anything and without reading the body.
type Signature struct {
	Anonymous   bool   // no Authorization header and no presigned query
	Presigned   bool   // credentials are in the query string (X-Amz-Algorithm, …)
	AccessKeyID string // access key id of the credential scope
	Date        string // yyyymmdd of the scope
	Region      string // from the credential scope; "us-east-1" when the request is anonymous
	Service     string // signing name from the credential scope, e.g. "s3", "sts", "dynamodb"
	Err         error  // *awsproto.Error when the header/query is malformed; Verify reports it

	SignedHeaders []string // lower-case header names, in the order they were signed
	Signature     string   // hex signature the request carries
	AmzDate       string   // signing time, "20060102T150405Z"
	PayloadHash   string   // x-amz-content-sha256 claim; "" when the request makes none
	Expires       int64    // presigned X-Amz-Expires in seconds; 0 when absent

	signedHeaders string    // SignedHeaders exactly as sent
	hasExpires    bool      // X-Amz-Expires was present
	securityToken string    // X-Amz-Security-Token; never exported so it is not printed
	signTime      time.Time // AmzDate parsed
	failure       *failure  // the cause of Err, re-coded by Verify for the target
}

// Parse reads the SigV4 claims of r from its Authorization header or its
// presigned query string. It never fails: a malformed claim is reported in
// Signature.Err.
func Parse(r *http.Request) *Signature {
	s := &Signature{}
	authz := r.Header.Get(headerAuthorization)
	_, rawQuery := requestTarget(r)
	var query url.Values
	if mayBePresigned(rawQuery) {
		query, _ = url.ParseQuery(rawQuery) // pairs that do not decode are skipped, as the SDK signer does
	}
	presigned := query.Has(queryAlgorithm) || query.Has(queryCredential) || query.Has(querySignature)
	switch {
	case authz != "" && presigned:
		s.Presigned = true
		s.fail(&failure{kind: failMalformedQuery, message: "Only one auth mechanism allowed; only the X-Amz-Algorithm " +
			"query parameter, Signature query string parameter or the Authorization header should be specified"})
	case authz != "":
		s.parseHeader(r, authz)
	case presigned:
		s.Presigned = true
		s.parseQuery(r, query)
	default:
		s.Anonymous = true
		s.Region = defaultRegion
	}
	return s
}

// mayBePresigned reports whether the raw query may carry SigV4 query
// authentication parameters, so most requests skip decoding it here.
func mayBePresigned(raw string) bool {
	return raw != "" && (strings.Contains(raw, queryAlgorithm) ||
		strings.Contains(raw, queryCredential) || strings.Contains(raw, querySignature))
}

func (s *Signature) fail(f *failure) {
	s.failure = f
	t := Target{Service: s.Service, Protocol: "query"}
	s.Err = targetError(f, t)
}

func (s *Signature) parseHeader(r *http.Request, authz string) {
	alg, rest, _ := strings.Cut(authz, " ")
	if !s.checkAlgorithm(alg, failMalformedHeader) {
		return
	}
	var credential, signedHeaders, signature string
	var haveCredential, haveSignedHeaders, haveSignature bool
	for part := range strings.SplitSeq(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			credential, haveCredential = v, true
		case "SignedHeaders":
			signedHeaders, haveSignedHeaders = v, true
		case "Signature":
			signature, haveSignature = v, true
		}
	}
	var missing []string
	if !haveCredential {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSignature {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSignedHeaders {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		s.fail(&failure{kind: failMalformedHeader, message: strings.Join(missing, " ") +
			" Authorization=" + alg})
		return
	}
	if !s.parseCredential(credential, failMalformedHeader) ||
		!s.parseSignedHeaders(signedHeaders, failMalformedHeader) {
		return
	}
	s.Signature = signature
	s.PayloadHash = r.Header.Get(headerContentSHA256)
	s.securityToken = r.Header.Get(headerSecurityToken)

	amzDate := r.Header.Get(headerAmzDate)
	if amzDate == "" {
		if d := r.Header.Get("Date"); d != "" {
			if t, err := http.ParseTime(d); err == nil {
				amzDate = t.UTC().Format(amzDateFormat)
			}
		}
	}
	if amzDate == "" {
		s.fail(&failure{kind: failMalformedHeader, message: "AWS authentication requires a valid Date or x-amz-date header"})
		return
	}
	s.parseDate(amzDate, failMalformedHeader)
}

func (s *Signature) parseQuery(r *http.Request, q url.Values) {
	alg := q.Get(queryAlgorithm)
	if !s.checkAlgorithm(alg, failMalformedQuery) {
		return
	}
	cred, date, sh, sig := q.Get(queryCredential), q.Get(queryDate), q.Get(querySignedHeaders), q.Get(querySignature)
	if cred == "" || date == "" || sh == "" || sig == "" {
		s.fail(&failure{kind: failMalformedQuery, message: "Query-string authentication version 4 requires the " +
			"X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."})
		return
	}
	if !s.parseCredential(cred, failMalformedQuery) || !s.parseSignedHeaders(sh, failMalformedQuery) {
		return
	}
	s.Signature = sig
	s.securityToken = q.Get(querySecurityToken)
	if s.securityToken == "" {
		s.securityToken = r.Header.Get(headerSecurityToken)
	}
	s.PayloadHash = r.Header.Get(headerContentSHA256)
	if s.PayloadHash == "" {
		s.PayloadHash = q.Get(queryContentSHA256)
	}
	if vs, ok := q[queryExpires]; ok {
		n, err := strconv.ParseInt(vs[0], 10, 64)
		switch {
		case err != nil:
			s.fail(&failure{kind: failMalformedQuery, message: "X-Amz-Expires should be a number"})
			return
		case n < 0:
			s.fail(&failure{kind: failMalformedQuery, message: "X-Amz-Expires must be non-negative"})
			return
		case n > maxPresignTTL:
			s.fail(&failure{kind: failMalformedQuery, message: "X-Amz-Expires must be less than a week " +
				"(in seconds) that is 604800"})
			return
		}
		s.Expires, s.hasExpires = n, true
	}
	s.parseDate(date, failMalformedQuery)
}

// checkAlgorithm accepts SigV4 and reports a clear error for the signing
// versions Kiri does not support.
func (s *Signature) checkAlgorithm(alg string, kind failureKind) bool {
	switch alg {
	case algorithmHMAC:
		return true
	case algorithmECDSA:
		s.fail(&failure{kind: failUnsupported, message: "SigV4a (AWS4-ECDSA-P256-SHA256) signing is not supported; " +
			"sign requests with SigV4 (AWS4-HMAC-SHA256)"})
	case "AWS":
		s.fail(&failure{kind: failUnsupported, message: "Signature Version 2 is not supported; " +
			"sign requests with SigV4 (AWS4-HMAC-SHA256)"})
	default:
		if kind == failMalformedQuery {
			s.fail(&failure{kind: kind, message: "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\""})
		} else {
			s.fail(&failure{kind: kind, message: "Unsupported Authorization Type"})
		}
	}
	return false
}

// parseCredential reads "AKID/yyyymmdd/region/service/aws4_request".
func (s *Signature) parseCredential(cred string, kind failureKind) bool {
	akid, rest, ok1 := strings.Cut(cred, "/")
	date, rest, ok2 := strings.Cut(rest, "/")
	region, rest, ok3 := strings.Cut(rest, "/")
	service, term, ok4 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || !ok4 || akid == "" || region == "" || service == "" {
		s.fail(&failure{kind: kind, message: "Credential should be scoped to a valid region, and a valid service; " +
			"expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."})
		return false
	}
	s.AccessKeyID, s.Region, s.Service = akid, region, service
	if term != scopeTerminal {
		s.fail(&failure{kind: kind, message: "Credential should be scoped with a valid terminator: 'aws4_request', not '" +
			printable(term) + "'."})
		return false
	}
	if !isDigits(date, 8) {
		s.fail(&failure{kind: kind, message: "Credential should be scoped to a valid date (yyyymmdd), not '" +
			printable(date) + "'."})
		return false
	}
	s.Date = date
	return true
}

func (s *Signature) parseSignedHeaders(list string, kind failureKind) bool {
	s.signedHeaders = list
	n := strings.Count(list, ";") + 1
	s.SignedHeaders = make([]string, 0, n)
	for h := range strings.SplitSeq(list, ";") {
		if h == "" || h != strings.ToLower(h) || strings.ContainsAny(h, " \t\r\n:") {
			s.fail(&failure{kind: kind, message: "SignedHeaders must be a semicolon-separated list of lower-case header names"})
			return false
		}
		s.SignedHeaders = append(s.SignedHeaders, h)
	}
	return true
}

func (s *Signature) parseDate(amzDate string, kind failureKind) {
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		s.fail(&failure{kind: kind, message: "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""})
		return
	}
	if amzDate[:8] != s.Date {
		s.fail(&failure{kind: kind, message: "Invalid credential date. Date is not the same as X-Amz-Date."})
		return
	}
	s.AmzDate, s.signTime = amzDate, t
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// printable bounds and sanitises client text echoed in an error message.
func printable(s string) string {
	const limit = 64
	if len(s) > limit {
		s = s[:limit]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return -1
		}
		return r
	}, s)
}

// requestTarget returns the path (escaped, as the client sent it) and the raw
// query of r. The request line is preferred over r.URL, so a router that
// rewrites r.URL (virtual-hosted S3, for example) does not break verification.
func requestTarget(r *http.Request) (path, rawQuery string) {
	if uri := r.RequestURI; strings.HasPrefix(uri, "/") {
		path, rawQuery, _ = strings.Cut(uri, "?")
		return path, rawQuery
	}
	if r.URL == nil {
		return "/", ""
	}
	if r.URL.Opaque != "" {
		// Opaque "//host/path" (or "/path") as the SDK signer reads it.
		op := r.URL.Opaque
		op = strings.TrimPrefix(op, "//")
		if i := strings.IndexByte(op, '/'); i >= 0 {
			path = op[i:]
		}
	} else {
		path = r.URL.EscapedPath()
	}
	return path, r.URL.RawQuery
}
