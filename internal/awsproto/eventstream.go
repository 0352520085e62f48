package awsproto

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/kiri-run/kiri/internal/awsproto/events"
)

// EventStream produces an output event stream; see events.Stream.
type EventStream = events.Stream

// EventSender sends one event of a stream; see events.Sender.
type EventSender = events.Sender

// errUnknownEvent is returned by an EventSender given a type that is not one of the stream's events.
var errUnknownEvent = errors.New("awsproto: not an event of this stream")

// eventCodecs finds and plans, once per Go type, how an event of a stream is encoded.
type eventCodecs struct {
	stream *shape
	plans  sync.Map // reflect.Type -> *eventPlan
}

type eventPlan struct {
	name    string // the stream member: the :event-type header
	c       *codec
	payload *field // the member with the eventpayload trait, if any
}

func (e *eventCodecs) plan(t reflect.Type) (*eventPlan, error) {
	if p, ok := e.plans.Load(t); ok {
		return p.(*eventPlan), nil
	}
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s", errUnknownEvent, t)
	}
	for _, name := range e.stream.memberNames {
		target := e.stream.Members[name].target
		if !strings.EqualFold(target.name, t.Elem().Name()) {
			continue
		}
		c, err := (&planner{cache: map[codecKey]*codec{}}).plan(target, e.stream.Members[name], t)
		if err != nil {
			return nil, err
		}
		p := &eventPlan{name: name, c: c}
		for _, f := range c.fields {
			if f.ref.EventPayload {
				p.payload = f
			}
		}
		e.plans.Store(t, p)
		return p, nil
	}
	return nil, fmt.Errorf("%w: %s", errUnknownEvent, t)
}

// encode renders one event message.
func (p *eventPlan) encode(v reflect.Value) eventstream.Message {
	msg := eventstream.Message{}
	msg.Headers.Set(":message-type", eventstream.StringValue("event"))
	msg.Headers.Set(":event-type", eventstream.StringValue(p.name))
	elem := v.Elem()
	switch {
	case p.payload == nil:
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		msg.Payload = appendJSONValue(nil, p.c, v)
	case p.payload.c.kind == kindBlob || p.payload.c.kind == kindStream:
		msg.Headers.Set(":content-type", eventstream.StringValue("application/octet-stream"))
		if b, ok := elem.Field(p.payload.index).Interface().([]byte); ok {
			msg.Payload = b
		}
	case p.payload.c.kind == kindString:
		msg.Headers.Set(":content-type", eventstream.StringValue("text/plain"))
		msg.Payload = []byte(reflect.Indirect(elem.Field(p.payload.index)).String())
	default:
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		msg.Payload = appendJSONValue(nil, p.payload.c, elem.Field(p.payload.index))
	}
	return msg
}

// writeEventStream sends the response head, then runs stream, framing and flushing each event.
// An error from stream after the head is sent can only end the stream early.
func (s *Service) writeEventStream(w http.ResponseWriter, status int, c *codec, stream EventStream) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(status)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	if stream == nil {
		return
	}
	enc := eventstream.NewEncoder()
	var buf bytes.Buffer
	_ = stream(func(event any) error {
		p, err := c.events.plan(reflect.TypeOf(event))
		if err != nil {
			return err
		}
		v := reflect.ValueOf(event)
		if v.IsNil() {
			return fmt.Errorf("%w: nil %T", errUnknownEvent, event)
		}
		buf.Reset()
		if err := enc.Encode(&buf, p.encode(v)); err != nil {
			return err
		}
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		return rc.Flush()
	})
}
