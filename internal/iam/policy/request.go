package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// PrincipalType is the kind of principal a request acts for.
type PrincipalType uint8

const (
	// Anonymous is an unsigned request. Only a resource-based policy naming "*" allows it.
	Anonymous PrincipalType = iota
	// Root is an account's root user, which has every permission in its own account that
	// no policy explicitly denies. Kiri's keys-file identities are their account's root.
	Root
	// User is an IAM user.
	User
	// AssumedRole is a role session (AssumeRole and its web-identity and SAML forms).
	AssumedRole
	// FederatedUser is a GetFederationToken session.
	FederatedUser
	// Service is an AWS service principal (sqs.amazonaws.com) acting on its own behalf, as
	// when a service delivers to another. Only resource-based policies allow it.
	Service
)

// String is the type's aws:PrincipalType value ("" for a service principal, which has none).
func (t PrincipalType) String() string {
	switch t {
	case Anonymous:
		return "Anonymous"
	case Root:
		return "Account"
	case User:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	case FederatedUser:
		return "FederatedUser"
	}
	return ""
}

func (t PrincipalType) session() bool { return t == AssumedRole || t == FederatedUser }

// Principal is who a request acts for.
type Principal struct {
	Type    PrincipalType
	Account string // the principal's account; "" for anonymous and service principals
	// ARN is the principal's ARN: arn:aws:iam::ACCOUNT:root, a user's ARN, a role
	// session's arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION, a federated user's
	// arn:aws:sts::ACCOUNT:federated-user/NAME; for a service principal its name
	// (sns.amazonaws.com).
	ARN string
	// Parent is the ARN of the IAM entity a session belongs to: the role (with its path) of
	// a role session, the IAM user that called GetFederationToken. It is aws:PrincipalArn of
	// a role session, and a resource-based policy naming it grants only what the session's
	// permissions boundary and session policies also allow.
	Parent string
	// UserID is aws:userid: the user's or role's unique id (AIDA..., AROA...:SESSION), the
	// account id for the root user.
	UserID string
	// CanonicalID is the account's S3 canonical user id, matched by CanonicalUser
	// principals.
	CanonicalID string
	// Provider is the identity provider of a web-identity or SAML session
	// (aws:FederatedProvider), matched by Federated principals.
	Provider string
	// Tags are aws:PrincipalTag/KEY: the user's or role's tags and the session's tags.
	Tags map[string]string
	// TokenIssueTime is when temporary credentials were issued; zero for long-term keys.
	// With it, the request has aws:TokenIssueTime and aws:MultiFactorAuthPresent.
	TokenIssueTime time.Time
	MFA            bool // the temporary credentials were validated with MFA
}

// Values gives the request's values of condition keys the engine does not derive itself:
// service keys (s3:prefix, sqs:...) and keys such as aws:RequestTag/KEY, aws:ResourceTag/KEY
// and aws:TagKeys. key is spelled as the policy spells it; IAM compares key names ignoring
// case. ok is false when the request has no such key.
type Values interface {
	Value(key string) (vals []string, ok bool)
}

// ValuesFunc adapts a function to Values.
type ValuesFunc func(key string) ([]string, bool)

func (f ValuesFunc) Value(key string) ([]string, bool) { return f(key) }

// ValueMap is Values from a map keyed by lower-case key name.
type ValueMap map[string][]string

func (m ValueMap) Value(key string) ([]string, bool) {
	v, ok := m[strings.ToLower(key)]
	return v, ok
}

// Request is the request context a decision is made for.
type Request struct {
	Principal Principal
	Action    string // service:Action, e.g. "s3:GetObject"
	// Resource is the ARN of the resource acted on; "*" for actions without one.
	Resource string
	// ResourceAccount is the account owning the resource (aws:ResourceAccount); "" is the
	// principal's own account.
	ResourceAccount string

	// Time is aws:CurrentTime and aws:EpochTime; zero leaves both out.
	Time            time.Time
	SourceIP        netip.Addr // aws:SourceIp; the zero Addr leaves it out
	SecureTransport bool       // aws:SecureTransport, always present
	UserAgent       string     // aws:UserAgent; "" leaves it out
	Referer         string     // aws:Referer
	Region          string     // aws:RequestedRegion
	SourceARN       string     // aws:SourceArn, for a service acting for a resource
	SourceAccount   string     // aws:SourceAccount
	// ViaAWSService is aws:ViaAWSService, always present: a service made the request with
	// the principal's credentials, on its behalf.
	ViaAWSService bool

	// Values gives every other condition key; nil when there are none.
	Values Values
}

