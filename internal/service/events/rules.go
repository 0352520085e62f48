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
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/store"
)

// Rule states.
const (
	stateEnabled  = "ENABLED"
	stateDisabled = "DISABLED"
	// stateCloudTrail is ENABLED that also matches CloudTrail's read-only management events,
	// which Kiri does not emit: it routes as ENABLED does.
	stateCloudTrail = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// maxRules is the quota of rules per bus.
const maxRules = 300

// ruleRow is a rule as stored.
type ruleRow struct {
	ID          int64
	BusID       int64
	Bus         busKey
	Name        string
	Pattern     string
	Schedule    string
	State       string
	Description string
	RoleARN     string
	Created     time.Time
}

func (r *ruleRow) arn() string { return r.Bus.ruleARN(r.Name) }

func (r *ruleRow) enabled() bool { return r.State != stateDisabled }

const ruleColumns = "r.id, r.bus_id, b.account, b.region, b.name, r.name, r.pattern, r.schedule, r.state, r.description, r.role_arn, r.created_at"

const ruleFrom = " FROM events_rules r JOIN events_buses b ON b.id = r.bus_id "

// scanRule reads ruleColumns, and then the columns more names.
func scanRule(row interface{ Scan(...any) error }, more ...any) (*ruleRow, error) {
	var r ruleRow
	var created int64
	if err := row.Scan(append([]any{&r.ID, &r.BusID, &r.Bus.Account, &r.Bus.Region, &r.Bus.Name, &r.Name, &r.Pattern, &r.Schedule,
		&r.State, &r.Description, &r.RoleARN, &created}, more...)...); err != nil {
		return nil, err
	}
	r.Created = time.Unix(0, created)
	return &r, nil
}

// loadRule returns the rule name of the bus k, or nil when there is none.
func loadRule(q querier, k busKey, name string) (*ruleRow, error) {
	r, err := scanRule(q.QueryRow("SELECT "+ruleColumns+ruleFrom+"WHERE b.account = ? AND b.region = ? AND b.name = ? AND r.name = ?",
		k.Account, k.Region, k.Name, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load rule %s: %w", k.ruleARN(name), err)
	}
	return r, nil
}

// mustRule is loadRule refusing a missing bus or rule with ResourceNotFoundException.
func mustRule(q querier, k busKey, name string) (*ruleRow, error) {
	if _, err := mustBus(q, k); err != nil {
		return nil, err
	}
	r, err := loadRule(q, k, name)
	if err == nil && r == nil {
		err = ruleNotFound(name, k.Name)
	}
	return r, err
}

func (s *Service) registerRuleOps() {
	awsproto.Handle(s.api, "PutRule", s.putRule)
	awsproto.Handle(s.api, "DescribeRule", s.describeRule)
	awsproto.Handle(s.api, "ListRules", s.listRules)
	awsproto.Handle(s.api, "DeleteRule", s.deleteRule)
	awsproto.Handle(s.api, "EnableRule", s.enableRule)
	awsproto.Handle(s.api, "DisableRule", s.disableRule)
	awsproto.Handle(s.api, "ListRuleNamesByTarget", s.listRuleNamesByTarget)
	awsproto.Handle(s.api, "TestEventPattern", s.testEventPattern)
}

// compilePattern compiles an event pattern, refusing it with AWS's
// InvalidEventPatternException.
func compilePattern(src string) (*pattern.Pattern, error) {
	p, err := pattern.Compile([]byte(src))
	var pe *pattern.Error
	if errors.As(err, &pe) {
		return nil, awsproto.Errorf(pe.Code, 400, "%s", pe.Message)
	}
	return p, err
}

func checkRuleName(name string) error {
	if !validName(name, 64, false) {
		return validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	return nil
}

func (s *Service) putRule(ctx context.Context, in *PutRuleRequest) (*PutRuleResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	if err := checkRuleName(name); err != nil {
		return nil, err
	}
	pat, sched := awsproto.Value(in.EventPattern), awsproto.Value(in.ScheduleExpression)
	if pat == "" && sched == "" {
		return nil, validation("Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	if pat != "" {
		if _, err := compilePattern(pat); err != nil {
			return nil, err
		}
	}
	if sched != "" {
		if k.Name != defaultBus {
			return nil, validation("ScheduleExpression is supported only on the default event bus.")
		}
		if err := checkSchedule(sched); err != nil {
			return nil, err
		}
	}
	state := awsproto.Value(in.State)
	if state == "" {
		state = stateEnabled
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixNano()
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.storedBus(tx, k)
		if err != nil {
			return err
		}
		old, err := loadRule(tx, k, name)
		if err != nil {
			return err
		}
		if old != nil {
			if _, err := tx.Exec("UPDATE events_rules SET pattern = ?, schedule = ?, state = ?, description = ?, role_arn = ? WHERE id = ?",
				pat, sched, state, awsproto.Value(in.Description), awsproto.Value(in.RoleArn), old.ID); err != nil {
				return fmt.Errorf("update rule: %w", err)
			}
		} else {
			var n int
			if err := tx.QueryRow("SELECT COUNT(*) FROM events_rules WHERE bus_id = ?", b.ID).Scan(&n); err != nil {
				return err
			}
			if n >= maxRules {
				return limitExceeded("The requested resource exceeds the maximum number allowed.")
			}
			if _, err := tx.Exec("INSERT INTO events_rules (bus_id, name, pattern, schedule, state, description, role_arn, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				b.ID, name, pat, sched, state, awsproto.Value(in.Description), awsproto.Value(in.RoleArn), now); err != nil {
				return fmt.Errorf("create rule: %w", err)
			}
			if err := setTags(tx, k.ruleARN(name), tags); err != nil {
				return err
			}
		}
		r, err := loadRule(tx, k, name)
		if err != nil {
			return err
		}
		if err := s.scheduleRule(tx, r); err != nil {
			return err
		}
		return changed(tx, b.ID)
	})
	if err != nil {
		return nil, err
	}
	return &PutRuleResponse{RuleArn: awsproto.Ptr(k.ruleARN(name))}, nil
}

func (s *Service) describeRule(ctx context.Context, in *DescribeRuleRequest) (*DescribeRuleResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	r, err := mustRule(s.reader(ctx), k, awsproto.Value(in.Name))
	if err != nil {
		return nil, err
	}
	v := ruleShape(r)
	return &DescribeRuleResponse{Arn: v.Arn, Name: v.Name, EventBusName: v.EventBusName, EventPattern: v.EventPattern,
		ScheduleExpression: v.ScheduleExpression, State: v.State, Description: v.Description, RoleArn: v.RoleArn,
		CreatedBy: awsproto.Ptr(k.Account)}, nil
}

// ruleShape is a rule as the API describes it.
func ruleShape(r *ruleRow) Rule {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return awsproto.Ptr(s)
	}
	return Rule{Arn: awsproto.Ptr(r.arn()), Name: awsproto.Ptr(r.Name), EventBusName: awsproto.Ptr(r.Bus.Name),
		EventPattern: opt(r.Pattern), ScheduleExpression: opt(r.Schedule), State: awsproto.Ptr(r.State),
		Description: opt(r.Description), RoleArn: opt(r.RoleARN)}
}

func (s *Service) listRules(ctx context.Context, in *ListRulesRequest) (*ListRulesResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken, "rules")
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	if _, err := mustBus(q, k); err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	prefix := awsproto.Value(in.NamePrefix)
	rows, err := q.Query("SELECT "+ruleColumns+ruleFrom+"WHERE b.account = ? AND b.region = ? AND b.name = ? AND r.name > ? AND r.name >= ? ORDER BY r.name LIMIT ?",
		k.Account, k.Region, k.Name, after, prefix, limit+1)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListRulesResponse{Rules: []Rule{}}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(r.Name, prefix) {
			break
		}
		if len(out.Rules) == limit {
			out.NextToken = encodeToken("rules", *out.Rules[limit-1].Name)
			break
		}
		out.Rules = append(out.Rules, ruleShape(r))
	}
	return out, rows.Err()
}

