package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/store"
)

// maxTargets is the quota of targets per rule.
const maxTargets = 5

// Retry policy bounds and defaults.
const (
	defaultRetries = 185
	defaultMaxAge  = 86400
)

func (s *Service) registerTargetOps() {
	awsproto.Handle(s.api, "PutTargets", s.putTargets)
	awsproto.Handle(s.api, "RemoveTargets", s.removeTargets)
	awsproto.Handle(s.api, "ListTargetsByRule", s.listTargetsByRule)
}

// deliveredServices are the ARN services Kiri's rules deliver to, by the name AWS's errors use.
var deliveredServices = map[string]bool{"lambda": true, "sqs": true, "sns": true, "events": true, "logs": true, "states": true}

// checkTarget refuses a target EventBridge refuses, or one of a kind Kiri does not deliver to.
func (s *Service) checkTarget(t *Target) error {
	id, arn := awsproto.Value(t.Id), awsproto.Value(t.Arn)
	if !validName(id, 64, false) {
		return validation("1 validation error detected: Value '%s' at 'targets.1.member.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", id)
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] == "" || parts[5] == "" {
		return validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
	}
	svc := parts[2]
	if !deliveredServices[svc] || !s.targets.Delivers(arn) {
		return validation("Parameter %s is not valid. Reason: Kiri does not deliver events to %s targets yet.", arn, svc)
	}
	_, _, _, _, isDest := parseDestARN(arn)
	switch {
	case t.EcsParameters != nil, t.BatchParameters != nil, t.KinesisParameters != nil, t.RunCommandParameters != nil,
		t.RedshiftDataParameters != nil, t.SageMakerPipelineParameters != nil, t.AppSyncParameters != nil:
		return validation("Parameter(s) of target %s are not valid for a target of type %s.", id, svc)
	case t.HttpParameters != nil && !isDest:
		return validation("Parameter(s) HttpParameters are not valid for a target of type %s.", svc)
	}
	if svc == "events" && !isDest {
		if _, ok := parseBusARN(arn); !ok {
			return validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
		}
	}
	if err := checkHTTPParameters(t.HttpParameters); err != nil {
		return err
	}
	if svc == "states" && t.RoleArn == nil {
		return validation("RoleArn is required for target %s.", arn)
	}
	if svc == "logs" && !strings.HasPrefix(parts[5], "log-group:") {
		return validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", arn)
	}
	n := 0
	for _, set := range []bool{t.Input != nil, t.InputPath != nil, t.InputTransformer != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return validation("Only one of Input, InputPath, or InputTransformer must be provided.")
	}
	if svc == "events" && !isDest && n > 0 {
		return validation("Parameter(s) Input, InputPath, InputTransformer are not supported for target type EventBus.")
	}
	if t.Input != nil && !json.Valid([]byte(*t.Input)) {
		return validation("Parameter Input is not valid. Reason: Input must be valid JSON.")
	}
	if t.InputPath != nil {
		if _, err := parsePath(*t.InputPath); err != nil {
			return validation("Parameter InputPath is not valid. Reason: %v", err)
		}
	}
	if t.InputTransformer != nil {
		if _, err := compileTransformer(t.InputTransformer); err != nil {
			return err
		}
	}
	if rp := t.RetryPolicy; rp != nil {
		if v := rp.MaximumRetryAttempts; v != nil && (*v < 0 || *v > 185) {
			return validation("1 validation error detected: Value '%d' at 'targets.1.member.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 185", *v)
		}
		if v := rp.MaximumEventAgeInSeconds; v != nil && (*v < 60 || *v > 86400) {
			return validation("1 validation error detected: Value '%d' at 'targets.1.member.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 86400", *v)
		}
	}
	if _, err := checkDeadLetter(t.DeadLetterConfig); err != nil {
		return err
	}
	if t.SqsParameters != nil && svc != "sqs" {
		return validation("Parameter(s) SqsParameters are not valid for a target of type %s.", svc)
	}
	if svc == "sqs" && strings.HasSuffix(arn, ".fifo") && awsproto.Value(awsproto.Value(t.SqsParameters).MessageGroupId) == "" {
		return validation("Parameter(s) SqsParameters must be specified for FIFO queues target: %s", arn)
	}
	return nil
}

