package policy

import (
	"slices"
	"strings"
)

// Set is the policies that apply to one request.
type Set struct {
	// Identity is the principal's identity-based policies: those of the user (inline and
	// attached, and its groups') or the role of a session.
	Identity []*Policy
	// Resource is the resource's resource-based policy, or the role's trust policy for
	// sts:AssumeRole; nil when it has none.
	Resource *Policy
	// Boundary is the permissions boundary of the user or role; nil when it has none.
	Boundary *Policy
	// Session is the session policies the session was created with (inline and managed);
	// empty when it has none.
	Session []*Policy
}

// PolicyType is the type of policy a decision turned on.
type PolicyType uint8

const (
	IdentityBased PolicyType = iota + 1
	ResourceBased
	PermissionsBoundary
	SessionPolicy
	RoleTrust
)

// String is the type as AWS's access-denied messages name it.
func (t PolicyType) String() string {
	switch t {
	case IdentityBased:
		return "identity-based policy"
	case ResourceBased:
		return "resource-based policy"
	case PermissionsBoundary:
		return "permissions boundary"
	case SessionPolicy:
		return "session policy"
	case RoleTrust:
		return "role trust policy"
	}
	return "policy"
}

// Decision is the outcome of evaluating a request, and why.
type Decision struct {
	Allowed bool
	// Explicit is true when a Deny statement decided.
	Explicit bool
	// Type is the policy type that decided: the one holding the Deny, the one that lacks
	// the Allow the request needed, or the one whose Allow granted it. It is zero when the
	// root user was allowed with no policy involved.
	Type PolicyType
	// Policy and Statement are the deciding statement (Policy.Statements[Statement]); Policy
	// is nil for an implicit deny.
	Policy    *Policy
	Statement int
}

// Reason is the end of AWS's access-denied message for a denied request: "with an explicit
// deny in a resource-based policy", "because no identity-based policy allows the s3:GetObject
// action". It is "" for an allowed request.
func (d Decision) Reason(action string) string {
	switch {
	case d.Allowed:
		return ""
	case d.Explicit:
		return "with an explicit deny in " + article(d.Type) + " " + d.Type.String()
	}
	return "because no " + d.Type.String() + " allows the " + action + " action"
}

// Message is AWS's access-denied message: "User: ARN is not authorized to perform: ACTION
// on resource: RESOURCE because ...". resource may be "" for actions without one.
func (d Decision) Message(principalARN, action, resource string) string {
	var b strings.Builder
	b.WriteString("User: " + principalARN + " is not authorized to perform: " + action)
	if resource != "" {
		b.WriteString(" on resource: " + resource)
	}
	b.WriteString(" " + d.Reason(action))
	return b.String()
}

func article(t PolicyType) string {
	if t == IdentityBased {
		return "an"
	}
	return "a"
}

// grant is how directly a resource-based policy allows a principal. Within its account, a
// principal named directly needs nothing else; a session's role (or federating user) named
// needs what limits the session to allow too; an account named only delegates to the
// account's identity-based policies.
type grant uint8

const (
	grantNone grant = iota
	grantAccount
	grantEntity
	grantDirect
)

// evaluation is the state of one Evaluate call, kept on its stack.
type evaluation struct {
	req         *Request
	vendor      string // the action's service prefix with its colon
	resParts    [6]string
	resARN      bool
	hasBoundary bool
}

// variable resolves a policy variable: a single-valued key's value, else its default.
func (e *evaluation) variable(v *variable) (string, bool) {
	val := e.req.lookup(&v.key)
	if val.present && val.n == 1 {
		return val.str(0), true
	}
	return v.def, v.hasDef
}

// hit is the first statement of a policy type that allowed, or the Deny that applied.
type hit struct {
	policy *Policy
	index  int
	grant  grant
}

