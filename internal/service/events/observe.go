package events

import (
	"context"

	"github.com/kiri-run/kiri/internal/service"
)

// EventObserver is told of the events a bus accepts, after they are committed: the schema
// registry's discoverers watch buses through it. ObserveEvents must return at once (it is on
// PutEvents' path); it does its work asynchronously.
type EventObserver interface {
	ObserveEvents(ctx context.Context, busARN string, events [][]byte)
}

// observe hands the events each bus accepted to the observer, if a service provides one.
func (s *Service) observe(ctx context.Context, events []ingested) {
	o, ok := service.Lookup[EventObserver](s.services, "schemas")
	if !ok || len(events) == 0 {
		return
	}
	byBus := map[busKey][][]byte{}
	for _, ev := range events {
		byBus[ev.bus] = append(byBus[ev.bus], ev.event)
	}
	for k, evs := range byBus {
		o.ObserveEvents(ctx, k.arn(), evs)
	}
}
