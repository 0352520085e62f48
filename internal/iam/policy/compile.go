package policy

import (
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/arn"
)

// statement is a Statement compiled for evaluation.
type statement struct {
	effect       Effect
	principal    *principals // nil when the statement has none (identity-based policies)
	notPrincipal *principals
	actions      []glob // lower case, matched ignoring case
	notAction    bool
	resources    []arnPattern
	notResource  bool
	anyResource  bool // no Resource element (trust policies)
	conds        []cond
}

// principals is a compiled Principal or NotPrincipal element.
type principals struct {
	all       bool     // "*" or {"AWS": "*"}
	accounts  []string // account ids, from ids and root ARNs
	arns      []string // user, role, session ARNs and unique ids
	services  []string // lower case
	federated []string
	canonical []string
}

func (p *Policy) compile() {
	vars := p.Version == VersionCurrent
	p.compiled = make([]statement, len(p.Statements))
	for i := range p.Statements {
		st := &p.Statements[i]
		c := &p.compiled[i]
		c.effect = st.Effect
		c.principal = compilePrincipals(st.Principal)
		c.notPrincipal = compilePrincipals(st.NotPrincipal)
		actions := st.Action
		if st.NotAction != nil {
			actions, c.notAction = st.NotAction, true
		}
		c.actions = make([]glob, len(actions))
		for j, a := range actions {
			// An action with a plain service prefix matches its name after the prefix; the
			// prefix is compared on its own (and groups the statement by service).
			if v, name, ok := strings.Cut(a, ":"); ok && !strings.ContainsAny(v, "*?") {
				c.actions[j] = compileGlob(name, true, false, true)
				c.actions[j].vendor = lowerASCII(v) + ":"
			} else {
				c.actions[j] = compileGlob(a, true, false, true)
			}
		}
		resources := st.Resource
		if st.NotResource != nil {
			resources, c.notResource = st.NotResource, true
		}
		c.anyResource = resources == nil
		c.resources = make([]arnPattern, len(resources))
		for j, r := range resources {
			c.resources[j] = compileARN(r, vars, true)
		}
		for _, cd := range st.Condition {
			if op, ok := parseOperator(cd.Operator); ok {
				c.conds = append(c.conds, compileCondition(cd, op, vars))
			}
		}
		p.index(int32(i), c)
	}
}

// index files a statement under the services its actions name.
func (p *Policy) index(i int32, c *statement) {
	if c.notAction || slices.ContainsFunc(c.actions, func(g glob) bool { return g.vendor == "" }) {
		p.anyVendor = append(p.anyVendor, i)
		return
	}
	for _, g := range c.actions {
		j := slices.IndexFunc(p.byVendor, func(v vendorStatements) bool { return v.vendor == g.vendor })
		if j < 0 {
			p.byVendor = append(p.byVendor, vendorStatements{vendor: g.vendor})
			j = len(p.byVendor) - 1
		}
		if v := &p.byVendor[j]; len(v.stmts) == 0 || v.stmts[len(v.stmts)-1] != i {
			v.stmts = append(v.stmts, i)
		}
	}
}

func compilePrincipals(pp *Principals) *principals {
	if pp == nil {
		return nil
	}
	c := &principals{all: pp.All, federated: pp.Federated, canonical: pp.CanonicalUser}
	for _, v := range pp.AWS {
		switch {
		case v == "*":
			c.all = true
		case arn.IsAccount(v):
			c.accounts = append(c.accounts, v)
		case rootAccount(v) != "":
			c.accounts = append(c.accounts, rootAccount(v))
		default:
			c.arns = append(c.arns, v)
		}
	}
	for _, s := range pp.Service {
		c.services = append(c.services, strings.ToLower(s))
	}
	return c
}

// rootAccount is the account of an arn:PARTITION:iam::ACCOUNT:root ARN, else "".
func rootAccount(v string) string {
	parts, ok := splitARN(v)
	if !ok || parts[0] != "arn" || parts[2] != "iam" || parts[5] != "root" {
		return ""
	}
	return parts[4]
}