// value is the values of one condition key in a request. Keys the engine derives keep their
// typed value so that comparing them costs no conversion.
type value struct {
	present bool
	one     string // the only value, when many is nil and n is 1
	many    []string
	n       int
	time    time.Time // aws:CurrentTime, aws:EpochTime, aws:TokenIssueTime
	epoch   bool      // time's string form is epoch seconds
	timed   bool
	addr    netip.Addr // aws:SourceIp
}

func one(s string) value               { return value{present: true, one: s, n: 1} }
func optional(s string, ok bool) value { return value{present: ok, one: s, n: b2i(ok)} }
func list(v []string, ok bool) value   { return value{present: ok, many: v, n: len(v)} }
func boolValue(b bool) value           { return one(strconv.FormatBool(b)) }
func timeValue(t time.Time, e bool) value {
	if t.IsZero() {
		return value{}
	}
	return value{present: true, n: 1, time: t, timed: true, epoch: e}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// str is the i-th value as a string.
func (v *value) str(i int) string {
	switch {
	case v.many != nil:
		return v.many[i]
	case v.timed && v.epoch:
		return strconv.FormatInt(v.time.Unix(), 10)
	case v.timed:
		return v.time.UTC().Format(time.RFC3339)
	case v.addr.IsValid():
		return v.addr.String()
	}
	return v.one
}

// lookup finds a key's values in the request.
func (r *Request) lookup(k *keyRef) value {
	p := &r.Principal
	iam := p.Type != Anonymous && p.Type != Service
	switch k.id {
	case keyCurrentTime:
		return timeValue(r.Time, false)
	case keyEpochTime:
		return timeValue(r.Time, true)
	case keySecureTransport:
		return boolValue(r.SecureTransport)
	case keySourceIP:
		if !r.SourceIP.IsValid() {
			return value{}
		}
		return value{present: true, n: 1, addr: r.SourceIP.Unmap()}
	case keyUserAgent:
		return optional(r.UserAgent, r.UserAgent != "")
	case keyReferer:
		return optional(r.Referer, r.Referer != "")
	case keyRequestedRegion:
		return optional(r.Region, r.Region != "")
	case keySourceArn:
		return optional(r.SourceARN, r.SourceARN != "")
	case keySourceAccount:
		return optional(r.SourceAccount, r.SourceAccount != "")
	case keyResourceAccount:
		return optional(r.resourceAccount(), r.resourceAccount() != "")
	case keyPrincipalArn:
		return optional(p.principalARN(), iam)
	case keyPrincipalAccount:
		return optional(p.Account, iam && p.Account != "")
	case keyPrincipalType:
		return optional(p.Type.String(), p.Type != Service)
	case keyPrincipalTag:
		return p.tag(k.tag)
	case keyPrincipalIsAWSService:
		if p.Type == Anonymous {
			return value{}
		}
		return boolValue(p.Type == Service)
	case keyPrincipalServiceName:
		return optional(p.ARN, p.Type == Service)
	case keyUsername:
		return optional(p.username(), p.Type == User)
	case keyUserID:
		return optional(p.UserID, p.UserID != "")
	case keyMFAPresent:
		if p.TokenIssueTime.IsZero() {
			return value{}
		}
		return boolValue(p.MFA)
	case keyTokenIssueTime:
		return timeValue(p.TokenIssueTime, false)
	case keyFederatedProvider:
		return optional(p.Provider, p.Provider != "")
	case keyViaAWSService:
		return boolValue(r.ViaAWSService)
	}
	if r.Values == nil {
		return value{}
	}
	return list(r.Values.Value(k.name))
}

func (r *Request) resourceAccount() string {
	if r.ResourceAccount != "" {
		return r.ResourceAccount
	}
	return r.Principal.Account
}

// principalARN is aws:PrincipalArn: a session's parent entity, else the principal's ARN.
func (p *Principal) principalARN() string {
	if p.Type == AssumedRole && p.Parent != "" {
		return p.Parent
	}
	return p.ARN
}

// username is aws:username: an IAM user's friendly name, the last part of its ARN.
func (p *Principal) username() string {
	return p.ARN[strings.LastIndexByte(p.ARN, '/')+1:]
}

// tag finds a principal tag; IAM compares tag keys ignoring case.
func (p *Principal) tag(key string) value {
	if v, ok := p.Tags[key]; ok {
		return one(v)
	}
	for k, v := range p.Tags {
		if strings.EqualFold(k, key) {
			return one(v)
		}
	}
	return value{}
}
