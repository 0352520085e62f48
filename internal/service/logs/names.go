package logs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

const (
	groupNamePattern  = `[\.\-_/#A-Za-z0-9]+`
	streamNamePattern = `[^:*]*`
)

// validGroupName reports whether name matches the model's LogGroupName pattern.
func validGroupName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '.' || c == '-' || c == '_' || c == '/' || c == '#' ||
			c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !ok {
			return false
		}
	}
	return true
}

// checkGroupName rejects a name outside the model's pattern, as AWS's validation does.
func checkGroupName(member, name string) error {
	if validGroupName(name) {
		return nil
	}
	return patternError(member, name, groupNamePattern)
}

// checkStreamName rejects a stream name holding ':' or '*'.
func checkStreamName(member, name string) error {
	if !strings.ContainsAny(name, ":*") {
		return nil
	}
	return patternError(member, name, streamNamePattern)
}

func patternError(member, value, pattern string) error {
	return invalidParameter("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
		value, member, pattern)
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// groupARN is a log group's logGroupArn; DescribeLogGroups' arn adds ":*".
func groupARN(region, account, name string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", partition(region), region, account, name)
}

func streamARN(region, account, group, stream string) string {
	return groupARN(region, account, group) + ":log-stream:" + stream
}

// parseGroupARN returns the account, region and group name of a log group ARN, with or
// without its trailing ":*".
func parseGroupARN(arn string) (account, region, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) != 7 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" {
		return "", "", "", false
	}
	name = strings.TrimSuffix(parts[6], ":*")
	if !validGroupName(name) {
		return "", "", "", false
	}
	return parts[4], parts[3], name, true
}

// group is a log group row.
type group struct {
	id                    int64
	account, region, name string
	created               int64
	retention             int32
	class, kmsKeyID       string
}

func (g group) arn() string { return groupARN(g.region, g.account, g.name) }

const groupColumns = `id, account, region, name, created_at, retention_days, class, kms_key_id`

func scanGroup(sc interface{ Scan(...any) error }) (group, error) {
	var g group
	err := sc.Scan(&g.id, &g.account, &g.region, &g.name, &g.created, &g.retention, &g.class, &g.kmsKeyID)
	return g, err
}

// lookupGroup reads the caller's log group name, or answers ResourceNotFoundException.
func (s *Service) lookupGroup(ctx context.Context, account, region, name string) (group, error) {
	g, err := scanGroup(s.st.QueryRow(ctx, `SELECT `+groupColumns+` FROM logs_groups
		WHERE account = ? AND region = ? AND name = ?`, account, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return group{}, groupNotFound()
	}
	if err != nil {
		return group{}, fmt.Errorf("look up log group %q: %w", name, err)
	}
	return g, nil
}

// callerGroup looks up the caller's log group by name.
func (s *Service) callerGroup(ctx context.Context, name string) (group, error) {
	if err := checkGroupName("logGroupName", name); err != nil {
		return group{}, err
	}
	c := awsproto.CallFrom(ctx)
	return s.lookupGroup(ctx, c.AccountID, c.Region, name)
}

// resolveGroup looks up the group a request names by logGroupName or logGroupIdentifier (a
// name or an ARN); exactly one of them must be given.
func (s *Service) resolveGroup(ctx context.Context, name, identifier *string) (group, error) {
	switch {
	case name != nil && identifier != nil:
		return group{}, invalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name != nil:
		return s.callerGroup(ctx, *name)
	case identifier == nil:
		return group{}, invalidParameter("Should provide either name or ARN of the log group")
	}
	id := *identifier
	if !strings.HasPrefix(id, "arn:") {
		return s.callerGroup(ctx, id)
	}
	account, region, gname, ok := parseGroupARN(id)
	if !ok {
		return group{}, invalidParameter("Invalid log group ARN: %s", id)
	}
	c := awsproto.CallFrom(ctx)
	if account != c.AccountID || region != c.Region {
		// Cross-account reads need a monitoring-account link, which Kiri does not have.
		return group{}, groupNotFound()
	}
	return s.lookupGroup(ctx, account, region, gname)
}
