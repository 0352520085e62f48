package sfn

import (
	"context"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// alias is a stored state machine alias: a name routing executions to one version, or between
// two by weight.
type alias struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Routing     []route   `json:"routing"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

type route struct {
	Version string `json:"version"`
	Weight  int32  `json:"weight"`
}

func aliasesOf(tx *store.Tx, machineARN string) ([]alias, error) {
	rows, err := tx.Query(`SELECT doc FROM sfn_aliases WHERE machine = ? ORDER BY name`, machineARN)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []alias
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var a alias
		if err := decode(doc, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func loadAlias(q rowQuery, machineARN, name string) (*alias, error) {
	var a alias
	found, err := loadDoc(q, &a, `SELECT doc FROM sfn_aliases WHERE machine = ? AND name = ?`, machineARN, name)
	if !found || err != nil {
		return nil, err
	}
	return &a, nil
}

func putAlias(tx *store.Tx, machineARN string, a *alias) error {
	_, err := tx.Exec(`INSERT INTO sfn_aliases (machine, name, created, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (machine, name) DO UPDATE SET doc = excluded.doc`, machineARN, a.Name, a.Created.UnixNano(), encode(a))
	return err
}

// parseAliasARN reads an alias ARN.
func parseAliasARN(arn string) (machineRef, error) {
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return ref, err
	}
	if ref.alias == "" {
		return ref, invalidARN(arn)
	}
	return ref, nil
}

// checkRouting validates a routing configuration against the machine's versions: one or two
// distinct versions of machineARN whose weights add up to 100.
func checkRouting(tx *store.Tx, machineARN string, items []RoutingConfigurationListItem) ([]route, error) {
	var sum int32
	out := make([]route, 0, len(items))
	for i, it := range items {
		arn := awsproto.Value(it.StateMachineVersionArn)
		ref, err := parseMachineARN(arn, true)
		if err != nil {
			return nil, err
		}
		if ref.version == 0 || ref.machineARN() != machineARN {
			return nil, validation("Routing configuration must contain state machine version ARNs of state machine '%s'", machineARN)
		}
		if i == 1 && out[0].Version == arn {
			return nil, validation("Routing configuration must contain distinct state machine version ARNs. Received: [%s, %s]", arn, arn)
		}
		v, err := loadVersion(tx.QueryRow, machineARN, ref.version)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, resourceNotFound(arn)
		}
		sum += awsproto.Value(it.Weight)
		out = append(out, route{Version: arn, Weight: awsproto.Value(it.Weight)})
	}
	if sum != 100 {
		return nil, validation("Sum of routing configuration weights must be equal to 100. Received: %d", sum)
	}
	return out, nil
}

func (s *Service) createStateMachineAlias(ctx context.Context, in *CreateStateMachineAliasInput) (*CreateStateMachineAliasOutput, error) {
	name := awsproto.Value(in.Name)
	if !validAliasName(name) {
		return nil, invalidName(name)
	}
	if len(in.RoutingConfiguration) == 0 {
		return nil, validation("Routing configuration must contain at least one state machine version ARN")
	}
	ref, err := parseMachineARN(awsproto.Value(in.RoutingConfiguration[0].StateMachineVersionArn), true)
	if err != nil {
		return nil, err
	}
	arn := ref.machineARN() + ":" + name
	out := &CreateStateMachineAliasOutput{StateMachineAliasArn: &arn}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireMachine(tx.QueryRow, ref.machineARN()); err != nil {
			return err
		}
		routing, err := checkRouting(tx, ref.machineARN(), in.RoutingConfiguration)
		if err != nil {
			return err
		}
		old, err := loadAlias(tx.QueryRow, ref.machineARN(), name)
		if err != nil {
			return err
		}
		if old != nil {
			if old.Description == awsproto.Value(in.Description) && equalRoutes(old.Routing, routing) {
				out.CreationDate = &old.Created
				return nil
			}
			return apiError("ConflictException", "Failed to create alias because an alias with the same name and a different routing configuration already exists.")
		}
		now := s.now().UTC()
		a := &alias{Name: name, Description: awsproto.Value(in.Description), Routing: routing, Created: now, Updated: now}
		out.CreationDate = &a.Created
		return putAlias(tx, ref.machineARN(), a)
	})
	if err != nil {
		return nil, wrap("create alias", err)
	}
	return out, nil
}

func equalRoutes(a, b []route) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func routingList(rs []route) []RoutingConfigurationListItem {
	out := make([]RoutingConfigurationListItem, len(rs))
	for i, r := range rs {
		out[i] = RoutingConfigurationListItem{StateMachineVersionArn: awsproto.Ptr(r.Version), Weight: awsproto.Ptr(r.Weight)}
	}
	return out
}

func (s *Service) describeStateMachineAlias(ctx context.Context, in *DescribeStateMachineAliasInput) (*DescribeStateMachineAliasOutput, error) {
	arn := awsproto.Value(in.StateMachineAliasArn)
	ref, err := parseAliasARN(arn)
	if err != nil {
		return nil, err
	}
	a, err := loadAlias(s.reader(ctx), ref.machineARN(), ref.alias)
	if err != nil {
		return nil, wrap("describe alias", err)
	}
	if a == nil {
		return nil, resourceNotFound(arn)
	}
	out := &DescribeStateMachineAliasOutput{StateMachineAliasArn: &arn, Name: &a.Name, RoutingConfiguration: routingList(a.Routing),
		CreationDate: &a.Created, UpdateDate: &a.Updated}
	if a.Description != "" {
		out.Description = &a.Description
	}
	return out, nil
}

func (s *Service) updateStateMachineAlias(ctx context.Context, in *UpdateStateMachineAliasInput) (*UpdateStateMachineAliasOutput, error) {
	arn := awsproto.Value(in.StateMachineAliasArn)
	ref, err := parseAliasARN(arn)
	if err != nil {
		return nil, err
	}
	if in.Description == nil && in.RoutingConfiguration == nil {
		return nil, validation("Either the description or the RoutingConfiguration must be specified")
	}
	out := &UpdateStateMachineAliasOutput{}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := loadAlias(tx.QueryRow, ref.machineARN(), ref.alias)
		if err != nil {
			return err
		}
		if a == nil {
			return resourceNotFound(arn)
		}
		if in.RoutingConfiguration != nil {
			if a.Routing, err = checkRouting(tx, ref.machineARN(), in.RoutingConfiguration); err != nil {
				return err
			}
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		a.Updated = s.now().UTC()
		out.UpdateDate = &a.Updated
		return putAlias(tx, ref.machineARN(), a)
	})
	if err != nil {
		return nil, wrap("update alias", err)
	}
	return out, nil
}

func (s *Service) deleteStateMachineAlias(ctx context.Context, in *DeleteStateMachineAliasInput) (*DeleteStateMachineAliasOutput, error) {
	ref, err := parseAliasARN(awsproto.Value(in.StateMachineAliasArn))
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM sfn_aliases WHERE machine = ? AND name = ?`, ref.machineARN(), ref.alias)
		return err
	})
	if err != nil {
		return nil, wrap("delete alias", err)
	}
	return &DeleteStateMachineAliasOutput{}, nil
}

func (s *Service) listStateMachineAliases(ctx context.Context, in *ListStateMachineAliasesInput) (*ListStateMachineAliasesOutput, error) {
	ref, err := parseMachineARN(awsproto.Value(in.StateMachineArn), false)
	if err != nil {
		return nil, err
	}
	if _, err := requireMachine(s.reader(ctx), ref.machineARN()); err != nil {
		return nil, wrap("list aliases", err)
	}
	all, err := queryDocs[alias](ctx, s.st, `SELECT doc FROM sfn_aliases WHERE machine = ? ORDER BY name`, ref.machineARN())
	if err != nil {
		return nil, wrap("list aliases", err)
	}
	items, next, err := page(all, "aliases", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListStateMachineAliasesOutput{NextToken: next, StateMachineAliases: []StateMachineAliasListItem{}}
	for _, a := range items {
		out.StateMachineAliases = append(out.StateMachineAliases, StateMachineAliasListItem{
			StateMachineAliasArn: awsproto.Ptr(ref.machineARN() + ":" + a.Name), CreationDate: awsproto.Ptr(a.Created)})
	}
	return out, nil
}
