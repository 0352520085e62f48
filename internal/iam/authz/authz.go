// Package authz is where every service asks whether a call may act on a resource. A service
// names the action, the resource's ARN and account, the resource's policy (if it has one) and
// its own condition keys; the Authorizer adds who the caller is (from the call the edge
// authenticated), that principal's identity-based policies and permission boundary (from IAM)
// and its session policies, and decides with the policy engine (internal/iam/policy), as AWS
// does. With the mode off (dev mode's default) it allows everything and services keep only
// their own rules (S3's ACLs, for example).
package authz

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// Mode says whether calls are authorized against IAM policies.
type Mode string

const (
	// Off allows every call as far as IAM is concerned. Dev mode's default.
	Off Mode = "off"
	// Enforce authorizes every call of every service. Strict mode's default.
	Enforce Mode = "enforce"
)

// Identities finds what IAM attaches to a principal (implemented by the IAM service).
type Identities interface {
	// IdentityPolicies returns the identity-based policies of the user or role p names (of
	// p.Parent for a role session): inline and attached, and for a user its groups'; and its
	// permissions boundary, nil when it has none. A principal IAM does not know has none.
	IdentityPolicies(ctx context.Context, p policy.Principal) (identity []*policy.Policy, boundary *policy.Policy, err error)
}

// Authorizer decides calls for every service. It is safe for concurrent use.
type Authorizer struct {
	mode       Mode
	identities func() Identities
	now        func() time.Time
	sessions   *policy.Cache
}

// New returns an Authorizer in mode. identities is asked for IAM at decision time (IAM is a
// service, built with the others); nil, or a nil answer, means no principal has identity-based
// policies.
func New(mode Mode, identities func() Identities, now func() time.Time) *Authorizer {
	if now == nil {
		now = time.Now
	}
	if identities == nil {
		identities = func() Identities { return nil }
	}
	return &Authorizer{mode: mode, identities: identities, now: now, sessions: policy.NewCache(1024)}
}

// Mode reports the Authorizer's mode.
func (a *Authorizer) Mode() Mode {
	if a == nil {
		return Off
	}
	return a.mode
}

// Request is one question a service asks.
type Request struct {
	// Action is service:Action, e.g. "sqs:SendMessage".
	Action string
	// Resource is the ARN acted on; "*" for actions without a resource (ListQueues).
	Resource string
	// ResourceAccount owns the resource; "" is the caller's account.
	ResourceAccount string
	// ResourcePolicy is the resource's policy (bucket, queue, topic, function policy), nil
	// when it has none.
	ResourcePolicy *policy.Policy
	// Values are the service's condition keys for this call (s3:prefix, aws:ResourceTag/...).
	Values policy.Values
}

// Denied is the refusal of a call: a service answers it with its own access-denied error and
// Message as the message.
type Denied struct {
	Decision policy.Decision
	// Message is AWS's text: "User: ARN is not authorized to perform: ACTION on resource:
	// RESOURCE because ...".
	Message string
}

func (d *Denied) Error() string { return d.Message }

// IsDenied reports whether err is a refusal, and returns it.
func IsDenied(err error) (*Denied, bool) {
	var d *Denied
	ok := errors.As(err, &d)
	return d, ok
}

// Authorize answers nil when the call in ctx may do r, a *Denied when it may not, or another
// error when the decision could not be made. Without a call in ctx (work Kiri does on its own
// behalf) it allows.
func (a *Authorizer) Authorize(ctx context.Context, r Request) error {
	if a == nil || a.mode != Enforce {
		return nil
	}
	c := awsproto.CallFrom(ctx)
	if c == nil {
		return nil
	}
	p := Principal(c)
	req := policy.Request{
		Principal: p, Action: r.Action, Resource: r.Resource, ResourceAccount: r.ResourceAccount,
		Time: a.now(), Region: c.Region, Values: r.Values,
	}
	if req.Resource == "" {
		req.Resource = "*"
	}
	if hr := c.Request; hr != nil {
		req.SecureTransport = hr.TLS != nil
		req.UserAgent = hr.UserAgent()
		req.Referer = hr.Referer()
		req.SourceIP = remoteIP(hr.RemoteAddr)
	}
	set := policy.Set{Resource: r.ResourcePolicy}
	if p.Type == policy.User || p.Type == policy.AssumedRole {
		if ids := a.identities(); ids != nil {
			var err error
			if set.Identity, set.Boundary, err = ids.IdentityPolicies(ctx, p); err != nil {
				return err
			}
		}
	}
	for _, doc := range c.SessionPolicies {
		sp, err := a.sessions.Parse(doc, policy.Identity)
		if err != nil {
			// A session policy that no longer parses grants nothing.
			sp = nil
		}
		if sp != nil {
			set.Session = append(set.Session, sp)
		} else {
			set.Session = append(set.Session, denyAll)
		}
	}
	d := policy.Evaluate(&req, &set)
	if d.Allowed {
		return nil
	}
	resource := r.Resource
	if resource == "*" {
		resource = ""
	}
	return &Denied{Decision: d, Message: d.Message(p.ARN, r.Action, resource)}
}

// denyAll stands for a session policy that cannot be read: it allows nothing.
var denyAll = func() *policy.Policy {
	p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

// Principal is who call c acts for, as the policy engine sees it.
func Principal(c *awsproto.Call) policy.Principal {
	if c.AccountID == "" {
		return policy.Principal{Type: policy.Anonymous}
	}
	arn := c.PrincipalARN
	if arn == "" {
		arn = "arn:aws:iam::" + c.AccountID + ":root"
	}
	p := policy.Principal{Account: c.AccountID, ARN: arn, UserID: c.UserID, Parent: c.ParentARN, Tags: c.PrincipalTags}
	if p.UserID == "" {
		p.UserID = c.AccountID
	}
	switch rest := arnResource(arn); {
	case rest == "root":
		p.Type = policy.Root
	case strings.HasPrefix(rest, "user/"):
		p.Type = policy.User
	case strings.HasPrefix(rest, "assumed-role/"):
		p.Type = policy.AssumedRole
	case strings.HasPrefix(rest, "federated-user/"):
		p.Type = policy.FederatedUser
	default:
		p.Type = policy.Root
	}
	if !c.TokenIssued.IsZero() {
		p.TokenIssueTime = c.TokenIssued
	}
	return p
}

// arnResource is the resource part of an ARN (after its fifth colon).
func arnResource(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[5]
}

// remoteIP reads the client's address from a RemoteAddr.
func remoteIP(addr string) netip.Addr {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}
