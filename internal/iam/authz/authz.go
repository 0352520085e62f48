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
	"fmt"
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
// Message as the message (or words its own from the other fields).
type Denied struct {
	Decision policy.Decision
	// Principal is the ARN of who was refused, Action the action and Resource the resource
	// ("" for an action without one).
	Principal, Action, Resource string
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
	c, err := a.Caller(ctx)
	if c == nil || err != nil {
		return err
	}
	return c.Decide(r)
}

// Caller is who a call acts for, with the policies that apply to it and the request context
// its decisions are made in. Services that combine IAM's decision with rules of their own
// (S3's ACLs) build on it.
type Caller struct {
	Principal policy.Principal
	// Identity, Boundary and Session are the principal's identity-based policies, permissions
	// boundary and session policies; a Set of them plus a resource's policy decides a request.
	Identity []*policy.Policy
	Boundary *policy.Policy
	Session  []*policy.Policy
	// Context is the request context every decision shares: time, region, transport, source
	// address, user agent and referer (Principal, Action, Resource and Values are per request).
	Context policy.Request
}

// Caller returns who the call in ctx acts for and the policies that apply to it; nil when the
// mode is off or ctx carries no call (work Kiri does on its own behalf), which every decision
// allows.
func (a *Authorizer) Caller(ctx context.Context) (*Caller, error) {
	if a == nil || a.mode != Enforce {
		return nil, nil
	}
	c := awsproto.CallFrom(ctx)
	if c == nil {
		return nil, nil
	}
	caller := &Caller{Principal: Principal(c)}
	caller.Context = policy.Request{Time: a.now(), Region: c.Region}
	if hr := c.Request; hr != nil {
		caller.Context.SecureTransport = hr.TLS != nil
		caller.Context.UserAgent = hr.UserAgent()
		caller.Context.Referer = hr.Referer()
		caller.Context.SourceIP = remoteIP(hr.RemoteAddr)
	}
	var err error
	if caller.Identity, caller.Boundary, err = a.identityPolicies(ctx, caller.Principal); err != nil {
		return nil, err
	}
	for _, doc := range c.SessionPolicies {
		sp, err := a.sessions.Parse(doc, policy.Identity)
		if err != nil {
			sp = denyAll // a session policy that no longer parses grants nothing
		}
		caller.Session = append(caller.Session, sp)
	}
	if caller.Principal.Type == policy.FederatedUser && len(caller.Session) == 0 && a.identities() == nil {
		caller.Session = interimIdentity
	}
	return caller, nil
}

// identityPolicies asks IAM for what it attaches to an IAM principal. Without IAM, users and
// role sessions have their account's full permissions, as its root user does (the interim
// rule until IAM keeps policies): resource policies, boundaries of none and session policies
// still limit them, and another account's resources still need a resource policy's grant.
func (a *Authorizer) identityPolicies(ctx context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	if p.Type != policy.User && p.Type != policy.AssumedRole && p.Type != policy.FederatedUser {
		return nil, nil, nil
	}
	ids := a.identities()
	if ids == nil {
		return interimIdentity, nil, nil
	}
	identity, boundary, err := ids.IdentityPolicies(ctx, p)
	if err != nil {
		return nil, nil, fmt.Errorf("identity policies of %s: %w", p.ARN, err)
	}
	return identity, boundary, nil
}

// Set is what applies to a request on a resource whose policy is resource (nil for none).
func (c *Caller) Set(resource *policy.Policy) policy.Set {
	return policy.Set{Identity: c.Identity, Boundary: c.Boundary, Session: c.Session, Resource: resource}
}

// Request is the engine's request for r made by c.
func (c *Caller) Request(r Request) policy.Request {
	req := c.Context
	req.Principal, req.Action, req.Resource, req.ResourceAccount, req.Values = c.Principal, r.Action, r.Resource, r.ResourceAccount, r.Values
	if req.Resource == "" {
		req.Resource = "*"
	}
	return req
}

// Decide answers nil when c may do r, else a *Denied.
func (c *Caller) Decide(r Request) error {
	req := c.Request(r)
	set := c.Set(r.ResourcePolicy)
	return decided(&req, &set, r)
}

