package iam

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// simulation is what SimulatePrincipalPolicy and SimulateCustomPolicy evaluate.
type simulation struct {
	principal policy.Principal
	sources   []policySource
	parsed    []*policy.Policy
	boundary  *policy.Policy
	bsource   policySource
	resource  *policy.Policy
	rsource   policySource
	owner     string
	values    policy.ValueMap
}

func (s *Service) simulatePrincipalPolicy(ctx context.Context, in *SimulatePrincipalPolicyRequest) (*SimulatePolicyResponse, error) {
	account, _ := caller(ctx)
	arn := awsproto.Value(in.PolicySourceArn)
	if err := s.allow(ctx, "SimulatePrincipalPolicy", arn); err != nil {
		return nil, err
	}
	acct, kind, _, name, ok := splitIAMARN(arn)
	if !ok || acct != account || kind != kindUser && kind != kindGroup && kind != kindRole {
		return nil, invalidInput("Invalid ARN: %s", arn)
	}
	q := s.read(ctx)
	e, err := findEntity(q, account, kind, name)
	if err != nil {
		return nil, err
	}
	if e == nil || e.arn() != arn {
		return nil, awsproto.Errorf("NoSuchEntity", 404, "The %s with name %s cannot be found.", kindNoun(kind), name)
	}
	sim := &simulation{owner: account}
	owners := []*entity{e}
	switch kind {
	case kindUser:
		sim.principal = policy.Principal{Type: policy.User, Account: account, ARN: arn, UserID: e.id}
		groups, err := userGroups(q, e.id)
		if err != nil {
			return nil, err
		}
		owners = append(owners, groups...)
	case kindRole:
		sim.principal = policy.Principal{Type: policy.AssumedRole, Account: account, Parent: arn, UserID: e.id + ":simulation",
			ARN: "arn:aws:sts::" + account + ":assumed-role/" + e.name + "/simulation"}
	case kindGroup:
		// A group is simulated as a user in it.
		sim.principal = policy.Principal{Type: policy.User, Account: account, ARN: arnOf(account, kindUser, "/", "simulation"), UserID: "AIDASIMULATION"}
	}
	for _, o := range owners {
		srcs, err := entitySources(q, o)
		if err != nil {
			return nil, err
		}
		sim.sources = append(sim.sources, srcs...)
	}
	if e.boundary != "" && len(in.PermissionsBoundaryPolicyInputList) == 0 {
		doc, ok, err := defaultDocument(q, account, e.boundary)
		if err != nil {
			return nil, err
		}
		if ok {
			sim.bsource = policySource{doc: doc, id: e.boundary[strings.LastIndexByte(e.boundary, '/')+1:], typ: "none"}
		}
	}
	return s.simulate(sim, in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames, in.ResourceArns,
		in.ResourcePolicy, in.ResourceOwner, in.CallerArn, in.ContextEntries, in.Marker, in.MaxItems)
}

func (s *Service) simulateCustomPolicy(ctx context.Context, in *SimulateCustomPolicyRequest) (*SimulatePolicyResponse, error) {
	account, _ := caller(ctx)
	if err := s.allow(ctx, "SimulateCustomPolicy", "*"); err != nil {
		return nil, err
	}
	sim := &simulation{owner: account,
		principal: policy.Principal{Type: policy.User, Account: account, ARN: arnOf(account, kindUser, "/", "simulation"), UserID: "AIDASIMULATION"}}
	return s.simulate(sim, in.PolicyInputList, in.PermissionsBoundaryPolicyInputList, in.ActionNames, in.ResourceArns,
		in.ResourcePolicy, in.ResourceOwner, in.CallerArn, in.ContextEntries, in.Marker, in.MaxItems)
}