func (s *Service) deleteRule(ctx context.Context, in *DeleteRuleRequest) (*struct{}, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := mustBus(tx, k); err != nil {
			return err
		}
		r, err := loadRule(tx, k, name)
		if err != nil || r == nil {
			return err // deleting a rule that does not exist succeeds, as in AWS
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_targets WHERE rule_id = ?", r.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return validation("Rule can't be deleted since it has targets.")
		}
		if _, err := tx.Exec("DELETE FROM events_rules WHERE id = ?", r.ID); err != nil {
			return fmt.Errorf("delete rule: %w", err)
		}
		if _, err := tx.Exec("DELETE FROM events_tags WHERE arn = ?", r.arn()); err != nil {
			return err
		}
		return changed(tx, r.BusID)
	})
	return &struct{}{}, err
}

func (s *Service) enableRule(ctx context.Context, in *EnableRuleRequest) (*struct{}, error) {
	return &struct{}{}, s.setRuleState(ctx, in.EventBusName, awsproto.Value(in.Name), stateEnabled)
}

func (s *Service) disableRule(ctx context.Context, in *DisableRuleRequest) (*struct{}, error) {
	return &struct{}{}, s.setRuleState(ctx, in.EventBusName, awsproto.Value(in.Name), stateDisabled)
}