// decided evaluates req and words a refusal.
func decided(req *policy.Request, set *policy.Set, r Request) error {
	d := policy.Evaluate(req, set)
	if d.Allowed {
		return nil
	}
	resource := r.Resource
	if resource == "*" {
		resource = ""
	}
	arn := req.Principal.ARN
	return &Denied{Decision: d, Principal: arn, Action: r.Action, Resource: resource, Message: d.Message(arn, r.Action, resource)}
}

// AuthorizeRole decides a request Kiri makes as an IAM role on its own initiative, as AWS
// services do with a role they were given (a function's execution role sending to its
// destinations): the role's identity-based policies and the resource's policy decide. session
// names the role session ("" for the role's name). With the mode off it allows.
func (a *Authorizer) AuthorizeRole(ctx context.Context, roleARN, session string, r Request) error {
	if a == nil || a.mode != Enforce {
		return nil
	}
	p, ok := RolePrincipal(roleARN, session)
	if !ok {
		return &Denied{Principal: roleARN, Action: r.Action, Resource: r.Resource,
			Message: "Role " + roleARN + " is not an IAM role ARN; it is not authorized to perform: " + r.Action}
	}
	identity, boundary, err := a.identityPolicies(ctx, p)
	if err != nil {
		return err
	}
	req := policy.Request{Principal: p, Action: r.Action, Resource: r.Resource, ResourceAccount: r.ResourceAccount,
		Time: a.now(), Values: r.Values, ViaAWSService: false}
	if req.Resource == "" {
		req.Resource = "*"
	}
	set := policy.Set{Identity: identity, Boundary: boundary, Resource: r.ResourcePolicy}
	return decided(&req, &set, r)
}

// AuthorizeService decides a request an AWS service principal (s3.amazonaws.com) makes on its
// own behalf for the resource sourceARN of sourceAccount (aws:SourceArn, aws:SourceAccount), as
// when S3 sends a notification to a queue: only the target's resource policy can allow it.
// With the mode off it allows.
func (a *Authorizer) AuthorizeService(ctx context.Context, service, sourceARN, sourceAccount string, r Request) error {
	if a == nil || a.mode != Enforce {
		return nil
	}
	req := policy.Request{Principal: policy.Principal{Type: policy.Service, ARN: service}, Action: r.Action,
		Resource: r.Resource, ResourceAccount: r.ResourceAccount, Time: a.now(), Values: r.Values,
		SourceARN: sourceARN, SourceAccount: sourceAccount}
	set := policy.Set{Resource: r.ResourcePolicy}
	return decided(&req, &set, r)
}

// RolePrincipal is the principal of a session of the role roleARN (arn:aws:iam::ACCOUNT:role/PATH/NAME)
// named session (the role's name when ""); ok is false when roleARN names no role.
func RolePrincipal(roleARN, session string) (p policy.Principal, ok bool) {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return p, false
	}
	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	if name == "" {
		return p, false
	}
	if session == "" {
		session = name
	}
	return policy.Principal{
		Type: policy.AssumedRole, Account: parts[4], Parent: roleARN,
		ARN: "arn:" + parts[1] + ":sts::" + parts[4] + ":assumed-role/" + name + "/" + session,
	}, true
}

// interimIdentity stands for the identity-based policies of users and role sessions while
// Kiri runs without IAM: the account's full permissions.
var interimIdentity = []*policy.Policy{mustIdentity(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}

// denyAll stands for a session policy that cannot be read: it allows nothing.
var denyAll = mustIdentity(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)

func mustIdentity(doc string) *policy.Policy {
	p, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}

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
	switch rest := arnResource(arn); {
	case rest == "root":
		p.Type = policy.Root
	case strings.HasPrefix(rest, "user/"):
		p.Type = policy.User
	case strings.HasPrefix(rest, "assumed-role/"):
		p.Type = policy.AssumedRole
		if p.Parent == "" {
			// A session that does not carry its role's ARN names the role without its path.
			role, _, _ := strings.Cut(strings.TrimPrefix(rest, "assumed-role/"), "/")
			parts := strings.SplitN(arn, ":", 6)
			p.Parent = "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
		}
	case strings.HasPrefix(rest, "federated-user/"):
		p.Type = policy.FederatedUser
	default:
		p.Type = policy.Root
	}
	if p.UserID == "" && p.Type == policy.Root {
		// The root's aws:userid is its account; a session a service makes as a role has no
		// unique id to give (aws:userid absent), as AuthorizeRole's sessions have none.
		p.UserID = c.AccountID
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
