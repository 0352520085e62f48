package policy

import "strings"

// keyID names a condition key the engine derives from a Request itself.
type keyID uint8

const (
	keyOther keyID = iota // asked of Request.Values
	keyCurrentTime
	keyEpochTime
	keySecureTransport
	keySourceIP
	keyUserAgent
	keyReferer
	keyRequestedRegion
	keySourceArn
	keySourceAccount
	keyResourceAccount
	keyPrincipalArn
	keyPrincipalAccount
	keyPrincipalType
	keyPrincipalTag
	keyPrincipalIsAWSService
	keyPrincipalServiceName
	keyUsername
	keyUserID
	keyMFAPresent
	keyTokenIssueTime
	keyFederatedProvider
	keyViaAWSService
)

// globalKeys are the keys the engine derives, by lower-case name.
var globalKeys = map[string]keyID{
	"aws:currenttime":            keyCurrentTime,
	"aws:epochtime":              keyEpochTime,
	"aws:securetransport":        keySecureTransport,
	"aws:sourceip":               keySourceIP,
	"aws:useragent":              keyUserAgent,
	"aws:referer":                keyReferer,
	"aws:requestedregion":        keyRequestedRegion,
	"aws:sourcearn":              keySourceArn,
	"aws:sourceaccount":          keySourceAccount,
	"aws:resourceaccount":        keyResourceAccount,
	"aws:principalarn":           keyPrincipalArn,
	"aws:principalaccount":       keyPrincipalAccount,
	"aws:principaltype":          keyPrincipalType,
	"aws:principalisawsservice":  keyPrincipalIsAWSService,
	"aws:principalservicename":   keyPrincipalServiceName,
	"aws:username":               keyUsername,
	"aws:userid":                 keyUserID,
	"aws:multifactorauthpresent": keyMFAPresent,
	"aws:tokenissuetime":         keyTokenIssueTime,
	"aws:federatedprovider":      keyFederatedProvider,
	"aws:viaawsservice":          keyViaAWSService,
}

const principalTagPrefix = "aws:principaltag/"

// keyRef is a compiled condition key.
type keyRef struct {
	name string // as the policy writes it
	id   keyID
	tag  string // keyPrincipalTag: the tag key
}

// compileKey resolves a key name, which IAM compares ignoring case.
func compileKey(name string) keyRef {
	k := keyRef{name: name}
	lower := strings.ToLower(name)
	if id, ok := globalKeys[lower]; ok {
		k.id = id
	} else if strings.HasPrefix(lower, principalTagPrefix) {
		k.id, k.tag = keyPrincipalTag, name[len(principalTagPrefix):]
	}
	return k
}
