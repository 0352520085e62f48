package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// busRow is a bus as stored. The default bus without a row has ID 0.
type busRow struct {
	ID          int64
	Key         busKey
	Description string
	DeadLetter  string
	Policy      string
	Version     int64
	Created     time.Time
	Modified    time.Time
}

const busColumns = "id, account, region, name, description, dead_letter, policy, version, created_at, modified_at"

func scanBus(row interface{ Scan(...any) error }) (*busRow, error) {
	var b busRow
	var created, modified int64
	if err := row.Scan(&b.ID, &b.Key.Account, &b.Key.Region, &b.Key.Name, &b.Description, &b.DeadLetter,
		&b.Policy, &b.Version, &created, &modified); err != nil {
		return nil, err
	}
	b.Created, b.Modified = time.Unix(0, created), time.Unix(0, modified)
	return &b, nil
}

// loadBus returns the bus k names, or nil when it does not exist. The default bus always
// exists.
func loadBus(q querier, k busKey) (*busRow, error) {
	b, err := scanBus(q.QueryRow("SELECT "+busColumns+" FROM events_buses WHERE account = ? AND region = ? AND name = ?",
		k.Account, k.Region, k.Name))
	switch {
	case errors.Is(err, sql.ErrNoRows) && k.Name == defaultBus:
		return &busRow{Key: k}, nil
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load event bus %s: %w", k.arn(), err)
	}
	return b, nil
}

// mustBus is loadBus refusing a missing bus with ResourceNotFoundException.
func mustBus(q querier, k busKey) (*busRow, error) {
	b, err := loadBus(q, k)
	if err == nil && b == nil {
		err = busNotFound(k.Name)
	}
	return b, err
}

// storedBus is the bus k names with a row, made for the default bus when it has none yet.
func (s *Service) storedBus(tx *store.Tx, k busKey) (*busRow, error) {
	b, err := mustBus(tx, k)
	if err != nil || b.ID != 0 {
		return b, err
	}
	now := s.now().UnixNano()
	if err := tx.QueryRow("INSERT INTO events_buses (account, region, name, created_at, modified_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
		k.Account, k.Region, k.Name, now, now).Scan(&b.ID); err != nil {
		return nil, fmt.Errorf("store default event bus: %w", err)
	}
	b.Created, b.Modified = time.Unix(0, now), time.Unix(0, now)
	return b, nil
}

// changed marks a change of the bus's rules or targets, so every process rebuilds its routes.
func changed(tx *store.Tx, busID int64) error {
	_, err := tx.Exec("UPDATE events_buses SET version = version + 1 WHERE id = ?", busID)
	return err
}

func (s *Service) registerBusOps() {
	awsproto.Handle(s.api, "CreateEventBus", s.createEventBus)
	awsproto.Handle(s.api, "DescribeEventBus", s.describeEventBus)
	awsproto.Handle(s.api, "ListEventBuses", s.listEventBuses)
	awsproto.Handle(s.api, "DeleteEventBus", s.deleteEventBus)
	awsproto.Handle(s.api, "UpdateEventBus", s.updateEventBus)
	awsproto.Handle(s.api, "PutPermission", s.putPermission)
	awsproto.Handle(s.api, "RemovePermission", s.removePermission)
	awsproto.Handle(s.api, "TagResource", s.tagResource)
	awsproto.Handle(s.api, "UntagResource", s.untagResource)
	awsproto.Handle(s.api, "ListTagsForResource", s.listTagsForResource)
}

// checkDeadLetter refuses a dead-letter configuration that is not an SQS queue's ARN.
func checkDeadLetter(c *DeadLetterConfig) (string, error) {
	if c == nil || c.Arn == nil {
		return "", nil
	}
	arn := *c.Arn
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5] == "" {
		return "", validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
	}
	return arn, nil
}

// refuseUnbuilt refuses bus options Kiri does not implement.
func refuseUnbuilt(kms *string, logs *LogConfig) error {
	if awsproto.Value(kms) != "" {
		return validation("KmsKeyIdentifier is not supported by Kiri: events are stored with the data directory's protection.")
	}
	if logs != nil {
		return validation("LogConfig is not supported by Kiri.")
	}
	return nil
}

