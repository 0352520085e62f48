package policy

import "unicode"

// Kind is the kind of document Parse reads; IAM's rules differ between them.
type Kind uint8

const (
	// Identity is an identity-based policy: attached to a user, group or role, or used as a
	// permissions boundary or a session policy. It names no principal and needs resources,
	// and IAM stores it only with Version 2012-10-17.
	Identity Kind = iota + 1
	// Resource is a resource-based policy: a bucket, queue, topic, function or event bus
	// policy. Every statement names a principal and a resource; Version may be absent.
	Resource
	// Trust is a role trust policy: a resource-based policy of the role that names who may
	// assume it, with STS actions only and no Resource.
	Trust
)

// Effect is a statement's Effect.
type Effect uint8

const (
	Allow Effect = iota + 1
	Deny
)

func (e Effect) String() string {
	if e == Deny {
		return "Deny"
	}
	return "Allow"
}

// Versions of the policy language. Only VersionCurrent reads policy variables.
const (
	VersionCurrent = "2012-10-17"
	VersionLegacy  = "2008-10-17"
)

// Policy is a parsed and compiled policy document. It is immutable and safe for concurrent
// use; callers compile a document once and keep the Policy (its exported fields describe
// the document and must not be modified).
type Policy struct {
	Version    string // "" when the document has none
	ID         string
	Statements []Statement

	kind     Kind
	compiled []statement
	// byVendor lists, for each service an action pattern names, the statements that can
	// apply to its actions; anyVendor lists those that can apply to any action (NotAction,
	// a wildcard service). Evaluation visits only these, in statement order.
	byVendor  []vendorStatements
	anyVendor []int32
}

type vendorStatements struct {
	vendor string // lower case, with its colon
	stmts  []int32
}

// Kind is the kind of document p was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Statement is one statement of a policy, as the document wrote it. Lists written as a
// single string are lists of one.
type Statement struct {
	Sid          string
	Effect       Effect
	Principal    *Principals // nil when absent
	NotPrincipal *Principals
	Action       []string // nil when absent
	NotAction    []string
	Resource     []string
	NotResource  []string
	Condition    []Condition // sorted by operator, then key
}

// Principals is a Principal or NotPrincipal element.
type Principals struct {
	All           bool // the element is the string "*"
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one operator and key of a Condition element with the values the policy
// lists for it (numbers and booleans in their JSON text).
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written, e.g. "aws:SourceArn"
	Values   []string
}

// Size is the length IAM measures a policy document by against its size quotas: its
// characters, white space not counted. Quotas are the caller's (for example 6,144 for a
// managed policy, 2,048 for a role trust policy or a user's inline policies).
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}