// Evaluate decides a request with AWS's policy evaluation logic:
//   - an explicit Deny in any policy denies;
//   - within the resource's account, an Allow in the identity-based policies (within the
//     permissions boundary and session policies) or in the resource-based policy allows.
//     A resource-based policy naming the user or session itself (or "*") allows on its
//     own; naming a session's role, it still needs the boundary and session policies;
//     naming the account, it delegates to the identity-based policies;
//   - across accounts, the resource-based policy must allow the principal and the
//     principal's own account must allow the request too;
//   - a role trust policy must allow even within its account;
//   - the root user is allowed what no policy denies in its own account; anonymous and
//     service principals only what a resource-based policy allows them.
//
// Evaluate does not allocate.
func Evaluate(req *Request, set *Set) Decision {
	e := evaluation{req: req, hasBoundary: set.Boundary != nil}
	if i := strings.IndexByte(req.Action, ':'); i >= 0 {
		e.vendor = req.Action[:i+1]
	}
	e.resParts, e.resARN = splitARN(req.Resource)
	var h hits
	h.resourceType = ResourceBased
	if set.Resource != nil && set.Resource.kind == Trust {
		h.resourceType = RoleTrust
	}
	if req.Principal.Type != Anonymous && req.Principal.Type != Service {
		if d, denied := e.scanAll(IdentityBased, set.Identity, &h.identity); denied {
			return d
		}
		if d, denied := e.scanAll(PermissionsBoundary, []*Policy{set.Boundary}, &h.boundary); denied {
			return d
		}
		if d, denied := e.scanAll(SessionPolicy, set.Session, &h.session); denied {
			return d
		}
	}
	if d, denied := e.scanAll(h.resourceType, []*Policy{set.Resource}, &h.resource); denied {
		return d
	}
	return h.decide(req, set)
}

// hits is the first statement of each policy type that allowed the request.
type hits struct {
	identity, boundary, session, resource hit
	resourceType                          PolicyType // ResourceBased, or RoleTrust
}

// decide combines the allows of each policy type, no Deny having applied.
func (h *hits) decide(req *Request, set *Set) Decision {
	p := &req.Principal
	iam := p.Type != Anonymous && p.Type != Service
	sameAccount := req.ResourceAccount == "" || req.ResourceAccount == p.Account
	// limits is what the permissions boundary and session policies deny of an allow.
	limits := PolicyType(0)
	switch {
	case set.Boundary != nil && h.boundary.policy == nil:
		limits = PermissionsBoundary
	case p.Type.session() && len(set.Session) > 0 && h.session.policy == nil:
		limits = SessionPolicy
	case p.Type == FederatedUser && len(set.Session) == 0:
		limits = SessionPolicy // a federated user has only what its session policies allow
	}
	// own is why the principal's own account does not allow the request (0 when it does).
	// Within its account, a resource-based policy naming a session's role stands in for the
	// role's identity-based policies.
	own := limits
	switch {
	case p.Type == Root:
		own = 0
	case !iam:
		own = h.resourceType
	case h.identity.policy == nil && !(sameAccount && h.resource.grant == grantEntity):
		own = IdentityBased
	}
	g := h.resource.grant
	switch {
	case (!sameAccount || h.resourceType == RoleTrust || !iam) && g == grantNone:
		return implicit(h.resourceType) // the resource-based policy must allow
	case !iam, sameAccount && g == grantDirect, sameAccount && g == grantEntity && limits == 0:
		return allow(h.resourceType, h.resource)
	case own != 0:
		return implicit(own)
	case h.identity.policy != nil:
		return allow(IdentityBased, h.identity)
	case g != grantNone:
		return allow(h.resourceType, h.resource)
	}
	return Decision{Allowed: true, Statement: -1} // the root user in its own account
}

// scanAll scans the policies of one type (nil ones are absent): the first Deny decides, else
// the first Allow is kept in first.
func (e *evaluation) scanAll(t PolicyType, pols []*Policy, first *hit) (Decision, bool) {
	for _, pol := range pols {
		if pol == nil {
			continue
		}
		d, a := e.scan(pol)
		if d.policy != nil {
			return deny(t, d), true
		}
		if first.policy == nil {
			*first = a
		}
	}
	return Decision{}, false
}

func deny(t PolicyType, h hit) Decision {
	return Decision{Explicit: true, Type: t, Policy: h.policy, Statement: h.index}
}

func implicit(t PolicyType) Decision { return Decision{Type: t, Statement: -1} }

func allow(t PolicyType, h hit) Decision {
	return Decision{Allowed: true, Type: t, Policy: h.policy, Statement: h.index}
}