func (s *Service) putTargets(ctx context.Context, in *PutTargetsRequest) (*PutTargetsResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for i := range in.Targets {
		t := &in.Targets[i]
		if err := s.checkTarget(t); err != nil {
			return nil, err
		}
		if ids[*t.Id] {
			return nil, validation("The same target ID %s is used more than once in the request.", *t.Id)
		}
		ids[*t.Id] = true
	}
	name := awsproto.Value(in.Rule)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := mustRule(tx, k, name)
		if err != nil {
			return err
		}
		for _, t := range in.Targets {
			spec, err := json.Marshal(t)
			if err != nil {
				return err
			}
			if _, err := tx.Exec("DELETE FROM events_targets WHERE rule_id = ? AND target_id = ?", r.ID, *t.Id); err != nil {
				return err
			}
			if _, err := tx.Exec("INSERT INTO events_targets (rule_id, target_id, arn, spec) VALUES (?, ?, ?, ?)", r.ID, *t.Id, *t.Arn, string(spec)); err != nil {
				return fmt.Errorf("put target: %w", err)
			}
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_targets WHERE rule_id = ?", r.ID).Scan(&n); err != nil {
			return err
		}
		if n > maxTargets {
			return limitExceeded("The requested resource exceeds the maximum number allowed.")
		}
		return changed(tx, r.BusID)
	})
	if err != nil {
		return nil, err
	}
	return &PutTargetsResponse{FailedEntryCount: awsproto.Ptr(int32(0)), FailedEntries: []PutTargetsResultEntry{}}, nil
}

func (s *Service) removeTargets(ctx context.Context, in *RemoveTargetsRequest) (*RemoveTargetsResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Rule)
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := mustRule(tx, k, name)
		if err != nil {
			return err
		}
		for _, id := range in.Ids {
			if _, err := tx.Exec("DELETE FROM events_targets WHERE rule_id = ? AND target_id = ?", r.ID, id); err != nil {
				return fmt.Errorf("remove target: %w", err)
			}
		}
		return changed(tx, r.BusID)
	})
	if err != nil {
		return nil, err
	}
	return &RemoveTargetsResponse{FailedEntryCount: awsproto.Ptr(int32(0)), FailedEntries: []RemoveTargetsResultEntry{}}, nil
}

func (s *Service) listTargetsByRule(ctx context.Context, in *ListTargetsByRuleRequest) (*ListTargetsByRuleResponse, error) {
	k, err := busParam(ctx, in.EventBusName, false)
	if err != nil {
		return nil, err
	}
	after, err := decodeToken(in.NextToken, "targets")
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	r, err := mustRule(q, k, awsproto.Value(in.Rule))
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	ts, err := loadTargets(q, r.ID, after, limit+1)
	if err != nil {
		return nil, err
	}
	out := &ListTargetsByRuleResponse{Targets: []Target{}}
	for i, t := range ts {
		if i == limit {
			out.NextToken = encodeToken("targets", *ts[limit-1].Id)
			break
		}
		out.Targets = append(out.Targets, t)
	}
	return out, nil
}

// loadTargets returns up to limit targets of a rule after the id after, in id order.
func loadTargets(q querier, ruleID int64, after string, limit int) ([]Target, error) {
	rows, err := q.Query("SELECT spec FROM events_targets WHERE rule_id = ? AND target_id > ? ORDER BY target_id LIMIT ?", ruleID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Target
	for rows.Next() {
		var spec string
		if err := rows.Scan(&spec); err != nil {
			return nil, err
		}
		var t Target
		if err := json.Unmarshal([]byte(spec), &t); err != nil {
			return nil, fmt.Errorf("decode target of rule %d: %w", ruleID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// deliveryPolicy is how hard the registry tries a target: its retry policy (185 retries over
// 24 hours by default), and its dead-letter queue, reached through this service so that the
// message carries the attributes EventBridge adds.
func deliveryPolicy(t *Target, ruleARN string) dispatch.Policy {
	retries, age := int32(defaultRetries), int32(defaultMaxAge)
	if rp := t.RetryPolicy; rp != nil {
		if rp.MaximumRetryAttempts != nil {
			retries = *rp.MaximumRetryAttempts
		}
		if rp.MaximumEventAgeInSeconds != nil {
			age = *rp.MaximumEventAgeInSeconds
		}
	}
	p := dispatch.Policy{MaxAttempts: int(retries) + 1, MaxAge: time.Duration(age) * time.Second}
	if t.DeadLetterConfig != nil && awsproto.Value(t.DeadLetterConfig.Arn) != "" {
		p.DeadLetter = ruleARN
	}
	return p
}

// checkHTTPParameters checks a target's HttpParameters as the model's patterns constrain them.
func checkHTTPParameters(p *HttpParameters) error {
	if p == nil {
		return nil
	}
	for _, v := range p.PathParameterValues {
		if strings.TrimSpace(v) == "" {
			return validation("1 validation error detected: Value '%s' at 'targets.1.member.httpParameters.pathParameterValues' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(?!\\s*$).+", v)
		}
	}
	for k, v := range p.HeaderParameters {
		if len(k) > 512 || len(v) > 512 || !headerKey(k) {
			return validation("1 validation error detected: Value at 'targets.1.member.httpParameters.headerParameters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: ^[!#$%%&'*+-.^_`|~0-9a-zA-Z]+$, Member must have length less than or equal to 512]")
		}
	}
	for k, v := range p.QueryStringParameters {
		if k == "" || len(k) > 512 || len(v) > 512 {
			return validation("1 validation error detected: Value at 'targets.1.member.httpParameters.queryStringParameters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 512]")
		}
	}
	return nil
}

// headerKey reports whether k is an HTTP header name (a token).
func headerKey(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
