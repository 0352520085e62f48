package iam

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// accountView is what the authorizer and auth have asked of one account since IAM last wrote
// in it: each principal's policies and each user's identity. A write in the account drops the
// whole view (changed), so no entry outlives the data it came from.
type accountView struct {
	mu         sync.Mutex
	principals map[string]resolved // by user or role ARN
	users      map[string]userInfo // by user id
}

// resolved is a user's or role's identity-based policies and permissions boundary.
type resolved struct {
	id       string // the entity's unique id; "" when IAM does not know the principal
	identity []*policy.Policy
	boundary *policy.Policy
}

// userInfo is what a user's access keys sign as.
type userInfo struct {
	ok   bool
	arn  string
	tags map[string]string
}

// changed drops the account's cached view: tx changes IAM data of account.
func (s *Service) changed(tx *store.Tx, account string) { s.principals.Changed(tx, account) }

// view returns the account's view, cached when no write is under way.
func (s *Service) view(account string) *accountView {
	v, gen, ok := s.principals.Get(account)
	if ok {
		return v
	}
	v = &accountView{principals: map[string]resolved{}, users: map[string]userInfo{}}
	s.principals.Put(account, v, gen)
	return v
}

// IdentityPolicies implements authz.Identities: the identity-based policies (inline and
// attached, and a user's groups') and the permissions boundary of the user p is, or of the role
// a role session p acts for. A principal IAM does not know has none.
func (s *Service) IdentityPolicies(ctx context.Context, p policy.Principal) ([]*policy.Policy, *policy.Policy, error) {
	var arn, uniqueID string
	switch p.Type {
	case policy.User:
		arn, uniqueID = p.ARN, p.UserID
	case policy.AssumedRole:
		arn = p.Parent
		uniqueID, _, _ = strings.Cut(p.UserID, ":")
	default:
		return nil, nil, nil
	}
	account, _, _, _, ok := splitIAMARN(arn)
	if !ok {
		return nil, nil, nil
	}
	v := s.view(account)
	v.mu.Lock()
	r, ok := v.principals[arn]
	v.mu.Unlock()
	if !ok {
		var err error
		if r, err = s.resolve(s.read(ctx), arn); err != nil {
			return nil, nil, err
		}
		v.mu.Lock()
		v.principals[arn] = r
		v.mu.Unlock()
	}
	// A session or key of an entity since deleted and made again does not act as the new one.
	if r.id == "" || uniqueID != "" && uniqueID != r.id {
		return nil, nil, nil
	}
	return r.identity, r.boundary, nil
}

// resolve loads the policies of the user or role arn names.
func (s *Service) resolve(q db, arn string) (resolved, error) {
	account, kind, _, name, _ := splitIAMARN(arn)
	if kind != kindUser && kind != kindRole {
		return resolved{}, nil
	}
	e, err := findEntity(q, account, kind, name)
	if err != nil || e == nil || e.arn() != arn {
		return resolved{}, err
	}
	r := resolved{id: e.id}
	owners := []*entity{e}
	if kind == kindUser {
		groups, err := userGroups(q, e.id)
		if err != nil {
			return resolved{}, err
		}
		owners = append(owners, groups...)
	}
	for _, o := range owners {
		srcs, err := entitySources(q, o)
		if err != nil {
			return resolved{}, err
		}
		r.identity = append(r.identity, s.parseAll(documents(srcs))...)
	}
	if e.boundary != "" {
		doc, ok, err := defaultDocument(q, account, e.boundary)
		if err != nil {
			return resolved{}, err
		}
		if ok {
			r.boundary = s.parseAll([]string{doc})[0]
		}
	}
	return r, nil
}

// policySource is a policy document and where it comes from, as SimulatePrincipalPolicy
// names it.
type policySource struct {
	doc, id, typ string
}

func documents(srcs []policySource) []string {
	out := make([]string, len(srcs))
	for i, src := range srcs {
		out[i] = src.doc
	}
	return out
}

// entitySources returns an entity's inline policies and the default versions of its attached
// managed policies.
func entitySources(q db, e *entity) ([]policySource, error) {
	inline, err := inlinePolicies(q, e.id)
	if err != nil {
		return nil, err
	}
	var out []policySource
	for name, d := range inline {
		out = append(out, policySource{doc: d, id: name, typ: e.kind})
	}
	sortBy(out, func(p policySource) string { return p.id })
	arns, err := attachedARNs(q, e.id)
	if err != nil {
		return nil, err
	}
	slices.Sort(arns)
	for _, arn := range arns {
		doc, ok, err := defaultDocument(q, e.account, arn)
		if err != nil {
			return nil, err
		}
		if ok {
			typ := "user-managed"
			if isAWSPolicy(arn) {
				typ = "aws-managed"
			}
			out = append(out, policySource{doc: doc, id: arn[strings.LastIndexByte(arn, '/')+1:], typ: typ})
		}
	}
	return out, nil
}

// defaultDocument returns the default version's document of a managed policy.
func defaultDocument(q db, account, arn string) (string, bool, error) {
	p, err := findPolicy(q, account, arn)
	if err != nil || p == nil {
		return "", false, err
	}
	doc, _, ok, err := policyVersionDocument(q, p, p.defaultVersion)
	return doc, ok, err
}

// parseAll compiles stored documents; one that no longer parses (IAM validated it when it was
// stored) stands as a policy that allows nothing.
func (s *Service) parseAll(docs []string) []*policy.Policy {
	out := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := s.compiled.Parse(d, policy.Identity)
		if err != nil {
			s.log.Warn("stored policy no longer parses", "err", err)
			p = allowNothing
		}
		out = append(out, p)
	}
	return out
}

var allowNothing = func() *policy.Policy {
	p, err := policy.Parse(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}()

// userIdentity returns the ARN and tags of a user, by id, from the account's view.
func (s *Service) userIdentity(q db, account, userID string) (userInfo, error) {
	v := s.view(account)
	v.mu.Lock()
	u, ok := v.users[userID]
	v.mu.Unlock()
	if ok {
		return u, nil
	}
	e, err := entityByID(q, userID)
	if err != nil {
		return userInfo{}, err
	}
	if e != nil {
		tags, err := loadTags(q, e.id)
		if err != nil {
			return userInfo{}, err
		}
		u = userInfo{ok: true, arn: e.arn(), tags: tagMap(tags)}
	}
	v.mu.Lock()
	v.users[userID] = u
	v.mu.Unlock()
	return u, nil
}
