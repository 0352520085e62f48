package schemas

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// discoveredDescription is the description of the discovered-schemas registry.
const discoveredDescription = "Event schemas discovered on event buses"

type discoverer struct {
	id, sourceARN, description, state string
	crossAccount                      bool
	tags                              map[string]string
}

// discovererID is the id AWS gives the discoverer of a bus: events-event-bus-NAME.
func discovererID(busARN string) (string, bool) {
	i := strings.Index(busARN, ":event-bus/")
	if !strings.HasPrefix(busARN, "arn:aws:events:") || i < 0 || busARN[i+len(":event-bus/"):] == "" {
		return "", false
	}
	return "events-event-bus-" + busARN[i+len(":event-bus/"):], true
}

func (s *Service) loadWatched(ctx context.Context) error {
	rows, err := s.st.Query(ctx, `SELECT source_arn FROM schemas_discoverers WHERE state = 'STARTED'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var arn string
		if err := rows.Scan(&arn); err != nil {
			return err
		}
		s.watched[arn] = true
	}
	return rows.Err()
}

// watch records, after the write that changes it commits, whether a bus is watched.
func (s *Service) watch(tx *store.Tx, busARN string, on bool) {
	tx.AfterCommit(func() {
		s.watchedMu.Lock()
		defer s.watchedMu.Unlock()
		if on {
			s.watched[busARN] = true
		} else {
			delete(s.watched, busARN)
		}
	})
}

func (s *Service) loadDiscoverer(ctx context.Context, sc scope, id string) (*discoverer, error) {
	d := discoverer{id: id}
	var tags string
	var cross int64
	err := s.st.QueryRow(ctx, `SELECT source_arn, description, cross_account, state, tags FROM schemas_discoverers WHERE account = ? AND region = ? AND id = ?`,
		sc.account, sc.region, id).Scan(&d.sourceARN, &d.description, &cross, &d.state, &tags)
	if err != nil {
		if isNoRows(err) {
			return nil, notFound("Discoverer with id %s does not exist.", id)
		}
		return nil, err
	}
	d.crossAccount = cross != 0
	d.tags = parseTags(tags)
	return &d, nil
}

func (d *discoverer) describe(sc scope) *DescribeDiscovererResponse {
	out := &DescribeDiscovererResponse{CrossAccount: awsproto.Ptr(d.crossAccount), DiscovererArn: awsproto.Ptr(sc.discovererARN(d.id)),
		DiscovererId: awsproto.Ptr(d.id), SourceArn: awsproto.Ptr(d.sourceARN), State: awsproto.Ptr(d.state), Tags: d.tags}
	if d.description != "" {
		out.Description = awsproto.Ptr(d.description)
	}
	return out
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (s *Service) createDiscoverer(ctx context.Context, in *CreateDiscovererRequest) (*CreateDiscovererResponse, error) {
	sc := scopeOf(ctx)
	src := awsproto.Value(in.SourceArn)
	id, ok := discovererID(src)
	if !ok || !strings.HasPrefix(src, "arn:aws:events:"+sc.region+":"+sc.account+":") {
		return nil, badRequest("SourceArn %s is not the ARN of an event bus of this account and region.", src)
	}
	cross := in.CrossAccount == nil || *in.CrossAccount
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(`INSERT INTO schemas_discoverers (account, region, id, source_arn, description, cross_account, state, tags) VALUES (?, ?, ?, ?, ?, ?, 'STARTED', ?) ON CONFLICT DO NOTHING`,
			sc.account, sc.region, id, src, awsproto.Value(in.Description), boolInt(cross), tagsJSON(in.Tags))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return conflict("Discoverer for SourceArn %s already exists.", src)
		}
		if _, err := tx.Exec(`INSERT INTO schemas_registries (account, region, name, description, tags) VALUES (?, ?, ?, ?, '{}') ON CONFLICT DO NOTHING`,
			sc.account, sc.region, discoveredRegistry, discoveredDescription); err != nil {
			return err
		}
		s.watch(tx, src, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	d := discoverer{id: id, sourceARN: src, description: awsproto.Value(in.Description), state: "STARTED", crossAccount: cross, tags: nonNil(in.Tags)}
	o := d.describe(sc)
	return &CreateDiscovererResponse{CrossAccount: o.CrossAccount, Description: o.Description, DiscovererArn: o.DiscovererArn,
		DiscovererId: o.DiscovererId, SourceArn: o.SourceArn, State: o.State, Tags: o.Tags}, nil
}

func (s *Service) describeDiscoverer(ctx context.Context, in *DescribeDiscovererRequest) (*DescribeDiscovererResponse, error) {
	sc := scopeOf(ctx)
	d, err := s.loadDiscoverer(ctx, sc, awsproto.Value(in.DiscovererId))
	if err != nil {
		return nil, err
	}
	return d.describe(sc), nil
}

func (s *Service) listDiscoverers(ctx context.Context, in *ListDiscoverersRequest) (*ListDiscoverersResponse, error) {
	sc := scopeOf(ctx)
	rows, err := s.st.Query(ctx, `SELECT id FROM schemas_discoverers WHERE account = ? AND region = ? ORDER BY id`, sc.account, sc.region)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var all []DiscovererSummary
	for _, id := range ids {
		d, err := s.loadDiscoverer(ctx, sc, id)
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(d.id, awsproto.Value(in.DiscovererIdPrefix)) || !strings.HasPrefix(d.sourceARN, awsproto.Value(in.SourceArnPrefix)) {
			continue
		}
		o := d.describe(sc)
		all = append(all, DiscovererSummary{CrossAccount: o.CrossAccount, DiscovererArn: o.DiscovererArn, DiscovererId: o.DiscovererId,
			SourceArn: o.SourceArn, State: o.State, Tags: o.Tags})
	}
	items, next := page(all, func(d DiscovererSummary) string { return *d.DiscovererId }, in.Limit, in.NextToken)
	return &ListDiscoverersResponse{Discoverers: nonNilSlice(items), NextToken: next}, nil
}

func (s *Service) updateDiscoverer(ctx context.Context, in *UpdateDiscovererRequest) (*UpdateDiscovererResponse, error) {
	sc := scopeOf(ctx)
	d, err := s.loadDiscoverer(ctx, sc, awsproto.Value(in.DiscovererId))
	if err != nil {
		return nil, err
	}
	if in.Description != nil {
		d.description = *in.Description
	}
	if in.CrossAccount != nil {
		d.crossAccount = *in.CrossAccount
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`UPDATE schemas_discoverers SET description = ?, cross_account = ? WHERE account = ? AND region = ? AND id = ?`,
			d.description, boolInt(d.crossAccount), sc.account, sc.region, d.id)
		return err
	})
	if err != nil {
		return nil, err
	}
	o := d.describe(sc)
	return &UpdateDiscovererResponse{CrossAccount: o.CrossAccount, Description: o.Description, DiscovererArn: o.DiscovererArn,
		DiscovererId: o.DiscovererId, SourceArn: o.SourceArn, State: o.State, Tags: o.Tags}, nil
}

func (s *Service) deleteDiscoverer(ctx context.Context, in *DeleteDiscovererRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	d, err := s.loadDiscoverer(ctx, sc, awsproto.Value(in.DiscovererId))
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`DELETE FROM schemas_discoverers WHERE account = ? AND region = ? AND id = ?`, sc.account, sc.region, d.id); err != nil {
			return err
		}
		s.watch(tx, d.sourceARN, false)
		return nil
	})
	return &struct{}{}, err
}

func (s *Service) setState(ctx context.Context, id, state string) (*discoverer, error) {
	sc := scopeOf(ctx)
	d, err := s.loadDiscoverer(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	d.state = state
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`UPDATE schemas_discoverers SET state = ? WHERE account = ? AND region = ? AND id = ?`, state, sc.account, sc.region, d.id); err != nil {
			return err
		}
		s.watch(tx, d.sourceARN, state == "STARTED")
		return nil
	})
	return d, err
}

func (s *Service) startDiscoverer(ctx context.Context, in *StartDiscovererRequest) (*StartDiscovererResponse, error) {
	d, err := s.setState(ctx, awsproto.Value(in.DiscovererId), "STARTED")
	if err != nil {
		return nil, err
	}
	return &StartDiscovererResponse{DiscovererId: &d.id, State: &d.state}, nil
}

func (s *Service) stopDiscoverer(ctx context.Context, in *StopDiscovererRequest) (*StopDiscovererResponse, error) {
	d, err := s.setState(ctx, awsproto.Value(in.DiscovererId), "STOPPED")
	if err != nil {
		return nil, err
	}
	return &StopDiscovererResponse{DiscovererId: &d.id, State: &d.state}, nil
}

// observed is the body of a discovery message: the events one bus accepted.
type observed struct {
	Bus    string            `json:"bus"`
	Events []json.RawMessage `json:"events"`
}

// ObserveEvents is called by the events service with the events a bus accepted. Unless a
// started discoverer watches the bus it does nothing; else it queues them for inference.
func (s *Service) ObserveEvents(ctx context.Context, busARN string, events [][]byte) {
	s.watchedMu.RLock()
	on := s.watched[busARN]
	s.watchedMu.RUnlock()
	if !on {
		return
	}
	m := observed{Bus: busARN}
	for _, e := range events {
		m.Events = append(m.Events, e)
	}
	body, err := json.Marshal(m)
	if err != nil {
		return
	}
	err = s.st.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		_, err := s.eng.Send(tx, discoverQueue, queue.Outgoing{Body: body})
		return err
	})
	if err != nil {
		s.log.Warn("queue discovered events", "bus", busARN, "err", err)
	}
}

// discover infers the schemas of a batch of observed events and writes a new version of each
// whose inferred shape changed.
func (s *Service) discover(ctx context.Context, msg queue.Message) error {
	var m observed
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return queue.Permanent(err)
	}
	parts := strings.Split(m.Bus, ":")
	if len(parts) < 6 {
		return nil
	}
	sc := scope{account: parts[4], region: parts[3]}
	id, _ := discovererID(m.Bus)
	d, err := s.loadDiscoverer(ctx, sc, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if d.state != "STARTED" {
		return nil
	}
	groups := map[string][]map[string]any{}
	var order []string
	for _, raw := range m.Events {
		var ev map[string]any
		if json.Unmarshal(raw, &ev) != nil {
			continue
		}
		if !d.crossAccount && str(ev["account"]) != sc.account {
			continue // without CrossAccount, events other accounts sent to the bus are not seen
		}
		name := discoveredName(str(ev["source"]), str(ev["detail-type"]))
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], ev)
	}
	for _, name := range order {
		if err := s.inferInto(ctx, sc, name, groups[name]); err != nil {
			return err
		}
	}
	return nil
}

func str(v any) string { s, _ := v.(string); return s }

func (s *Service) inferInto(ctx context.Context, sc scope, name string, events []map[string]any) error {
	var prev *shape
	latest, err := s.loadVersion(ctx, sc, discoveredRegistry, name, "")
	if err != nil && !isNotFound(err) {
		return err
	}
	if latest != nil {
		prev = shapeOfDocument(latest.content)
	}
	sh := prev
	for _, ev := range events {
		sh = merge(sh, infer(ev))
	}
	source, detailType := str(events[0]["source"]), str(events[0]["detail-type"])
	content := document(sh, source, detailType)
	if latest != nil && latest.content == content {
		return nil
	}
	now := s.now().UTC()
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`INSERT INTO schemas_registries (account, region, name, description, tags) VALUES (?, ?, ?, ?, '{}') ON CONFLICT DO NOTHING`,
			sc.account, sc.region, discoveredRegistry, discoveredDescription); err != nil {
			return err
		}
		if latest == nil {
			if _, err := tx.Exec(`INSERT INTO schemas_schemas (account, region, registry, name, description, tags, modified, next) VALUES (?, ?, ?, ?, ?, '{}', ?, 1) ON CONFLICT DO NOTHING`,
				sc.account, sc.region, discoveredRegistry, name, "Schema for event type "+detailType+", published by "+source, now.UnixNano()); err != nil {
				return err
			}
		}
		_, err := addVersion(tx, sc, discoveredRegistry, name, "OpenApi3", content, now)
		return err
	})
}

func isNotFound(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == "NotFoundException"
}

// getDiscoveredSchema infers the OpenAPI 3 schema of the events given, as a discoverer would.
func (s *Service) getDiscoveredSchema(ctx context.Context, in *GetDiscoveredSchemaRequest) (*GetDiscoveredSchemaResponse, error) {
	if t := awsproto.Value(in.Type); t != "OpenApi3" {
		return nil, badRequest("Invalid Type: %s. Schemas are discovered as OpenApi3.", t)
	}
	var sh *shape
	var source, detailType string
	for i, raw := range in.Events {
		var ev map[string]any
		if err := json.Unmarshal([]byte(raw), &ev); err != nil {
			return nil, badRequest("Event %d is not a JSON object.", i)
		}
		if i == 0 {
			source, detailType = str(ev["source"]), str(ev["detail-type"])
		}
		sh = merge(sh, infer(ev))
	}
	return &GetDiscoveredSchemaResponse{Content: awsproto.Ptr(document(sh, source, detailType))}, nil
}
