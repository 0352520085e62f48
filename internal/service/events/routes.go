package events

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// busRoutes are a bus's enabled pattern rules with targets, compiled: one Machine matches an
// event against all of them at once.
//
// Archives of the bus are in the same Machine under their id negated; an archive without a
// pattern takes every event.
type busRoutes struct {
	version int64
	machine *pattern.Machine[int64]
	rules   map[int64]*route
	always  []int64 // archives without a pattern
	n       int     // archives
}

// route is one rule and its targets, ready to deliver.
type route struct {
	arn, name string
	targets   []*routeTarget
}

// routeTarget is one target with its input compiled.
type routeTarget struct {
	spec   Target
	path   path // InputPath; nil for none
	tf     *transformer
	policy dispatch.Policy
	params json.RawMessage // HttpParameters, for an API destination
}

// routesOf returns the compiled routes of bus b, rebuilt when its rules or targets changed
// since they were last compiled (its version moved); nil for a bus without rules.
func (s *Service) routesOf(ctx context.Context, b *busRow) (*busRoutes, error) {
	if b.ID == 0 {
		return nil, nil
	}
	s.routesMu.Lock()
	r := s.routes[b.ID]
	s.routesMu.Unlock()
	if r != nil && r.version == b.Version {
		return r, nil
	}
	r, err := s.compileRoutes(ctx, b)
	if err != nil {
		return nil, err
	}
	s.routesMu.Lock()
	if old := s.routes[b.ID]; old == nil || old.version < r.version {
		s.routes[b.ID] = r
	}
	s.routesMu.Unlock()
	return r, nil
}

func (s *Service) compileRoutes(ctx context.Context, b *busRow) (*busRoutes, error) {
	r := &busRoutes{version: b.Version, machine: pattern.NewMachine[int64](), rules: map[int64]*route{}}
	rows, err := s.st.Query(ctx, `SELECT r.id, r.name, r.pattern, t.spec FROM events_rules r JOIN events_targets t ON t.rule_id = r.id
		WHERE r.bus_id = ? AND r.pattern <> '' AND r.state <> ? ORDER BY r.id, t.target_id`, b.ID, stateDisabled)
	if err != nil {
		return nil, fmt.Errorf("load rules of %s: %w", b.Key.arn(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name, pat, spec string
		if err := rows.Scan(&id, &name, &pat, &spec); err != nil {
			return nil, err
		}
		rt := r.rules[id]
		if rt == nil {
			p, err := pattern.Compile([]byte(pat))
			if err != nil {
				s.log.Warn("rule's pattern no longer compiles; it matches nothing", "rule", b.Key.ruleARN(name), "error", err)
				continue
			}
			rt = &route{arn: b.Key.ruleARN(name), name: name}
			r.rules[id] = rt
			r.machine.Add(id, p)
		}
		var t Target
		if err := json.Unmarshal([]byte(spec), &t); err != nil {
			return nil, fmt.Errorf("decode target of %s: %w", rt.arn, err)
		}
		c, err := compileTarget(t, rt.arn)
		if err != nil {
			s.log.Warn("target no longer compiles; nothing is delivered to it", "rule", rt.arn, "target", awsproto.Value(t.Id), "error", err)
			continue
		}
		rt.targets = append(rt.targets, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	archives, err := s.st.Query(ctx, "SELECT id, name, pattern FROM events_archives WHERE bus_id = ?", b.ID)
	if err != nil {
		return nil, fmt.Errorf("load archives of %s: %w", b.Key.arn(), err)
	}
	defer archives.Close()
	for archives.Next() {
		var id int64
		var name, pat string
		if err := archives.Scan(&id, &name, &pat); err != nil {
			return nil, err
		}
		r.n++
		if pat == "" {
			r.always = append(r.always, id)
			continue
		}
		p, err := pattern.Compile([]byte(pat))
		if err != nil {
			s.log.Warn("archive's pattern no longer compiles; it keeps nothing", "archive", name, "error", err)
			continue
		}
		r.machine.Add(-id, p)
	}
	return r, archives.Err()
}

func compileTarget(t Target, ruleARN string) (*routeTarget, error) {
	c := &routeTarget{spec: t, policy: deliveryPolicy(&t, ruleARN)}
	var err error
	if hp := t.HttpParameters; hp != nil {
		if c.params, err = json.Marshal(apidest.HTTPParameters{PathParameterValues: hp.PathParameterValues,
			HeaderParameters: hp.HeaderParameters, QueryStringParameters: hp.QueryStringParameters}); err != nil {
			return nil, err
		}
	}
	if t.InputPath != nil {
		if c.path, err = parsePath(*t.InputPath); err != nil {
			return nil, err
		}
	}
	if t.InputTransformer != nil {
		if c.tf, err = compileTransformer(t.InputTransformer); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ingested is one event put on a bus.
type ingested struct {
	bus   busKey
	id    string
	event []byte
	at    time.Time
}

// route matches an event against the routes of its bus and returns one delivery per target
// of each rule it matches (of the rules in only, when only is not nil: a replay's filter), and
// the archives that keep it (none for a replayed event).
func (s *Service) route(ctx context.Context, r *busRoutes, ev ingested, only map[string]bool) (out []queued, archives []int64, err error) {
	if r == nil || (len(r.rules) == 0 && r.n == 0) {
		return nil, nil, nil
	}
	matched, err := r.machine.Match(ev.event)
	if err != nil {
		return nil, nil, fmt.Errorf("event %s: %w", ev.id, err)
	}
	if only == nil {
		archives = append(archives, r.always...)
	}
	var decoded any
	for _, id := range matched {
		if id < 0 {
			if only == nil {
				archives = append(archives, -id)
			}
			continue
		}
		rt := r.rules[id]
		if only != nil && !only[rt.arn] {
			continue
		}
		for _, t := range rt.targets {
			if decoded == nil && (t.path != nil || t.tf != nil) {
				if decoded, err = decodeEvent(ev.event); err != nil {
					return nil, nil, err
				}
			}
			out = append(out, queued{d: t.delivery(ctx, rt, ev, decoded), p: t.policy})
		}
	}
	return out, archives, nil
}

// queued is a delivery and its policy, to enqueue.
type queued struct {
	d dispatch.Delivery
	p dispatch.Policy
}

// delivery is what the target receives for ev: the event, or its Input, InputPath or
// InputTransformer rendering.
func (t *routeTarget) delivery(ctx context.Context, rt *route, ev ingested, decoded any) dispatch.Delivery {
	arn := awsproto.Value(t.spec.Arn)
	d := dispatch.Delivery{
		Target: arn,
		Source: dispatch.Source{Principal: principal, ARN: rt.arn, Account: ev.bus.Account, Region: ev.bus.Region,
			Role: awsproto.Value(t.spec.RoleArn)},
		Payload:     ev.event,
		TraceParent: telemetry.TraceParent(ctx),
	}
	switch {
	case t.spec.Input != nil:
		d.Payload = []byte(*t.spec.Input)
	case t.path != nil:
		if v, ok := t.path.lookup(decoded); ok {
			d.Payload = marshal(v)
		} else {
			d.Payload = []byte("null")
		}
	case t.tf != nil:
		d.Payload = t.tf.apply(ev.event, decoded, rt.arn, rt.name, ev.at)
	}
	d.Params = t.params
	if sp := t.spec.SqsParameters; sp != nil && strings.HasSuffix(arn, ".fifo") {
		d.Group, d.DedupID = awsproto.Value(sp.MessageGroupId), ev.id
	}
	return d
}
