package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) createLogGroup(ctx context.Context, in *CreateLogGroupRequest) (*struct{}, error) {
	name := awsproto.Value(in.LogGroupName)
	if err := checkGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	class := "STANDARD"
	if in.LogGroupClass != nil {
		class = *in.LogGroupClass
	}
	c := awsproto.CallFrom(ctx)
	now := s.now().UnixMilli()
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(`INSERT INTO logs_groups (account, region, name, created_at, class, kms_key_id)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, region, name) DO NOTHING RETURNING id`,
			c.AccountID, c.Region, name, now, class, awsproto.Value(in.KmsKeyId)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return groupExists()
		}
		if err != nil {
			return err
		}
		return putTags(tx, id, in.Tags)
	})
	if err != nil {
		return nil, wrapStoreError("create log group", err)
	}
	return &struct{}{}, nil
}

// ensureGroup returns the id of group name, creating it when missing (within tx).
func ensureGroup(tx *store.Tx, account, region, name string, now int64) (id int64, retention int32, err error) {
	err = tx.QueryRow(`SELECT id, retention_days FROM logs_groups WHERE account = ? AND region = ? AND name = ?`,
		account, region, name).Scan(&id, &retention)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return id, retention, err
	}
	err = tx.QueryRow(`INSERT INTO logs_groups (account, region, name, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		account, region, name, now).Scan(&id)
	return id, 0, err
}

func (s *Service) deleteLogGroup(ctx context.Context, in *DeleteLogGroupRequest) (*struct{}, error) {
	name := awsproto.Value(in.LogGroupName)
	if err := checkGroupName("logGroupName", name); err != nil {
		return nil, err
	}
	c := awsproto.CallFrom(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var id int64
		err := tx.QueryRow(`SELECT id FROM logs_groups WHERE account = ? AND region = ? AND name = ?`,
			c.AccountID, c.Region, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return groupNotFound()
		}
		if err != nil {
			return err
		}
		for _, q := range []string{
			`DELETE FROM logs_streams WHERE group_id = ?`,
			`DELETE FROM logs_tags WHERE group_id = ?`,
			`DELETE FROM logs_groups WHERE id = ?`,
		} {
			if _, err := tx.Exec(q, id); err != nil {
				return err
			}
		}
		return s.enqueuePurge(tx, purgeGroup, id)
	})
	if err != nil {
		return nil, wrapStoreError("delete log group", err)
	}
	return &struct{}{}, nil
}

func (s *Service) describeLogGroups(ctx context.Context, in *DescribeLogGroupsRequest) (*DescribeLogGroupsResponse, error) {
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, invalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if len(in.LogGroupIdentifiers) > 0 && (in.LogGroupNamePrefix != nil || in.LogGroupNamePattern != nil) {
		return nil, invalidParameter("LogGroup identifiers and LogGroup name prefix or pattern are mutually exclusive parameters.")
	}
	cur, _, err := decodeCursor(in.NextToken, "groups")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 50)
	c := awsproto.CallFrom(ctx)
	q := strings.Builder{}
	q.WriteString(`SELECT ` + groupColumns + `,
		(SELECT CAST(COALESCE(SUM(stored_bytes), 0) AS BIGINT) FROM logs_streams s WHERE s.group_id = g.id)
		FROM logs_groups g WHERE account = ? AND region = ? AND name > ?`)
	args := []any{c.AccountID, c.Region, cur.Name}
	if p := awsproto.Value(in.LogGroupNamePrefix); p != "" {
		q.WriteString(` AND substr(name, 1, ?) = ?`)
		args = append(args, len(p), p)
	}
	if p := awsproto.Value(in.LogGroupNamePattern); p != "" {
		q.WriteString(` AND LOWER(name) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+escapeLike(strings.ToLower(p))+"%")
	}
	if in.LogGroupClass != nil {
		q.WriteString(` AND class = ?`)
		args = append(args, *in.LogGroupClass)
	}
	if len(in.LogGroupIdentifiers) > 0 {
		names, err := identifierNames(c, in.LogGroupIdentifiers)
		if err != nil {
			return nil, err
		}
		q.WriteString(` AND name IN (` + placeholders(len(names)) + `)`)
		args = append(args, names...)
	}
	q.WriteString(` ORDER BY name LIMIT ` + strconv.Itoa(limit+1))
	rows, err := s.st.Query(ctx, q.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("describe log groups: %w", err)
	}
	defer rows.Close()
	out := &DescribeLogGroupsResponse{LogGroups: []LogGroup{}}
	for rows.Next() {
		var g group
		var stored int64
		if err := rows.Scan(&g.id, &g.account, &g.region, &g.name, &g.created, &g.retention, &g.class, &g.kmsKeyID, &stored); err != nil {
			return nil, fmt.Errorf("describe log groups: %w", err)
		}
		if len(out.LogGroups) == limit {
			out.NextToken = encodeCursor(cursor{Kind: "groups", Name: *out.LogGroups[limit-1].LogGroupName})
			break
		}
		out.LogGroups = append(out.LogGroups, describeGroup(g, stored))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("describe log groups: %w", err)
	}
	return out, nil
}

func describeGroup(g group, stored int64) LogGroup {
	lg := LogGroup{
		LogGroupName:      awsproto.Ptr(g.name),
		CreationTime:      awsproto.Ptr(g.created),
		MetricFilterCount: awsproto.Ptr(int32(0)),
		Arn:               awsproto.Ptr(g.arn() + ":*"),
		LogGroupArn:       awsproto.Ptr(g.arn()),
		StoredBytes:       awsproto.Ptr(stored),
		LogGroupClass:     awsproto.Ptr(g.class),
	}
	if g.retention > 0 {
		lg.RetentionInDays = awsproto.Ptr(g.retention)
	}
	if g.kmsKeyID != "" {
		lg.KmsKeyId = awsproto.Ptr(g.kmsKeyID)
	}
	return lg
}

// identifierNames turns DescribeLogGroups' logGroupIdentifiers (names or ARNs) into the
// caller's group names; ARNs of other accounts or regions match nothing.
func identifierNames(c *awsproto.Call, ids []string) ([]any, error) {
	names := make([]any, 0, len(ids))
	for _, id := range ids {
		if !strings.HasPrefix(id, "arn:") {
			names = append(names, id)
			continue
		}
		account, region, name, ok := parseGroupARN(id)
		if !ok {
			return nil, invalidParameter("Invalid log group ARN: %s", id)
		}
		if account == c.AccountID && region == c.Region {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		names = append(names, "") // matches no group: names are never empty
	}
	return names, nil
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// escapeLike escapes LIKE's wildcards with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// wrapStoreError passes client errors through and wraps store failures with context.
func wrapStoreError(what string, err error) error {
	if err == nil {
		return nil
	}
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	return fmt.Errorf("%s: %w", what, err)
}