// simulate evaluates every action on every resource with the policy engine.
func (s *Service) simulate(sim *simulation, inputs, boundaries, actions, resources []string, resourcePolicy, resourceOwner, callerARN *string,
	entries []ContextEntry, marker *string, maxItems *int32) (*SimulatePolicyResponse, error) {
	for i, doc := range inputs {
		sim.sources = append(sim.sources, policySource{doc: doc, id: fmt.Sprintf("PolicyInputList.%d", i+1), typ: "none"})
	}
	for _, src := range sim.sources {
		p, err := policy.Parse(src.doc, policy.Identity)
		if err != nil {
			return nil, malformed(err)
		}
		sim.parsed = append(sim.parsed, p)
	}
	if len(boundaries) > 0 {
		sim.bsource = policySource{doc: boundaries[0], id: "PermissionsBoundaryPolicyInputList.1", typ: "none"}
	}
	if sim.bsource.doc != "" {
		p, err := policy.Parse(sim.bsource.doc, policy.Identity)
		if err != nil {
			return nil, malformed(err)
		}
		sim.boundary = p
	}
	if resourcePolicy != nil {
		p, err := policy.Parse(*resourcePolicy, policy.Resource)
		if err != nil {
			return nil, malformed(err)
		}
		sim.resource, sim.rsource = p, policySource{doc: *resourcePolicy, id: "ResourcePolicy", typ: "resource"}
	}
	if callerARN != nil {
		acct, kind, _, _, ok := splitIAMARN(*callerARN)
		if !ok || kind != kindUser && kind != kindRole {
			return nil, invalidInput("Invalid ARN: %s", *callerARN)
		}
		sim.principal.ARN, sim.principal.Account = *callerARN, acct
	}
	if resourceOwner != nil {
		// ResourceOwner is an account ARN, arn:aws:iam::ACCOUNT:root.
		if parts := strings.Split(*resourceOwner, ":"); len(parts) == 6 {
			sim.owner = parts[4]
		}
	}
	sim.values = policy.ValueMap{}
	for _, e := range entries {
		k := strings.ToLower(awsproto.Value(e.ContextKeyName))
		sim.values[k] = append(sim.values[k], e.ContextKeyValues...)
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var results []EvaluationResult
	for _, action := range actions {
		for _, resource := range resources {
			results = append(results, sim.evaluate(action, resource))
		}
	}
	return pageResults(results, marker, maxItems)
}

// pageResults pages evaluation results by their position.
func pageResults(results []EvaluationResult, marker *string, maxItems *int32) (*SimulatePolicyResponse, error) {
	type indexed struct {
		i int
		r EvaluationResult
	}
	all := make([]indexed, len(results))
	for i, r := range results {
		all[i] = indexed{i, r}
	}
	items, truncated, next, err := page(all, func(x indexed) string { return fmt.Sprintf("%08d", x.i) }, marker, maxItems)
	if err != nil {
		return nil, err
	}
	out := &SimulatePolicyResponse{EvaluationResults: []EvaluationResult{}, IsTruncated: awsproto.Ptr(truncated), Marker: next}
	for _, x := range items {
		out.EvaluationResults = append(out.EvaluationResults, x.r)
	}
	return out, nil
}

func (sim *simulation) evaluate(action, resource string) EvaluationResult {
	req := policy.Request{Principal: sim.principal, Action: action, Resource: resource, ResourceAccount: sim.owner, Values: sim.values}
	d := policy.Evaluate(&req, &policy.Set{Identity: sim.parsed, Boundary: sim.boundary, Resource: sim.resource})
	r := EvaluationResult{EvalActionName: awsproto.Ptr(action), EvalResourceName: awsproto.Ptr(resource), MatchedStatements: []Statement{},
		MissingContextValues: []string{}}
	switch {
	case d.Allowed:
		r.EvalDecision = awsproto.Ptr("allowed")
	case d.Explicit:
		r.EvalDecision = awsproto.Ptr("explicitDeny")
	default:
		r.EvalDecision = awsproto.Ptr("implicitDeny")
	}
	if d.Policy != nil {
		if src, ok := sim.sourceOf(d.Policy); ok {
			r.MatchedStatements = append(r.MatchedStatements, matchedStatement(src, d.Statement))
		}
	}
	return r
}

// sourceOf finds where a deciding policy came from.
func (sim *simulation) sourceOf(p *policy.Policy) (policySource, bool) {
	for i, pp := range sim.parsed {
		if pp == p {
			return sim.sources[i], true
		}
	}
	switch p {
	case sim.boundary:
		return sim.bsource, true
	case sim.resource:
		return sim.rsource, true
	}
	return policySource{}, false
}

// matchedStatement names statement i of a source with its place in the document.
func matchedStatement(src policySource, i int) Statement {
	st := Statement{SourcePolicyId: awsproto.Ptr(src.id), SourcePolicyType: awsproto.Ptr(src.typ)}
	if start, end, ok := statementSpan(src.doc, i); ok {
		st.StartPosition, st.EndPosition = position(src.doc, start), position(src.doc, end)
	}
	return st
}

// statementSpan finds the byte offsets where statement i of a document starts and ends.
func statementSpan(doc string, i int) (start, end int, ok bool) {
	dec := json.NewDecoder(strings.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, 0, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return 0, 0, false
		}
		if k, _ := t.(string); k != "Statement" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return 0, 0, false
			}
			continue
		}
		begin := int(dec.InputOffset())
		var raw json.RawMessage
		if dec.Decode(&raw) != nil {
			return 0, 0, false
		}
		if raw[0] == '{' {
			if i != 0 {
				return 0, 0, false
			}
			s := begin + strings.IndexByte(doc[begin:], '{')
			return s, s + len(raw), true
		}
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || i >= len(list) {
			return 0, 0, false
		}
		off := begin
		for j := 0; j <= i; j++ {
			off += strings.Index(doc[off:], string(list[j][:1]))
			if j == i {
				return off, off + len(list[j]), true
			}
			off += len(list[j])
		}
	}
	return 0, 0, false
}

