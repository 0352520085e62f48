package asl

import (
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/uuid"
)

// resourceParts splits a Task resource ARN as history events show it: resourceType
// "lambda", resource "invoke" for arn:aws:states:::lambda:invoke.
func resourceParts(arn string) (typ, name string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return "", arn
	}
	if parts[2] == "states" && parts[3] == "" && parts[4] == "" {
		rest := parts[5]
		if strings.HasPrefix(rest, "aws-sdk:") {
			i := strings.LastIndexByte(rest, ':')
			return rest[:i], rest[i+1:]
		}
		if i := strings.IndexByte(rest, ':'); i >= 0 {
			return rest[:i], rest[i+1:]
		}
		return rest, ""
	}
	return parts[2], parts[5]
}

// region is the execution's region, read from its ARN.
func (x *exec) region() string {
	parts := strings.SplitN(x.r.Context.ExecutionArn, ":", 5)
	if len(parts) < 4 {
		return ""
	}
	return parts[3]
}

// runTask schedules a Task state's resource.
func (x *exec) runTask(f *Frame, s *state) error {
	raw := decode(f.Input)
	if strings.HasSuffix(s.resource, ".waitForTaskToken") && f.Token == "" {
		f.Token = uuid.New()
		x.ctxCache = nil
	}
	var params, creds any
	var timeout, heartbeat int64
	var hasTimeout, hasHeartbeat bool
	if s.isJSONata() {
		states := x.statesVar(raw, nil)
		params = raw
		if s.hasArguments {
			v, err := x.jsonataValue(s.arguments, "Arguments", states)
			if err != nil {
				return err
			}
			params = v
			x.inspected(afterArguments, params)
		}
		var err error
		if timeout, hasTimeout, err = x.jsonataSeconds(s, "TimeoutSeconds", states); err != nil {
			return err
		}
		if heartbeat, hasHeartbeat, err = x.jsonataSeconds(s, "HeartbeatSeconds", states); err != nil {
			return err
		}
		if c, ok := s.field("Credentials"); ok {
			if creds, err = x.jsonataValue(c, "Credentials", states); err != nil {
				return err
			}
		}
	} else {
		eff, err := x.applyPathField(s.inputPath, "InputPath", raw)
		if err != nil {
			return err
		}
		params = eff
		x.inspected(afterInputPath, eff)
		if s.hasParameters {
			if params, err = x.template(s.parameters, eff); err != nil {
				return err
			}
		}
		x.inspected(afterParameters, params)
		if timeout, hasTimeout, err = x.pathSeconds(s, "TimeoutSeconds", eff); err != nil {
			return err
		}
		if heartbeat, hasHeartbeat, err = x.pathSeconds(s, "HeartbeatSeconds", eff); err != nil {
			return err
		}
		if c, ok := s.field("Credentials"); ok {
			if creds, err = x.template(c, eff); err != nil {
				return err
			}
		}
	}
	id := x.nextID()
	f.Wait, f.Reply, f.Step = id, nil, stepTask
	f.Effective = encode(params)
	typ, name := resourceParts(s.resource)
	d := &TaskScheduledEventDetails{ResourceType: typ, Resource: name, Region: x.region(), Parameters: string(f.Effective)}
	if hasTimeout {
		d.TimeoutInSeconds = &timeout
	}
	if hasHeartbeat {
		d.HeartbeatInSeconds = &heartbeat
	}
	eff := TaskEffect{ID: id, State: s.name, Resource: s.resource, Parameters: f.Effective, TimeoutSeconds: int(timeout), HeartbeatSeconds: int(heartbeat), TaskToken: f.Token}
	if creds != nil {
		eff.Credentials = encode(creds)
		if m, ok := creds.(*jsonobj.Object); ok {
			if role, ok := get(m, "RoleArn").(string); ok {
				d.TaskCredentials = &TaskCredentials{RoleArn: role}
			}
		}
	}
	x.recordScheduled(f, s, d, d.TimeoutInSeconds, d.HeartbeatInSeconds)
	x.effects = append(x.effects, eff)
	return nil
}

// pathSeconds reads TimeoutSeconds or HeartbeatSeconds, or their Path forms, of a JSONPath Task.
func (x *exec) pathSeconds(s *state, field string, input any) (int64, bool, error) {
	if v, ok := s.field(field); ok {
		n, _ := intValue(v)
		return n, true, nil
	}
	p, ok := s.field(field + "Path")
	if !ok {
		return 0, false, nil
	}
	ps, _ := p.(string)
	v, err := x.evalPath(ps, input)
	if err != nil {
		return 0, false, x.invalidPath(ps, input)
	}
	n, ok := intValue(v)
	if !ok || n <= 0 {
		return 0, false, x.runtime(fmt.Sprintf("The %sPath parameter references an invalid value: %s == %s", field, ps, plainText(v)))
	}
	return n, true, nil
}

func (x *exec) jsonataSeconds(s *state, field string, states map[string]any) (int64, bool, error) {
	v, ok := s.field(field)
	if !ok {
		return 0, false, nil
	}
	r, err := x.jsonataValue(v, field, states)
	if err != nil {
		return 0, false, err
	}
	n, ok := intValue(r)
	if !ok || n <= 0 {
		return 0, false, x.evalError(field, fmt.Sprintf("The %s field must evaluate to a positive integer, but was: %s", field, encodeString(r)))
	}
	return n, true, nil
}

// taskReply records the task's outcome and finishes or fails the Task state.
func (x *exec) taskReply(f *Frame, s *state) {
	rep := f.Reply
	f.Reply, f.Wait = nil, ""
	if rep.Failed {
		x.recordOutcome(f, s, rep, nil)
		x.raise(f, s, &stateError{name: rep.Error, cause: rep.Cause, noCause: rep.Cause == ""})
		return
	}
	out := rep.Output
	if len(out) == 0 {
		out = []byte("null")
	}
	if len(out) > maxPayload {
		// as AWS records it: a task failure naming the integration (or the function ARN)
		typ, _ := resourceParts(s.resource)
		who := s.resource
		if strings.HasPrefix(s.resource, "arn:aws:states:::") || strings.Contains(s.resource, ":states:::") {
			who = typ
		}
		rep = &Reply{Failed: true, Error: errDataLimit,
			Cause: fmt.Sprintf("The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit.", who)}
		x.recordOutcome(f, s, rep, nil)
		x.raise(f, s, &stateError{name: rep.Error, cause: rep.Cause})
		return
	}
	x.recordOutcome(f, s, rep, out)
	if err := x.finish(f, s, decode(f.Input), decode(out), true); err != nil {
		x.raise(f, s, err)
	}
}
