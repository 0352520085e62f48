package pipes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/busevent"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/eventsource"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/internal/uuid"
)

// runner is a running pipe: its configuration compiled once for its poller.
type runner struct {
	s          *Service
	p          pipe
	filters    *pattern.FilterCriteria
	enrichTmpl *template
	targetTmpl *template
	log        interface {
		Info(string, ...any)
		Warn(string, ...any)
		Error(string, ...any)
	}
}

// newRunner compiles a pipe's filters and templates (checked when the pipe was stored).
func (s *Service) newRunner(p *pipe) (*runner, error) {
	r := &runner{s: s, p: *p, log: s.log.With("pipe", p.arn())}
	var err error
	if r.filters, err = pattern.CompileFilterCriteria(p.filters()); err != nil {
		return nil, err
	}
	if ep := p.EnrichmentParameters; ep != nil && ep.InputTemplate != nil {
		if r.enrichTmpl, err = parseTemplate(*ep.InputTemplate); err != nil {
			return nil, err
		}
	}
	if tp := p.TargetParameters; tp != nil && tp.InputTemplate != nil {
		if r.targetTmpl, err = parseTemplate(*tp.InputTemplate); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// matches reports whether a record passes the pipe's filters.
func (r *runner) matches(record []byte) bool {
	if r.filters.Len() == 0 {
		return true
	}
	ev, err := pattern.RecordEvent(record)
	return err == nil && r.filters.Matches(ev)
}

// vars are the template variables of the pipe's events now.
func (r *runner) vars() templateVars {
	p := &r.p
	return templateVars{pipeARN: p.arn(), pipeName: p.Name, sourceARN: p.Source, enrichmentARN: p.Enrichment, targetARN: p.Target, ingestion: r.s.now()}
}

// partialFailure is a function target's report that some records of a batch failed: their
// ids (SQS message ids, stream sequence numbers), from its batchItemFailures.
type partialFailure struct{ failed map[string]bool }

func (e *partialFailure) Error() string {
	return fmt.Sprintf("the target reported %d records of the batch failed", len(e.failed))
}

// deliver passes a batch of events (the records that passed the filters, whose ids are ids)
// through the enrichment to the target. It returns nil once the target took every event; an
// error (a *partialFailure when a function target reported some records failed) leaves the
// batch, or those records, to the source's retries.
func (r *runner) deliver(ctx context.Context, events [][]byte, ids []string) error {
	if len(events) == 0 {
		return nil
	}
	vars := r.vars()
	if r.p.Enrichment != "" {
		var err error
		if events, err = r.enrich(ctx, events, vars); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
	}
	payloads := events
	if r.targetTmpl != nil {
		payloads = make([][]byte, len(events))
		for i, e := range events {
			payloads[i] = r.targetTmpl.render(e, vars)
		}
	}
	return r.send(ctx, events, payloads, ids)
}

// enrich invokes the enrichment function, or runs the enrichment Express state machine, with the
// batch (each event through the enrichment's input template) and returns what it answered: the
// elements of an array, or the one value.
func (r *runner) enrich(ctx context.Context, events [][]byte, vars templateVars) ([][]byte, error) {
	in := events
	if r.enrichTmpl != nil {
		in = make([][]byte, len(events))
		for i, e := range events {
			in[i] = r.enrichTmpl.render(e, vars)
		}
	}
	if isAPIDestination(r.p.Enrichment) {
		return r.enrichByDestination(ctx, events, in)
	}
	if dispatch.ARNService(r.p.Enrichment) == "states" {
		out, err := r.runMachine(ctx, r.p.Enrichment, "enrichment", jsonArray(in))
		if err != nil {
			return nil, err
		}
		return splitArray(out), nil
	}
	out, fnErr, err := r.s.lambda.InvokeAsRole(ctx, r.p.Enrichment, pipesPrincipal, r.p.RoleArn, jsonArray(in))
	if err != nil {
		return nil, fmt.Errorf("invoke enrichment %s: %w", r.p.Enrichment, err)
	}
	if fnErr != "" {
		return nil, fmt.Errorf("enrichment %s failed (%s): %s", r.p.Enrichment, fnErr, out)
	}
	return splitArray(out), nil
}

// enrichByDestination calls the enrichment API destination once per event (in, the events
// through the enrichment's input template), with the enrichment's HttpParameters; each answer
// is the enriched event (the elements of an array answer are events, an empty answer none).
func (r *runner) enrichByDestination(ctx context.Context, events, in [][]byte) ([][]byte, error) {
	var hp *PipeEnrichmentHttpParameters
	if ep := r.p.EnrichmentParameters; ep != nil {
		hp = ep.HttpParameters
	}
	var out [][]byte
	for i, e := range in {
		var params *apidest.HTTPParameters
		if hp != nil {
			params = httpParameters(hp.PathParameterValues, hp.HeaderParameters, hp.QueryStringParameters, events[i])
		}
		answer, err := r.s.dests.InvokeAPIDestination(ctx, r.p.Enrichment, r.p.source(), params, e)
		if err != nil {
			return nil, fmt.Errorf("call enrichment %s: %w", r.p.Enrichment, err)
		}
		out = append(out, splitArray(answer)...)
	}
	return out, nil
}

// httpParameters are a pipe's HttpParameters for one event: dynamic values ($.…) are read
// from the event.
func httpParameters(path []string, headers, query map[string]string, event []byte) *apidest.HTTPParameters {
	p := &apidest.HTTPParameters{}
	for _, v := range path {
		p.PathParameterValues = append(p.PathParameterValues, dynamic(v, event))
	}
	if len(headers) > 0 {
		p.HeaderParameters = make(map[string]string, len(headers))
		for k, v := range headers {
			p.HeaderParameters[k] = dynamic(v, event)
		}
	}
	if len(query) > 0 {
		p.QueryStringParameters = make(map[string]string, len(query))
		for k, v := range query {
			p.QueryStringParameters[k] = dynamic(v, event)
		}
	}
	return p
}

// jsonArray is the JSON array of events; an event that is not JSON (a rendered free-text
// template) is a string element.
func jsonArray(events [][]byte) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, e := range events {
		if i > 0 {
			b.WriteByte(',')
		}
		if json.Valid(e) {
			b.Write(e)
		} else {
			b.Write(encodeJSON(string(e)))
		}
	}
	b.WriteByte(']')
	return b.Bytes()
}

// splitArray reads an enrichment's answer: the elements of an array, nothing for an empty or
// null answer, else the answer as one event.
func splitArray(out []byte) [][]byte {
	out = bytes.TrimSpace(out)
	if len(out) == 0 || string(out) == "null" {
		return nil
	}
	var elems []json.RawMessage
	if out[0] == '[' && json.Unmarshal(out, &elems) == nil {
		events := make([][]byte, len(elems))
		for i, e := range elems {
			events[i] = e
		}
		return events
	}
	return [][]byte{out}
}

// send delivers payloads (the events through the target's input template) to the target: one
// call with the batch for a function or a state machine's execution, one delivery per event for a
// queue, a topic or a bus, one call per event for an API destination.
// Dynamic parameters ($.…) are read from the events.
func (r *runner) send(ctx context.Context, events, payloads [][]byte, ids []string) error {
	p := &r.p
	tp := p.TargetParameters
	if tp == nil {
		tp = &PipeTargetParameters{}
	}
	base := dispatch.Delivery{Target: p.Target, Source: p.source(), TraceParent: telemetry.TraceParent(ctx)}
	if isAPIDestination(p.Target) {
		for i, e := range events {
			var params *apidest.HTTPParameters
			if hp := tp.HttpParameters; hp != nil {
				params = httpParameters(hp.PathParameterValues, hp.HeaderParameters, hp.QueryStringParameters, e)
			}
			if _, err := r.s.dests.InvokeAPIDestination(ctx, p.Target, p.source(), params, payloads[i]); err != nil {
				return fmt.Errorf("call target %s: %w", p.Target, err)
			}
		}
		return nil
	}
	switch dispatch.ARNService(p.Target) {
	case "lambda":
		payload := jsonArray(payloads)
		if lp := tp.LambdaFunctionParameters; lp != nil && awsproto.Value(lp.InvocationType) == invokeAsync {
			d := base
			d.Payload = payload
			return r.s.deps.Targets.Deliver(ctx, d)
		}
		out, fnErr, err := r.s.lambda.InvokeAsRole(ctx, p.Target, pipesPrincipal, p.RoleArn, payload)
		if err != nil {
			return fmt.Errorf("invoke target %s: %w", p.Target, err)
		}
		if fnErr != "" {
			return fmt.Errorf("target %s failed (%s): %s", p.Target, fnErr, out)
		}
		return partialFailures(out, ids)
	case "states":
		if sp := tp.StepFunctionStateMachineParameters; sp != nil && awsproto.Value(sp.InvocationType) == invokeSync {
			_, err := r.runMachine(ctx, p.Target, "target", jsonArray(payloads))
			return err
		}
		d := base
		d.Payload = jsonArray(payloads)
		return r.s.deps.Targets.Deliver(ctx, d)
	case "events":
		for i, e := range events {
			d := base
			d.Payload = r.busEvent(e, payloads[i])
			if err := r.s.deps.Targets.Deliver(ctx, d); err != nil {
				return err
			}
		}
		return nil
	}
	for i, e := range events {
		d := base
		d.Payload = payloads[i]
		if q := tp.SqsQueueParameters; q != nil {
			d.Group = dynamic(awsproto.Value(q.MessageGroupId), e)
			d.DedupID = dynamic(awsproto.Value(q.MessageDeduplicationId), e)
		}
		if err := r.s.deps.Targets.Deliver(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// runMachine runs an Express state machine (the pipe's enrichment or target, what says which)
// synchronously as the pipe's role with input, and returns its output; an execution that did
// not succeed is an error, which fails the batch.
func (r *runner) runMachine(ctx context.Context, arn, what string, input []byte) ([]byte, error) {
	out, failure, err := r.s.machines.StartSyncAsRole(ctx, arn, r.p.RoleArn, input)
	if err != nil {
		return nil, fmt.Errorf("run %s %s: %w", what, arn, err)
	}
	if failure != "" {
		return nil, fmt.Errorf("%s %s failed (%s)", what, arn, failure)
	}
	return out, nil
}

// partialFailures reads a function target's response as a partial batch response (Pipes
// reads batchItemFailures as Lambda's event source mappings do): nil when every record
// succeeded, a *partialFailure naming the ones that failed, or an error failing the batch for
// a response that does not name records of the batch.
func partialFailures(out []byte, ids []string) error {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	failed, ok := eventsource.BatchItemFailures(out, set)
	switch {
	case !ok:
		return errors.New("the target's partial batch response fails the whole batch")
	case len(failed) > 0:
		return &partialFailure{failed}
	}
	return nil
}

// dynamic is a target parameter's value for an event: a JSON path ($.…) is read from the
// event (Pipes' dynamic path parameters); anything else is the value itself.
func dynamic(v string, event []byte) string {
	if !strings.HasPrefix(v, "$.") {
		return v
	}
	path, err := parsePath(v)
	var doc any
	if err != nil || decodeJSON(event, &doc) != nil {
		return ""
	}
	got, ok := lookup(doc, path)
	if !ok {
		return ""
	}
	if s, isString := got.(string); isString {
		return s
	}
	return string(encodeJSON(got))
}

// busEvent is the event a pipe puts on an event bus for an event: the payload as its detail,
// with the pipe's DetailType, Source and Resources (by default "Event from <source kind>" and
// "Pipe <name>", as Pipes sends them).
func (r *runner) busEvent(event, payload []byte) []byte {
	p := &r.p
	source, detailType := "Pipe "+p.Name, "Event from aws:"+sourceKind(p.Source)
	var resources []string
	if b := p.TargetParameters.EventBridgeEventBusParameters; b != nil {
		if b.Source != nil {
			source = dynamic(*b.Source, event)
		}
		if b.DetailType != nil {
			detailType = dynamic(*b.DetailType, event)
		}
		resources = b.Resources
	}
	account, region := "", ""
	if parts := strings.SplitN(p.Target, ":", 6); len(parts) == 6 {
		region, account = parts[3], parts[4]
	}
	return busevent.Encode(uuid.New(), detailType, source, account, region, r.s.now(), resources, payload)
}
