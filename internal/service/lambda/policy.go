package lambda

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerPolicyOps() {
	awsproto.Handle(s.api, "AddPermission", s.addPermission)
	awsproto.Handle(s.api, "RemovePermission", s.removePermission)
	awsproto.Handle(s.api, "GetPolicy", s.getPolicy)
}

var statementID = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,100}$`)

// permission is one AddPermission call, kept to render its policy statement.
type permission struct {
	Sid                   string `json:"sid"`
	Action                string `json:"action"`
	Principal             string `json:"principal"`
	Resource              string `json:"resource"`
	SourceAccount         string `json:"sourceAccount,omitempty"`
	SourceArn             string `json:"sourceArn,omitempty"`
	EventSourceToken      string `json:"eventSourceToken,omitempty"`
	PrincipalOrgID        string `json:"principalOrgId,omitempty"`
	FunctionURLAuthType   string `json:"functionUrlAuthType,omitempty"`
	InvokedViaFunctionURL bool   `json:"invokedViaFunctionUrl,omitempty"`
}

// statement renders the permission as AWS's policy statement JSON.
func (p permission) statement() json.RawMessage {
	var principal any = p.Principal
	switch {
	case p.Principal == "*":
	case validAccount(p.Principal):
		principal = map[string]string{"AWS": "arn:aws:iam::" + p.Principal + ":root"}
	case len(p.Principal) > 4 && p.Principal[:4] == "arn:":
		principal = map[string]string{"AWS": p.Principal}
	default:
		principal = map[string]string{"Service": p.Principal}
	}
	var cond condition
	cond.add("StringEquals", "AWS:SourceAccount", p.SourceAccount)
	cond.add("StringEquals", "lambda:EventSourceToken", p.EventSourceToken)
	cond.add("StringEquals", "aws:PrincipalOrgID", p.PrincipalOrgID)
	cond.add("StringEquals", "lambda:FunctionUrlAuthType", p.FunctionURLAuthType)
	cond.add("ArnLike", "AWS:SourceArn", p.SourceArn)
	if p.InvokedViaFunctionURL {
		cond.add("Bool", "lambda:InvokedViaFunctionUrl", "true")
	}
	st := struct {
		Sid       string          `json:"Sid"`
		Effect    string          `json:"Effect"`
		Principal any             `json:"Principal"`
		Action    string          `json:"Action"`
		Resource  string          `json:"Resource"`
		Condition json.RawMessage `json:"Condition,omitempty"`
	}{p.Sid, "Allow", principal, p.Action, p.Resource, cond.json()}
	b, _ := json.Marshal(st)
	return b
}

// condition is a policy Condition block that keeps its operators in the order added.
type condition struct {
	ops  []string
	keys map[string][][2]string
}

func (c *condition) add(op, key, value string) {
	if value == "" {
		return
	}
	if c.keys == nil {
		c.keys = map[string][][2]string{}
	}
	if _, ok := c.keys[op]; !ok {
		c.ops = append(c.ops, op)
	}
	c.keys[op] = append(c.keys[op], [2]string{key, value})
}

func (c *condition) json() json.RawMessage {
	if len(c.ops) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, op := range c.ops {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(op)
		b.Write(k)
		b.WriteString(":{")
		for j, kv := range c.keys[op] {
			if j > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(kv[0])
			v, _ := json.Marshal(kv[1])
			b.Write(k)
			b.WriteByte(':')
			b.Write(v)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// renderPolicy is the resource policy document AWS returns from GetPolicy.
func renderPolicy(perms []permission) string {
	var b bytes.Buffer
	b.WriteString(`{"Version":"2012-10-17","Id":"default","Statement":[`)
	for i, p := range perms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p.statement())
	}
	b.WriteString("]}")
	return b.String()
}

func loadPermissions(q rowQuerier, r funcRef) ([]permission, error) {
	var body string
	err := q.QueryRow(`SELECT statements FROM lambda_policies WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
		r.account, r.region, r.name, r.qualifier).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load policy: %w", err)
	}
	var perms []permission
	if err := json.Unmarshal([]byte(body), &perms); err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	return perms, nil
}

