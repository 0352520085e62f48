package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerAliasOps() {
	awsproto.Handle(s.api, "CreateAlias", s.createAlias)
	awsproto.Handle(s.api, "GetAlias", s.getAlias)
	awsproto.Handle(s.api, "UpdateAlias", s.updateAlias)
	awsproto.Handle(s.api, "DeleteAlias", s.deleteAlias)
	awsproto.Handle(s.api, "ListAliases", s.listAliases)
}

// aliasBody is an alias as stored in lambda_aliases.body.
type aliasBody struct {
	Name            string             `json:"name"`
	FunctionVersion string             `json:"version"`
	Description     string             `json:"description,omitempty"`
	Weights         map[string]float64 `json:"weights,omitempty"`
	RevisionID      string             `json:"revisionId"`
}

func (a *aliasBody) render(r funcRef) *AliasConfiguration {
	out := &AliasConfiguration{
		AliasArn:        ptr(qualifiedARN(r.account, r.region, r.name, a.Name)),
		Name:            ptr(a.Name),
		FunctionVersion: ptr(a.FunctionVersion),
		Description:     ptr(a.Description),
		RevisionId:      ptr(a.RevisionID),
	}
	if len(a.Weights) > 0 {
		out.RoutingConfig = &AliasRoutingConfiguration{AdditionalVersionWeights: maps.Clone(a.Weights)}
	}
	return out
}

func loadAlias(q rowQuerier, r funcRef, name string) (*aliasBody, bool, error) {
	return loadJSONRow[aliasBody](q, "alias", `SELECT body FROM lambda_aliases WHERE account = ? AND region = ? AND name = ? AND alias = ?`,
		r.account, r.region, r.name, name)
}

