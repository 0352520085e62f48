package sts

import (
	"crypto/sha256"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// roleARN is a parsed arn:<partition>:iam::<account>:role/<path/>name.
type roleARN struct {
	raw, partition, account, name string
}

func parseRoleARN(s string) (roleARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" || !isAccountID(parts[4]) ||
		!strings.HasPrefix(parts[5], "role/") || strings.HasSuffix(parts[5], "/") {
		return roleARN{}, awsproto.Errorf("ValidationError", 400, "%s is invalid", s)
	}
	path := strings.TrimPrefix(parts[5], "role/")
	return roleARN{raw: s, partition: parts[1], account: parts[4], name: path[strings.LastIndexByte(path, '/')+1:]}, nil
}

// id derives the role's unique id ("AROA…") from its ARN, so one role always has one id.
func (r roleARN) id() string {
	sum := sha256.Sum256([]byte(r.raw))
	return "AROA" + upperBase32.EncodeToString(sum[:11])[:17]
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// validSessionName checks AWS's pattern [\w+=,.@-]*; the codec has checked its length.
func validSessionName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}