func savePermissions(tx txExec, r funcRef, perms []permission) error {
	if len(perms) == 0 {
		_, err := tx.Exec(`DELETE FROM lambda_policies WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
			r.account, r.region, r.name, r.qualifier)
		return err
	}
	body, err := json.Marshal(perms)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_policies (account, region, name, qualifier, statements) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name, qualifier) DO UPDATE SET statements = excluded.statements`,
		r.account, r.region, r.name, r.qualifier, string(body))
	if err != nil {
		return fmt.Errorf("save policy: %w", err)
	}
	return nil
}

// policyOwner is the version or alias a policy belongs to; its revision id guards policy edits.
type policyOwner struct {
	cfg   *fnConfig
	alias *aliasBody
}

func (o policyOwner) revision() string {
	if o.alias != nil {
		return o.alias.RevisionID
	}
	return o.cfg.RevisionID
}

// loadPolicyOwner finds the version or alias a policy request addresses.
func loadPolicyOwner(q rowQuerier, r funcRef) (policyOwner, error) {
	c, alias, err := loadQualified(q, r, true)
	return policyOwner{c, alias}, err
}

// bump gives the policy's owner a new revision id, as a policy change does on AWS.
func (o policyOwner) bump(tx txExec, r funcRef) error {
	if o.alias != nil {
		o.alias.RevisionID = newRevisionID()
		return saveAlias(tx, r, o.alias)
	}
	o.cfg.RevisionID = newRevisionID()
	return saveVersion(tx, r, o.cfg)
}

func (s *Service) addPermission(ctx context.Context, in *AddPermissionRequest) (*AddPermissionResponse, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	sid := awsproto.Value(in.StatementId)
	if !statementID.MatchString(sid) {
		return nil, validation(fmt.Sprintf("Value '%s' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)", sid))
	}
	p := permission{
		Sid: sid, Action: awsproto.Value(in.Action), Principal: awsproto.Value(in.Principal), Resource: r.arn(),
		SourceAccount: awsproto.Value(in.SourceAccount), SourceArn: awsproto.Value(in.SourceArn),
		EventSourceToken: awsproto.Value(in.EventSourceToken), PrincipalOrgID: awsproto.Value(in.PrincipalOrgID),
		FunctionURLAuthType: awsproto.Value(in.FunctionUrlAuthType), InvokedViaFunctionURL: awsproto.Value(in.InvokedViaFunctionUrl),
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		owner, err := loadPolicyOwner(tx, r)
		if err != nil {
			return err
		}
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != owner.revision() {
			return revisionMismatch("GetFunction/GetAlias")
		}
		perms, err := loadPermissions(tx, r)
		if err != nil {
			return err
		}
		for _, old := range perms {
			if old.Sid == sid {
				return conflict("The statement id (%s) provided already exists. Please specify a new statement id, or remove the existing statement.", sid)
			}
		}
		if err := savePermissions(tx, r, append(perms, p)); err != nil {
			return err
		}
		return owner.bump(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return &AddPermissionResponse{Statement: ptr(string(p.statement()))}, nil
}

func (s *Service) removePermission(ctx context.Context, in *RemovePermissionRequest) (*struct{}, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	sid := awsproto.Value(in.StatementId)
	err = s.write(ctx, func(tx *store.Tx) error {
		owner, err := loadPolicyOwner(tx, r)
		if err != nil {
			return err
		}
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != owner.revision() {
			return revisionMismatch("GetFunction/GetAlias")
		}
		perms, err := loadPermissions(tx, r)
		if err != nil {
			return err
		}
		if len(perms) == 0 {
			return notFound("No policy is associated with the given resource.")
		}
		kept := perms[:0]
		for _, p := range perms {
			if p.Sid != sid {
				kept = append(kept, p)
			}
		}
		if len(kept) == len(perms) {
			return notFound("Statement %s is not found in resource policy.", sid)
		}
		if err := savePermissions(tx, r, kept); err != nil {
			return err
		}
		return owner.bump(tx, r)
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) getPolicy(ctx context.Context, in *GetPolicyRequest) (*GetPolicyResponse, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	owner, err := loadPolicyOwner(q, r)
	if err != nil {
		return nil, err
	}
	perms, err := loadPermissions(q, r)
	if err != nil {
		return nil, err
	}
	if len(perms) == 0 {
		return nil, notFound("The resource you requested does not exist.")
	}
	return &GetPolicyResponse{Policy: ptr(renderPolicy(perms)), RevisionId: ptr(owner.revision())}, nil
}