// scan evaluates one policy: the first Deny statement that applies, else the first Allow
// (for a resource-based policy, the one granting most directly).
func (e *evaluation) scan(pol *Policy) (denied, allowed hit) {
	var group []int32
	for i := range pol.byVendor {
		if equalLower(e.vendor, pol.byVendor[i].vendor) {
			group = pol.byVendor[i].stmts
			break
		}
	}
	other := pol.anyVendor
	for len(group) > 0 || len(other) > 0 {
		var i int32
		if len(other) == 0 || len(group) > 0 && group[0] < other[0] {
			i, group = group[0], group[1:]
		} else {
			i, other = other[0], other[1:]
		}
		st := &pol.compiled[i]
		g, ok := e.applies(st)
		if !ok {
			continue
		}
		if st.effect == Deny {
			return hit{policy: pol, index: int(i)}, hit{}
		}
		if allowed.policy == nil || g > allowed.grant {
			allowed = hit{policy: pol, index: int(i), grant: g}
		}
	}
	return hit{}, allowed
}

// applies reports whether a statement applies to the request and, for a statement naming
// principals, how directly it names this one.
func (e *evaluation) applies(st *statement) (grant, bool) {
	if !e.actionMatches(st) || !e.resourceMatches(st) {
		return grantNone, false
	}
	g := grantDirect
	switch {
	case st.principal != nil:
		if g = st.principal.grantTo(&e.req.Principal); g == grantNone {
			return grantNone, false
		}
	case st.notPrincipal != nil:
		if st.notPrincipal.excludes(&e.req.Principal, st.effect == Deny && e.hasBoundary) {
			return grantNone, false
		}
	}
	for i := range st.conds {
		if !st.conds[i].holds(e) {
			return grantNone, false
		}
	}
	return g, true
}

func (e *evaluation) actionMatches(st *statement) bool {
	for i := range st.actions {
		g := &st.actions[i]
		action := e.req.Action
		if g.vendor != "" {
			if !equalLower(e.vendor, g.vendor) {
				continue
			}
			action = action[len(e.vendor):]
		}
		if g.match(action, true, e) {
			return !st.notAction
		}
	}
	return st.notAction
}

func (e *evaluation) resourceMatches(st *statement) bool {
	if st.anyResource {
		return true
	}
	for i := range st.resources {
		if st.resources[i].match(&e.resParts, e.resARN, e) {
			return !st.notResource
		}
	}
	return st.notResource
}

// grantTo reports how directly the element names the principal.
func (pp *principals) grantTo(p *Principal) grant {
	if pp.all {
		return grantDirect
	}
	switch p.Type {
	case Anonymous:
		return grantNone
	case Service:
		if containsFold(pp.services, p.ARN) {
			return grantDirect
		}
		return grantNone
	}
	g := grantNone
	for _, a := range pp.arns {
		switch {
		case a == p.ARN && p.Type != Root || a == uniqueOf(p) && p.Type == User:
			return grantDirect
		case a == p.Parent && p.Parent != "" || a == uniqueOf(p) && p.Type == AssumedRole:
			g = grantEntity
		}
	}
	if p.Provider != "" && slices.Contains(pp.federated, p.Provider) {
		return grantDirect
	}
	if g == grantNone && (slices.Contains(pp.accounts, p.Account) ||
		p.CanonicalID != "" && slices.Contains(pp.canonical, p.CanonicalID)) {
		g = grantAccount
	}
	return g
}

// excludes reports whether a NotPrincipal element exempts the principal: every identity
// AWS evaluates it as (its account, a session's role, the session or user itself) must be
// named. A Deny's NotPrincipal exempts no principal that has a permissions boundary, as AWS
// documents.
func (pp *principals) excludes(p *Principal, hasBoundary bool) bool {
	if pp.all {
		return true
	}
	switch p.Type {
	case Anonymous:
		return false
	case Service:
		return containsFold(pp.services, p.ARN)
	}
	if hasBoundary {
		return false
	}
	account := slices.Contains(pp.accounts, p.Account) || p.CanonicalID != "" && slices.Contains(pp.canonical, p.CanonicalID)
	if !account {
		return false
	}
	named := func(s string) bool { return slices.Contains(pp.arns, s) }
	switch p.Type {
	case User:
		return named(p.ARN) || named(uniqueOf(p))
	case AssumedRole:
		return (named(p.Parent) || named(uniqueOf(p))) && named(p.ARN)
	case FederatedUser:
		return named(p.ARN)
	}
	return true // the root user is its account
}

// uniqueOf is the unique id of a user or of a session's role: aws:userid up to its colon.
func uniqueOf(p *Principal) string {
	id, _, _ := strings.Cut(p.UserID, ":")
	if id == "" {
		return "\x00" // matches nothing
	}
	return id
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