func (s *Service) setRuleState(ctx context.Context, bus *string, name, state string) error {
	k, err := busParam(ctx, bus, false)
	if err != nil {
		return err
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := mustRule(tx, k, name)
		if err != nil {
			return err
		}
		if state == stateEnabled && r.State == stateCloudTrail {
			return nil
		}
		if _, err := tx.Exec("UPDATE events_rules SET state = ? WHERE id = ?", state, r.ID); err != nil {
			return err
		}
		r.State = state
		if err := s.scheduleRule(tx, r); err != nil {
			return err
		}
		return changed(tx, r.BusID)
	})
}

func (s *Service) listRuleNamesByTarget(ctx context.Context, in *ListRuleNamesByTargetRequest) (*ListRuleNamesByTargetResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken, "rulenames")
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	if _, err := mustBus(q, k); err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	rows, err := q.Query("SELECT DISTINCT r.name"+ruleFrom+"JOIN events_targets t ON t.rule_id = r.id WHERE b.account = ? AND b.region = ? AND b.name = ? AND t.arn = ? AND r.name > ? ORDER BY r.name LIMIT ?",
		k.Account, k.Region, k.Name, awsproto.Value(in.TargetArn), after, limit+1)
	names, err := store.Strings(rows, err)
	if err != nil {
		return nil, err
	}
	out := &ListRuleNamesByTargetResponse{RuleNames: names}
	if len(names) > limit {
		out.RuleNames = names[:limit]
		out.NextToken = encodeToken("rulenames", names[limit-1])
	}
	return out, nil
}

// eventRequired are the fields TestEventPattern requires of its event.
var eventRequired = []string{"id", "account", "source", "time", "region", "detail-type"}

func (s *Service) testEventPattern(ctx context.Context, in *TestEventPatternRequest) (*TestEventPatternResponse, error) {
	p, err := compilePattern(awsproto.Value(in.EventPattern))
	if err != nil {
		return nil, err
	}
	event := []byte(awsproto.Value(in.Event))
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(event, &fields); err != nil {
		return nil, validation("Parameter Event is not valid.")
	}
	for _, f := range eventRequired {
		if _, ok := fields[f]; !ok {
			return nil, validation("Parameter Event is not valid. Reason: Provided Event must have the following fields: %s.", strings.Join(eventRequired, ", "))
		}
	}
	ok, err := p.Matches(event)
	if err != nil {
		return nil, validation("Parameter Event is not valid.")
	}
	return &TestEventPatternResponse{Result: &ok}, nil
}