func (s *Service) createEventBus(ctx context.Context, in *CreateEventBusRequest) (*CreateEventBusResponse, error) {
	account, region := callerScope(ctx)
	name := awsproto.Value(in.Name)
	if !validName(name, 256, false) {
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [/\\.\\-_A-Za-z0-9]+", name)
	}
	if in.EventSourceName != nil || strings.HasPrefix(name, "aws.") {
		return nil, validation("Event source %s does not exist.", awsproto.Value(in.EventSourceName))
	}
	if err := refuseUnbuilt(in.KmsKeyIdentifier, in.LogConfig); err != nil {
		return nil, err
	}
	dlq, err := checkDeadLetter(in.DeadLetterConfig)
	if err != nil {
		return nil, err
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	k := busKey{Account: account, Region: region, Name: name}
	if name == defaultBus {
		return nil, busExists(name)
	}
	now := s.now().UnixNano()
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if b, err := loadBus(tx, k); err != nil {
			return err
		} else if b != nil {
			return busExists(name)
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_buses WHERE account = ? AND region = ? AND name <> ?", account, region, defaultBus).Scan(&n); err != nil {
			return err
		}
		if n >= maxBuses {
			return limitExceeded("The requested resource exceeds the maximum number allowed.")
		}
		if _, err := tx.Exec("INSERT INTO events_buses (account, region, name, description, dead_letter, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			account, region, name, awsproto.Value(in.Description), dlq, now, now); err != nil {
			return fmt.Errorf("create event bus: %w", err)
		}
		return setTags(tx, k.arn(), tags)
	})
	if err != nil {
		return nil, err
	}
	return &CreateEventBusResponse{EventBusArn: awsproto.Ptr(k.arn()), Description: in.Description, DeadLetterConfig: in.DeadLetterConfig}, nil
}

// maxBuses is the quota of custom buses per account and region.
const maxBuses = 100

func (s *Service) describeEventBus(ctx context.Context, in *DescribeEventBusRequest) (*DescribeEventBusResponse, error) {
	k, err := busParam(ctx, in.Name, false)
	if err != nil {
		return nil, err
	}
	b, err := mustBus(s.reader(ctx), k)
	if err != nil {
		return nil, err
	}
	out := &DescribeEventBusResponse{Name: &k.Name, Arn: awsproto.Ptr(k.arn())}
	if b.ID != 0 {
		out.CreationTime, out.LastModifiedTime = &b.Created, &b.Modified
	}
	if b.Description != "" {
		out.Description = &b.Description
	}
	if b.DeadLetter != "" {
		out.DeadLetterConfig = &DeadLetterConfig{Arn: &b.DeadLetter}
	}
	if b.Policy != "" {
		out.Policy = &b.Policy
	}
	return out, nil
}

func (s *Service) listEventBuses(ctx context.Context, in *ListEventBusesRequest) (*ListEventBusesResponse, error) {
	account, region := callerScope(ctx)
	after, err := decodeToken(in.NextToken, "buses")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	prefix := awsproto.Value(in.NamePrefix)
	var names []busRow
	rows, err := s.st.Query(ctx, "SELECT "+busColumns+" FROM events_buses WHERE account = ? AND region = ? AND name > ? ORDER BY name",
		account, region, after)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	sawDefault := false
	for rows.Next() {
		b, err := scanBus(rows)
		if err != nil {
			return nil, err
		}
		sawDefault = sawDefault || b.Key.Name == defaultBus
		names = append(names, *b)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !sawDefault && defaultBus > after {
		names = append(names, busRow{Key: busKey{Account: account, Region: region, Name: defaultBus}})
	}
	sortBuses(names)
	out := &ListEventBusesResponse{EventBuses: []EventBus{}}
	for _, b := range names {
		if !strings.HasPrefix(b.Key.Name, prefix) {
			continue
		}
		if len(out.EventBuses) == limit {
			out.NextToken = encodeToken("buses", *out.EventBuses[limit-1].Name)
			break
		}
		e := EventBus{Name: awsproto.Ptr(b.Key.Name), Arn: awsproto.Ptr(b.Key.arn())}
		if b.ID != 0 {
			e.CreationTime, e.LastModifiedTime = awsproto.Ptr(b.Created), awsproto.Ptr(b.Modified)
		}
		if b.Description != "" {
			e.Description = awsproto.Ptr(b.Description)
		}
		if b.Policy != "" {
			e.Policy = awsproto.Ptr(b.Policy)
		}
		out.EventBuses = append(out.EventBuses, e)
	}
	return out, nil
}

func sortBuses(bs []busRow) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && bs[j].Key.Name < bs[j-1].Key.Name; j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}