// position is a byte offset as a 1-based line and column.
func position(doc string, off int) *Position {
	line := strings.Count(doc[:off], "\n") + 1
	col := off - strings.LastIndexByte(doc[:off], '\n')
	return &Position{Line: awsproto.Ptr(int32(line)), Column: awsproto.Ptr(int32(col))}
}

func (s *Service) getAccountSummary(ctx context.Context, _ *struct{}) (*GetAccountSummaryResponse, error) {
	account, _ := caller(ctx)
	if err := s.allow(ctx, "GetAccountSummary", "*"); err != nil {
		return nil, err
	}
	q := s.read(ctx)
	m := map[string]int32{
		"AccessKeysPerUserQuota": maxKeysPerUser, "AttachedPoliciesPerGroupQuota": maxAttached,
		"AttachedPoliciesPerRoleQuota": maxAttached, "AttachedPoliciesPerUserQuota": maxAttached,
		"GroupsPerUserQuota": maxGroupsPerUser, "PolicySizeQuota": managedPolicyQuota, "PolicyVersionsInUseQuota": 10000,
		"VersionsPerPolicyQuota": maxPolicyVersions, "AssumeRolePolicySizeQuota": trustPolicyQuota,
		"UserPolicySizeQuota": int32(inlineQuota[kindUser]), "GroupPolicySizeQuota": int32(inlineQuota[kindGroup]),
		"RolePolicySizeQuota": int32(inlineQuota[kindRole]), "UsersQuota": 5000, "GroupsQuota": 300, "RolesQuota": 1000,
		"PoliciesQuota": 1500, "InstanceProfilesQuota": 1000, "GlobalEndpointTokenVersion": 1,
		"AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0, "AccountSigningCertificatesPresent": 0, "MFADevices": 0,
		"MFADevicesInUse": 0, "Providers": 0, "ServerCertificates": 0, "ServerCertificatesQuota": 20, "SigningCertificatesPerUserQuota": 2,
	}
	for key, query := range map[string]string{
		"Users":               `SELECT COUNT(*) FROM iam_entities WHERE account = ? AND kind = 'user'`,
		"Groups":              `SELECT COUNT(*) FROM iam_entities WHERE account = ? AND kind = 'group'`,
		"Roles":               `SELECT COUNT(*) FROM iam_entities WHERE account = ? AND kind = 'role'`,
		"Policies":            `SELECT COUNT(*) FROM iam_policies WHERE account = ?`,
		"InstanceProfiles":    `SELECT COUNT(*) FROM iam_instance_profiles WHERE account = ?`,
		"Providers":           `SELECT COUNT(*) FROM iam_oidc_providers WHERE account = ?`,
		"PolicyVersionsInUse": `SELECT COUNT(*) FROM iam_attachments WHERE account = ?`,
	} {
		n, err := count(q, query, account)
		if err != nil {
			return nil, err
		}
		m[key] = int32(n)
	}
	return &GetAccountSummaryResponse{SummaryMap: m}, nil
}
