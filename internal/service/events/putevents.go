package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// maxPutEventsSize is the most a PutEvents request's entries may weigh, as AWS counts.
const maxPutEventsSize = 256 * 1024

// entrySize is an entry's size as AWS documents it: 14 bytes for a Time, the UTF-8 bytes of
// Source, DetailType and Detail, and of each resource.
func entrySize(e *PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += 14
	}
	n += len(awsproto.Value(e.Source)) + len(awsproto.Value(e.DetailType)) + len(awsproto.Value(e.Detail))
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}

// entryProblem is why EventBridge refuses an entry, as its ErrorCode and ErrorMessage; "" when
// it takes it.
func entryProblem(e *PutEventsRequestEntry) (code, msg string) {
	switch {
	case awsproto.Value(e.Source) == "":
		return "InvalidArgument", "Parameter Source is not valid. Reason: Source is a required argument."
	case awsproto.Value(e.DetailType) == "":
		return "InvalidArgument", "Parameter DetailType is not valid. Reason: DetailType is a required argument."
	case awsproto.Value(e.Detail) == "":
		return "InvalidArgument", "Parameter Detail is not valid. Reason: Detail is a required argument."
	case strings.HasPrefix(*e.Source, "aws."):
		return "NotAuthorizedForSourceException", "Not authorized for the source."
	}
	var detail map[string]json.RawMessage
	if !utf8.ValidString(*e.Detail) || json.Unmarshal([]byte(*e.Detail), &detail) != nil || detail == nil {
		return "MalformedDetail", "Detail is malformed."
	}
	for i, r := range e.Resources {
		if !strings.HasPrefix(r, "arn:") {
			return "InvalidArgument", "Parameter Resources[" + itoa(i) + "] is not valid. Reason: Provided Arn is not in correct format."
		}
	}
	return "", ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// eventTimeLayout is how an event's time is written.
const eventTimeLayout = "2006-01-02T15:04:05Z"

// envelope is the event EventBridge routes: the entry wrapped with its id, account, time and
// region, members in AWS's order.
func envelope(id, account, region string, at time.Time, e *PutEventsRequestEntry) []byte {
	b := make([]byte, 0, 256+len(awsproto.Value(e.Detail)))
	b = append(b, `{"version":"0","id":`...)
	b = append(b, marshal(id)...)
	b = append(b, `,"detail-type":`...)
	b = append(b, marshal(awsproto.Value(e.DetailType))...)
	b = append(b, `,"source":`...)
	b = append(b, marshal(awsproto.Value(e.Source))...)
	b = append(b, `,"account":`...)
	b = append(b, marshal(account)...)
	b = append(b, `,"time":`...)
	b = append(b, marshal(at.UTC().Format(eventTimeLayout))...)
	b = append(b, `,"region":`...)
	b = append(b, marshal(region)...)
	b = append(b, `,"resources":`...)
	res := e.Resources
	if res == nil {
		res = []string{}
	}
	b = append(b, marshal(res)...)
	b = append(b, `,"detail":`...)
	b = append(b, compact(*e.Detail)...)
	return append(b, '}')
}

// compact is detail without insignificant white space.
func compact(detail string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(detail)); err != nil {
		return []byte(detail)
	}
	return b.Bytes()
}

func (s *Service) putEvents(ctx context.Context, in *PutEventsRequest) (*PutEventsResponse, error) {
	if in.EndpointId != nil {
		return nil, validation("EndpointId is not supported by Kiri: global endpoints are not built.")
	}
	total := 0
	for i := range in.Entries {
		total += entrySize(&in.Entries[i])
	}
	if total > maxPutEventsSize {
		return nil, validation("Total size of the entries in the request is over the limit.")
	}
	account, region := callerScope(ctx)
	now := s.now()
	out := &PutEventsResponse{Entries: make([]PutEventsResultEntry, len(in.Entries))}
	buses := map[busKey]*busRow{}
	var events []ingested
	failed := int32(0)
	fail := func(i int, code, msg string) {
		out.Entries[i] = PutEventsResultEntry{ErrorCode: &code, ErrorMessage: &msg}
		failed++
	}
	q := s.reader(ctx)
	for i := range in.Entries {
		e := &in.Entries[i]
		if code, msg := entryProblem(e); code != "" {
			fail(i, code, msg)
			continue
		}
		k, err := busParam(ctx, e.EventBusName, true)
		var apiErr *awsproto.Error
		if errors.As(err, &apiErr) {
			fail(i, apiErr.Code, apiErr.Message)
			continue
		} else if err != nil {
			return nil, err
		}
		b, ok := buses[k]
		if !ok {
			if b, err = loadBus(q, k); err != nil {
				return nil, err
			}
			if b != nil && k.Account != account && !s.enforcing() {
				// IAM decides this in enforce mode; otherwise the bus's policy alone does.
				if err := s.crossAccountAllowed(ctx, b); err != nil {
					return nil, err
				}
			}
			buses[k] = b
		}
		if b == nil {
			fail(i, "ResourceNotFoundException", busNotFound(k.Name).Message)
			continue
		}
		at := now
		if e.Time != nil {
			at = *e.Time
		}
		id := uuid.New()
		out.Entries[i].EventId = &id
		events = append(events, ingested{bus: k, id: id, event: envelope(id, account, region, at, e), at: now})
	}
	out.FailedEntryCount = &failed
	if err := s.ingest(ctx, buses, events); err != nil {
		return nil, err
	}
	return out, nil
}

// ingest routes events put on buses (already loaded) and commits, in one write, their
// deliveries and their copies in the archives that keep them; then tells the schema
// registry's discoverers (observe).
func (s *Service) ingest(ctx context.Context, buses map[busKey]*busRow, events []ingested) (err error) {
	var all []queued
	type kept struct {
		archive int64
		ev      ingested
	}
	var archived []kept
	for _, ev := range events {
		r, err := s.routesOf(ctx, buses[ev.bus])
		if err != nil {
			return err
		}
		ds, archives, err := s.route(ctx, r, ev, nil)
		if err != nil {
			return err
		}
		all = append(all, ds...)
		for _, a := range archives {
			archived = append(archived, kept{a, ev})
		}
	}
	if len(all) == 0 && len(archived) == 0 {
		s.observe(ctx, events)
		return nil
	}
	defer func() {
		if err == nil {
			s.observe(ctx, events)
		}
	}()
	return s.st.Write(ctx, func(tx *store.Tx) error {
		for _, q := range all {
			if err := s.targets.Enqueue(tx, q.d, q.p); err != nil {
				return err
			}
		}
		for _, k := range archived {
			if _, err := tx.Exec("INSERT INTO events_archived (archive_id, ingested_at, event) VALUES (?, ?, ?)",
				k.archive, k.ev.at.UnixNano(), string(k.ev.event)); err != nil {
				return fmt.Errorf("archive event %s: %w", k.ev.id, err)
			}
		}
		return nil
	})
}

// crossAccountAllowed decides, with the policy engine, whether the caller may put events on
// another account's bus b: only b's resource policy can let it.
func (s *Service) crossAccountAllowed(ctx context.Context, b *busRow) error {
	c := awsproto.CallFrom(ctx)
	p := authz.Principal(c)
	req := policy.Request{Principal: p, Action: "events:PutEvents", Resource: b.Key.arn(), ResourceAccount: b.Key.Account, Time: s.now(), Region: c.Region}
	d := policy.Evaluate(&req, &policy.Set{Resource: s.busPolicy(b)})
	if d.Allowed {
		return nil
	}
	return awsproto.Errorf("AccessDeniedException", 400, "%s", d.Message(p.ARN, req.Action, req.Resource))
}
