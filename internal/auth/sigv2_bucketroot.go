package auth

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"strings"
)

// bucketRootSignatureV2 reports whether signature signs sts with the bucket's resource written
// "/bucket/" instead of "/bucket". Clients such as botocore sign a bucket-level request as
// virtual-hosted (resource "/bucket/") and then send it path-style ("/bucket") when the
// endpoint cannot carry the bucket in its host name.
func bucketRootSignatureV2(secret, sts, signature string) bool {
	i := strings.LastIndexByte(sts, '\n')
	resource := sts[i+1:]
	path, query, hasQuery := strings.Cut(resource, "?")
	if len(path) < 2 || strings.Count(path, "/") != 1 {
		return false
	}
	alt := sts[:i+1] + path + "/"
	if hasQuery {
		alt += "?" + query
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(alt))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	return subtle.ConstantTimeCompare([]byte(want), []byte(signature)) == 1
}
