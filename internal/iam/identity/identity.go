// Package identity is what IAM tells other services about its entities: the roles STS lets
// callers assume, and the OpenID Connect providers whose tokens STS accepts. Services that need
// them declare a small interface over these types and find IAM in the service directory.
package identity

import (
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
)

// Role is an IAM role as STS needs it to issue a session.
type Role struct {
	// ARN is the role's ARN, with its path: arn:aws:iam::ACCOUNT:role/PATH/NAME.
	ARN     string
	Account string
	Name    string
	// ID is the role's unique id (AROA...).
	ID string
	// Trust is the role's trust policy (AssumeRolePolicyDocument), parsed as policy.Trust.
	Trust *policy.Policy
	// MaxSession is the longest session the role allows (MaxSessionDuration).
	MaxSession time.Duration
	// Tags are the role's tags, which its sessions carry as principal tags.
	Tags map[string]string
}

// OIDCProvider is an IAM OpenID Connect identity provider.
type OIDCProvider struct {
	// ARN is arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH.
	ARN string
	// URL is the issuer URL as created, https://HOST/PATH (http on loopback for local issuers).
	URL string
	// ClientIDs are the audiences tokens may be issued for.
	ClientIDs []string
	// Thumbprints are the server certificate thumbprints the provider was created with.
	Thumbprints []string
}

// Host is the provider's URL without its scheme: the prefix of its condition keys
// (HOST/PATH:aud) and the tail of its ARN.
func (p OIDCProvider) Host() string { return TrimScheme(p.URL) }

// TrimScheme removes https:// or http:// and a trailing slash from an issuer URL.
func TrimScheme(url string) string {
	for _, s := range []string{"https://", "http://"} {
		if len(url) >= len(s) && url[:len(s)] == s {
			url = url[len(s):]
			break
		}
	}
	for len(url) > 0 && url[len(url)-1] == '/' {
		url = url[:len(url)-1]
	}
	return url
}
