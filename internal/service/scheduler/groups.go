package scheduler

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// defaultGroup is the group every account has, and the one schedules go to without a GroupName.
const defaultGroup = "default"

// group is a stored schedule group.
type group struct {
	name              string
	created, modified time.Time
	tags              map[string]string
	token             string
}

// rowQuery runs a query returning one row: a transaction's, or the store's for reads.
type rowQuery func(query string, args ...any) *sql.Row

func (s *Service) reader(ctx context.Context) rowQuery {
	return func(q string, args ...any) *sql.Row { return s.st.QueryRow(ctx, q, args...) }
}

// loadGroup reads a group; the default group exists even before it has a row.
func (s *Service) loadGroup(q rowQuery, sc scope, name string) (*group, error) {
	var created, modified int64
	var tags, token string
	err := q(`SELECT created, modified, tags, token FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?`,
		sc.account, sc.region, name).Scan(&created, &modified, &tags, &token)
	if errors.Is(err, sql.ErrNoRows) {
		if name == defaultGroup {
			now := s.now().UTC().Truncate(time.Second)
			return &group{name: name, created: now, modified: now, tags: map[string]string{}}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g := &group{name: name, created: time.Unix(0, created).UTC(), modified: time.Unix(0, modified).UTC(), token: token}
	if err := json.Unmarshal([]byte(tags), &g.tags); err != nil {
		return nil, err
	}
	return g, nil
}

// requireGroup reads a group, or answers ResourceNotFoundException.
func (s *Service) requireGroup(q rowQuery, sc scope, name string) (*group, error) {
	g, err := s.loadGroup(q, sc, name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, notFound("Schedule group %s does not exist.", name)
	}
	return g, nil
}

// putGroup writes a group's row.
func putGroup(tx *store.Tx, sc scope, g *group) error {
	tags, err := json.Marshal(g.tags)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO scheduler_groups (account, region, name, created, modified, tags, token) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET modified = excluded.modified, tags = excluded.tags`,
		sc.account, sc.region, g.name, g.created.UnixNano(), g.modified.UnixNano(), string(tags), g.token)
	return err
}

// tagMap reads a request's tags, refusing keys AWS reserves.
func tagMap(tags []Tag) (map[string]string, error) {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		k := awsproto.Value(t.Key)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, validation("Tag keys starting with 'aws:' are reserved.")
		}
		m[k] = awsproto.Value(t.Value)
	}
	return m, nil
}

// tagList is a tag map as the API returns it, sorted by key.
func tagList(m map[string]string) []Tag {
	out := make([]Tag, 0, len(m))
	for k, v := range m {
		out = append(out, Tag{Key: awsproto.Ptr(k), Value: awsproto.Ptr(v)})
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Key < *out[j].Key })
	return out
}

func (s *Service) createScheduleGroup(ctx context.Context, in *CreateScheduleGroupInput) (*CreateScheduleGroupOutput, error) {
	sc := scopeOf(ctx)
	name := awsproto.Value(in.Name)
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		g, err := s.loadGroup(tx.QueryRow, sc, name)
		if err != nil {
			return err
		}
		if g != nil && (name == defaultGroup || in.ClientToken == nil || g.token != *in.ClientToken) {
			return conflict("Schedule group %s already exists.", name)
		}
		if g != nil {
			return nil // a retry of the call that created it
		}
		now := s.now().UTC()
		return putGroup(tx, sc, &group{name: name, created: now, modified: now, tags: tags, token: awsproto.Value(in.ClientToken)})
	})
	if err != nil {
		return nil, wrap("create schedule group", err)
	}
	return &CreateScheduleGroupOutput{ScheduleGroupArn: awsproto.Ptr(sc.groupARN(name))}, nil
}

func (s *Service) groupOutput(sc scope, g *group) ScheduleGroupSummary {
	return ScheduleGroupSummary{Arn: awsproto.Ptr(sc.groupARN(g.name)), Name: awsproto.Ptr(g.name), State: awsproto.Ptr("ACTIVE"),
		CreationDate: awsproto.Ptr(g.created), LastModificationDate: awsproto.Ptr(g.modified)}
}

func (s *Service) getScheduleGroup(ctx context.Context, in *GetScheduleGroupInput) (*GetScheduleGroupOutput, error) {
	sc := scopeOf(ctx)
	g, err := s.requireGroup(s.reader(ctx), sc, awsproto.Value(in.Name))
	if err != nil {
		return nil, wrap("get schedule group", err)
	}
	out := GetScheduleGroupOutput(s.groupOutput(sc, g))
	return &out, nil
}

func (s *Service) listScheduleGroups(ctx context.Context, in *ListScheduleGroupsInput) (*ListScheduleGroupsOutput, error) {
	sc := scopeOf(ctx)
	after, err := decodeToken(in.NextToken, "groups")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.MaxResults)
	prefix := awsproto.Value(in.NamePrefix)
	rows, err := s.st.Query(ctx, `SELECT name FROM scheduler_groups WHERE account = ? AND region = ? AND name > ? ORDER BY name`,
		sc.account, sc.region, after)
	if err != nil {
		return nil, wrap("list schedule groups", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("list schedule groups", err)
	}
	// The default group is listed whether or not it has a row yet.
	if defaultGroup > after && !slices.Contains(names, defaultGroup) {
		names = append(names, defaultGroup)
		sort.Strings(names)
	}
	out := &ListScheduleGroupsOutput{ScheduleGroups: []ScheduleGroupSummary{}}
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			continue
		}
		if len(out.ScheduleGroups) == limit {
			out.NextToken = encodeToken("groups", out.ScheduleGroups[limit-1].Name)
			break
		}
		g, err := s.loadGroup(s.reader(ctx), sc, n)
		if err != nil {
			return nil, wrap("list schedule groups", err)
		}
		if g != nil {
			out.ScheduleGroups = append(out.ScheduleGroups, s.groupOutput(sc, g))
		}
	}
	return out, nil
}

func (s *Service) deleteScheduleGroup(ctx context.Context, in *DeleteScheduleGroupInput) (*DeleteScheduleGroupOutput, error) {
	sc := scopeOf(ctx)
	name := awsproto.Value(in.Name)
	if name == defaultGroup {
		return nil, validation("The default schedule group cannot be deleted.")
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.requireGroup(tx.QueryRow, sc, name); err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND grp = ?`, sc.account, sc.region, name); err != nil {
			return err
		}
		_, err := tx.Exec(`DELETE FROM scheduler_groups WHERE account = ? AND region = ? AND name = ?`, sc.account, sc.region, name)
		return err
	})
	if err != nil {
		return nil, wrap("delete schedule group", err)
	}
	return &DeleteScheduleGroupOutput{}, nil
}