func (s *Service) deleteEventBus(ctx context.Context, in *DeleteEventBusRequest) (*struct{}, error) {
	k, err := busParam(ctx, in.Name, false)
	if err != nil {
		return nil, err
	}
	if k.Name == defaultBus {
		return nil, validation("Cannot delete event bus default.")
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := loadBus(tx, k)
		if err != nil || b == nil {
			return err // deleting a bus that does not exist succeeds, as in AWS
		}
		if _, err := tx.Exec("DELETE FROM events_tags WHERE arn IN (SELECT ? || name FROM events_rules WHERE bus_id = ?)", k.ruleARN(""), b.ID); err != nil {
			return fmt.Errorf("delete event bus: %w", err)
		}
		for _, q := range []string{
			"DELETE FROM events_targets WHERE rule_id IN (SELECT id FROM events_rules WHERE bus_id = ?)",
			"DELETE FROM events_rules WHERE bus_id = ?",
			"DELETE FROM events_archived WHERE archive_id IN (SELECT id FROM events_archives WHERE bus_id = ?)",
			"DELETE FROM events_archives WHERE bus_id = ?",
			"DELETE FROM events_buses WHERE id = ?",
		} {
			if _, err := tx.Exec(q, b.ID); err != nil {
				return fmt.Errorf("delete event bus: %w", err)
			}
		}
		_, err = tx.Exec("DELETE FROM events_tags WHERE arn = ?", k.arn())
		return err
	})
	return &struct{}{}, err
}