func saveAlias(tx txExec, r funcRef, a *aliasBody) error {
	body, err := json.Marshal(a)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_aliases (account, region, name, alias, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name, alias) DO UPDATE SET body = excluded.body`,
		r.account, r.region, r.name, a.Name, string(body))
	if err != nil {
		return fmt.Errorf("save alias: %w", err)
	}
	return nil
}

// aliasesOf lists the aliases that route to version, as primary or additional version.
func aliasesOf(q rowQuerier, r funcRef, version string) ([]string, error) {
	all, err := allAliases(q, r)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, a := range all {
		if _, extra := a.Weights[version]; a.FunctionVersion == version || extra {
			names = append(names, a.Name)
		}
	}
	return names, nil
}

func allAliases(q rowQuerier, r funcRef) ([]*aliasBody, error) {
	rows, err := q.Query(`SELECT body FROM lambda_aliases WHERE account = ? AND region = ? AND name = ? ORDER BY alias`, r.account, r.region, r.name)
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	defer rows.Close()
	var out []*aliasBody
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var a aliasBody
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("decode alias: %w", err)
		}
		out = append(out, &a)
	}
	return out, rows.Err()
}

// checkRouting applies AWS's rules for an alias's primary version and routing weights: the
// primary is $LATEST or a version; with weights it must be a published version; at most one
// additional version, different from the primary, weighted 0 to 1; every version must exist.
func checkRouting(r funcRef, primary string, weights map[string]float64, exists func(version string) (bool, error)) error {
	if primary != latest && !isVersionNumber(primary) {
		return validation(fmt.Sprintf("Value '%s' at 'functionVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)", primary))
	}
	if ok, err := exists(primary); err != nil {
		return err
	} else if !ok {
		return functionNotFound(qualifiedARN(r.account, r.region, r.name, primary))
	}
	if len(weights) == 0 {
		return nil
	}
	if primary == latest {
		return invalidParameter("$LATEST is not supported for an alias pointing to more than 1 version")
	}
	if len(weights) > 1 {
		return invalidParameter("Number of items in AdditionalVersionWeights cannot be greater than 1")
	}
	for v, w := range weights {
		if !isVersionNumber(v) {
			return validation(fmt.Sprintf("Value '%s' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [0-9]+]", v))
		}
		if w < 0 || w > 1 {
			return validation(fmt.Sprintf("Value '%v' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0]", w))
		}
		if v == primary {
			return invalidParameter("Invalid function version %s. Function version %s is already included in routing configuration.", v, v)
		}
		if ok, err := exists(v); err != nil {
			return err
		} else if !ok {
			return functionNotFound(qualifiedARN(r.account, r.region, r.name, v))
		}
	}
	return nil
}

func versionExists(q rowQuerier, r funcRef) func(string) (bool, error) {
	return func(v string) (bool, error) {
		_, ok, err := loadVersion(q, r, v)
		return ok, err
	}
}

func (s *Service) createAlias(ctx context.Context, in *CreateAliasRequest) (*AliasConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	if !validAlias(name) {
		return nil, validation(fmt.Sprintf("Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)", name))
	}
	a := &aliasBody{Name: name, FunctionVersion: awsproto.Value(in.FunctionVersion), Description: awsproto.Value(in.Description), RevisionID: newRevisionID()}
	if in.RoutingConfig != nil {
		a.Weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err != nil {
			return err
		}
		if _, ok, err := loadAlias(tx, r, name); err != nil {
			return err
		} else if ok {
			return conflict("Alias already exists: %s", qualifiedARN(r.account, r.region, r.name, name))
		}
		if err := checkRouting(r, a.FunctionVersion, a.Weights, versionExists(tx, r)); err != nil {
			return err
		}
		return saveAlias(tx, r, a)
	})
	if err != nil {
		return nil, err
	}
	return a.render(r), nil
}

func (s *Service) getAlias(ctx context.Context, in *GetAliasRequest) (*AliasConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	if _, err := loadFunction(q, r); err != nil {
		return nil, err
	}
	a, ok, err := loadAlias(q, r, awsproto.Value(in.Name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, aliasNotFound(r, awsproto.Value(in.Name))
	}
	return a.render(r), nil
}

func aliasNotFound(r funcRef, name string) error {
	return notFound("Cannot find alias arn: %s", qualifiedARN(r.account, r.region, r.name, name))
}

func (s *Service) updateAlias(ctx context.Context, in *UpdateAliasRequest) (*AliasConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	var a *aliasBody
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err != nil {
			return err
		}
		var ok bool
		if a, ok, err = loadAlias(tx, r, name); err != nil {
			return err
		} else if !ok {
			return aliasNotFound(r, name)
		}
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != a.RevisionID {
			return revisionMismatch("GetFunction/GetAlias")
		}
		if in.FunctionVersion != nil {
			a.FunctionVersion = *in.FunctionVersion
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.RoutingConfig != nil {
			a.Weights = maps.Clone(in.RoutingConfig.AdditionalVersionWeights)
		}
		if err := checkRouting(r, a.FunctionVersion, a.Weights, versionExists(tx, r)); err != nil {
			return err
		}
		a.RevisionID = newRevisionID()
		return saveAlias(tx, r, a)
	})
	if err != nil {
		return nil, err
	}
	return a.render(r), nil
}

func (s *Service) deleteAlias(ctx context.Context, in *DeleteAliasRequest) (*struct{}, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM lambda_aliases WHERE account = ? AND region = ? AND name = ? AND alias = ?`, r.account, r.region, r.name, name); err != nil {
			return fmt.Errorf("delete alias: %w", err)
		}
		for _, table := range []string{"lambda_policies", "lambda_invoke_configs", "lambda_urls"} {
			if _, err := tx.Exec(`DELETE FROM `+table+` WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
				r.account, r.region, r.name, name); err != nil {
				return fmt.Errorf("delete alias: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listAliases(ctx context.Context, in *ListAliasesRequest) (*ListAliasesResponse, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, defaultListMaxItems)
	if err != nil {
		return nil, err
	}
	var after listMarker
	if m := awsproto.Value(in.Marker); m != "" {
		if after, err = decodeMarker(m); err != nil {
			return nil, err
		}
	}
	q := s.reader(ctx)
	if _, err := loadFunction(q, r); err != nil {
		return nil, err
	}
	all, err := allAliases(q, r)
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	out := &ListAliasesResponse{Aliases: []AliasConfiguration{}}
	version := awsproto.Value(in.FunctionVersion)
	for _, a := range all {
		if a.Name <= after.Name || (version != "" && a.FunctionVersion != version) {
			continue
		}
		if len(out.Aliases) == max {
			out.NextMarker = ptr(encodeMarker(listMarker{Name: *out.Aliases[max-1].Name}))
			break
		}
		out.Aliases = append(out.Aliases, *a.render(r))
	}
	return out, nil
}
