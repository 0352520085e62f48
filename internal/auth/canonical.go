package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// canonicalRequest appends the SigV4 canonical request of r to buf.
// s3 selects S3's canonical URI (the path as sent) over the other services'
// (the sent path URI-encoded once more).
func canonicalRequest(buf []byte, r *http.Request, sig *Signature, s3 bool, payloadHash string) []byte {
	path, rawQuery := requestTarget(r)
	if path == "" {
		path = "/"
	}
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	if s3 {
		buf = append(buf, path...)
	} else {
		buf = appendURIEncode(buf, path, false)
	}
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, rawQuery, sig.Presigned)
	buf = append(buf, '\n')
	for _, name := range sig.SignedHeaders {
		buf = append(buf, name...)
		buf = append(buf, ':')
		buf = appendHeaderValue(buf, r, name)
		buf = append(buf, '\n')
	}
	buf = append(buf, '\n')
	buf = append(buf, sig.signedHeaders...)
	buf = append(buf, '\n')
	buf = append(buf, payloadHash...)
	return buf
}

// appendURIEncode appends s with every byte outside the RFC 3986 unreserved
// set percent-encoded in upper-case hex; '/' is kept unless encodeSlash.
func appendURIEncode(buf []byte, s string, encodeSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			buf = append(buf, c)
			continue
		}
		buf = append(buf, '%', upperHex[c>>4], upperHex[c&15])
	}
	return buf
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

type queryPair struct{ key, value string }

// appendCanonicalQuery decodes the raw query as url.ParseQuery does, encodes
// every name and value again the SigV4 way, and sorts the pairs after
// encoding. A presigned request's own X-Amz-Signature is left out.
func appendCanonicalQuery(buf []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return buf
	}
	var pairs []queryPair
	var scratch []byte
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" || strings.Contains(part, ";") {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || (presigned && k == querySignature) {
			continue
		}
		scratch = appendURIEncode(scratch[:0], k, true)
		ek := string(scratch)
		scratch = appendURIEncode(scratch[:0], v, true)
		pairs = append(pairs, queryPair{ek, string(scratch)})
	}
	slices.SortFunc(pairs, func(a, b queryPair) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	for i, p := range pairs {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, p.key...)
		buf = append(buf, '=')
		buf = append(buf, p.value...)
	}
	return buf
}

// appendHeaderValue appends the canonical value of the signed header name:
// every value trimmed, runs of spaces collapsed, values joined by ",".
func appendHeaderValue(buf []byte, r *http.Request, name string) []byte {
	switch name {
	case "host":
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		if host == "" {
			host = r.Header.Get("Host")
		}
		return appendTrimmed(buf, host)
	case "content-length":
		if len(r.Header.Values("Content-Length")) == 0 && r.ContentLength >= 0 {
			return strconv.AppendInt(buf, r.ContentLength, 10)
		}
	case "transfer-encoding":
		if len(r.Header.Values("Transfer-Encoding")) == 0 && len(r.TransferEncoding) > 0 {
			return appendTrimmed(buf, strings.Join(r.TransferEncoding, ","))
		}
	}
	for i, v := range headerValues(r.Header, name) {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendTrimmed(buf, v)
	}
	return buf
}

// headerValues returns the values of name, also under non-canonical keys that
// code (not the HTTP server) may have set directly in the map.
func headerValues(h http.Header, name string) []string {
	if vs := h.Values(name); len(vs) > 0 {
		return vs
	}
	return h[name]
}

// appendTrimmed appends v without leading and trailing white space and with
// each run of spaces reduced to one.
func appendTrimmed(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		buf = append(buf, c)
	}
	return buf
}

// appendStringToSign appends the SigV4 string to sign for a canonical request.
func appendStringToSign(buf []byte, amzDate string, sig *Signature, canonical []byte) []byte {
	sum := sha256.Sum256(canonical)
	buf = append(buf, algorithmHMAC...)
	buf = append(buf, '\n')
	buf = append(buf, amzDate...)
	buf = append(buf, '\n')
	buf = appendScope(buf, sig)
	buf = append(buf, '\n')
	return hex.AppendEncode(buf, sum[:])
}

func appendScope(buf []byte, sig *Signature) []byte {
	buf = append(buf, sig.Date...)
	buf = append(buf, '/')
	buf = append(buf, sig.Region...)
	buf = append(buf, '/')
	buf = append(buf, sig.Service...)
	buf = append(buf, '/')
	return append(buf, scopeTerminal...)
}

// deriveSigningKey computes the SigV4 signing key for a secret and scope.
func deriveSigningKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k[:], region)
	k = hmacSHA256(k[:], service)
	return hmacSHA256(k[:], scopeTerminal)
}

func hmacSHA256(key []byte, data string) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}

func hmacSHA256Bytes(key []byte, data []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	var out [sha256.Size]byte
	m.Sum(out[:0])
	return out
}