func (s *Service) updateEventBus(ctx context.Context, in *UpdateEventBusRequest) (*UpdateEventBusResponse, error) {
	k, err := busParam(ctx, in.Name, false)
	if err != nil {
		return nil, err
	}
	if err := refuseUnbuilt(in.KmsKeyIdentifier, in.LogConfig); err != nil {
		return nil, err
	}
	dlq, err := checkDeadLetter(in.DeadLetterConfig)
	if err != nil {
		return nil, err
	}
	out := &UpdateEventBusResponse{Name: &k.Name, Arn: awsproto.Ptr(k.arn())}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.storedBus(tx, k)
		if err != nil {
			return err
		}
		desc := b.Description
		if in.Description != nil {
			desc = *in.Description
		}
		if in.DeadLetterConfig != nil {
			b.DeadLetter = dlq
		}
		if _, err := tx.Exec("UPDATE events_buses SET description = ?, dead_letter = ?, modified_at = ? WHERE id = ?",
			desc, b.DeadLetter, s.now().UnixNano(), b.ID); err != nil {
			return fmt.Errorf("update event bus: %w", err)
		}
		if desc != "" {
			out.Description = &desc
		}
		if b.DeadLetter != "" {
			out.DeadLetterConfig = &DeadLetterConfig{Arn: &b.DeadLetter}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// busPolicy is the bus's compiled resource policy, nil when it has none.
func (s *Service) busPolicy(b *busRow) *policy.Policy {
	if b == nil || b.Policy == "" {
		return nil
	}
	p, err := s.policies.Parse(b.Policy, policy.Resource)
	if err != nil {
		s.log.Warn("event bus policy no longer parses; it allows nothing", "bus", b.Key.arn(), "error", err)
		return nil
	}
	return p
}

// policyDoc is a bus's resource policy as PutPermission builds it.
type policyDoc struct {
	Version   string            `json:"Version"`
	Statement []json.RawMessage `json:"Statement"`
}

func (s *Service) putPermission(ctx context.Context, in *PutPermissionRequest) (*struct{}, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	var doc string
	sid := awsproto.Value(in.StatementId)
	if in.Policy != nil {
		if _, err := policy.Parse(*in.Policy, policy.Resource); err != nil {
			return nil, validation("Policy is not valid: %v", err)
		}
		doc = *in.Policy
	} else {
		statement, err := permissionStatement(k, in)
		if err != nil {
			return nil, err
		}
		err = s.st.Write(ctx, func(tx *store.Tx) error {
			b, err := s.storedBus(tx, k)
			if err != nil {
				return err
			}
			d := policyDoc{Version: "2012-10-17"}
			if b.Policy != "" {
				if err := json.Unmarshal([]byte(b.Policy), &d); err != nil {
					return validation("The bus's policy cannot take a statement: %v", err)
				}
			}
			for _, st := range d.Statement {
				var head struct{ Sid string }
				if json.Unmarshal(st, &head) == nil && head.Sid == sid {
					return awsproto.Errorf("ResourceAlreadyExistsException", 400, "Statement with the provided id already exists.")
				}
			}
			d.Statement = append(d.Statement, statement)
			body, _ := json.Marshal(d)
			return s.setPolicy(tx, b, string(body))
		})
		return &struct{}{}, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.storedBus(tx, k)
		if err != nil {
			return err
		}
		return s.setPolicy(tx, b, doc)
	})
	return &struct{}{}, err
}

func (s *Service) setPolicy(tx *store.Tx, b *busRow, doc string) error {
	if len(doc) > 10240 {
		return awsproto.Errorf("PolicyLengthExceededException", 400, "The policy is longer than the maximum length allowed.")
	}
	_, err := tx.Exec("UPDATE events_buses SET policy = ?, modified_at = ? WHERE id = ?", doc, s.now().UnixNano(), b.ID)
	return err
}

// permissionStatement is the statement PutPermission's Action, Principal, StatementId and
// Condition stand for.
func permissionStatement(k busKey, in *PutPermissionRequest) (json.RawMessage, error) {
	action, who, sid := awsproto.Value(in.Action), awsproto.Value(in.Principal), awsproto.Value(in.StatementId)
	if action == "" || who == "" || sid == "" {
		return nil, validation("Parameter(s) Action, Principal, StatementId must be specified when Policy is not.")
	}
	if action != "events:PutEvents" {
		return nil, validation("Provided value in parameter 'action' is not supported.")
	}
	st := map[string]any{"Sid": sid, "Effect": "Allow", "Action": action, "Resource": k.arn()}
	switch {
	case who == "*":
		st["Principal"] = "*"
	case len(who) == 12 && strings.Trim(who, "0123456789") == "":
		st["Principal"] = map[string]string{"AWS": "arn:aws:iam::" + who + ":root"}
	default:
		return nil, validation("Parameter %s is not valid. Reason: Principal must be a 12-digit account ID or *.", who)
	}
	if c := in.Condition; c != nil {
		if awsproto.Value(c.Type) != "StringEquals" || awsproto.Value(c.Key) != "aws:PrincipalOrgID" {
			return nil, validation("Condition is not valid. Reason: Only the StringEquals type with the key aws:PrincipalOrgID is supported.")
		}
		st["Condition"] = map[string]any{"StringEquals": map[string]string{"aws:PrincipalOrgID": awsproto.Value(c.Value)}}
	} else if who == "*" {
		return nil, validation("Condition must be specified when Principal is *.")
	}
	b, err := json.Marshal(st)
	return b, err
}

func (s *Service) removePermission(ctx context.Context, in *RemovePermissionRequest) (*struct{}, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	all, sid := awsproto.Value(in.RemoveAllPermissions), awsproto.Value(in.StatementId)
	if !all && sid == "" {
		return nil, validation("Parameter StatementId must be specified when RemoveAllPermissions is not true.")
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := mustBus(tx, k)
		if err != nil {
			return err
		}
		if b.Policy == "" {
			if all {
				return nil
			}
			return awsproto.Errorf("ResourceNotFoundException", 400, "EventBus does not have a policy.")
		}
		if all {
			return s.setPolicy(tx, b, "")
		}
		var d policyDoc
		if err := json.Unmarshal([]byte(b.Policy), &d); err != nil {
			return awsproto.Errorf("ResourceNotFoundException", 400, "Statement with the provided id does not exist.")
		}
		kept := d.Statement[:0]
		for _, st := range d.Statement {
			var head struct{ Sid string }
			if json.Unmarshal(st, &head) == nil && head.Sid == sid {
				continue
			}
			kept = append(kept, st)
		}
		if len(kept) == len(d.Statement) {
			return awsproto.Errorf("ResourceNotFoundException", 400, "Statement with the provided id does not exist.")
		}
		if len(kept) == 0 {
			return s.setPolicy(tx, b, "")
		}
		d.Statement = kept
		body, _ := json.Marshal(d)
		return s.setPolicy(tx, b, string(body))
	})
	return &struct{}{}, err
}
