package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/schedule"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// fireQueue holds one timer message per enabled schedule, due at its next fire.
const fireQueue = "scheduler.fire"

// timer is the body of a fire timer.
type timer struct {
	Account string `json:"a"`
	Region  string `json:"r"`
	Group   string `json:"g"`
	Name    string `json:"n"`
	// Token must equal the schedule's timer token for the timer to fire it.
	Token string `json:"k"`
	// At is the fire's scheduled time (a flexible window may make the timer due later).
	At int64 `json:"t"`
}

func newTimerToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// arm writes r and, when it is enabled and has a fire to come, the timer of its first fire
// (from now). A new timer token retires every timer sent before.
func (s *Service) arm(tx *store.Tx, sc scope, r *scheduleRow) error {
	r.timer = ""
	if r.state == stateEnabled {
		first, err := r.doc.firstFire(s.now())
		if err != nil {
			return err
		}
		if !first.IsZero() {
			r.timer = newTimerToken()
			if err := s.sendTimer(tx, sc, r, first); err != nil {
				return err
			}
		}
	}
	return putSchedule(tx, sc, r)
}

// sendTimer sends r's timer for the fire scheduled at at, due at a random time within the
// schedule's flexible window.
func (s *Service) sendTimer(tx *store.Tx, sc scope, r *scheduleRow, at time.Time) error {
	due := at
	if fw := r.doc.Flexible; awsproto.Value(fw.Mode) == modeFlexible {
		window := time.Duration(awsproto.Value(fw.MaximumWindowInMinutes)) * time.Minute
		due = due.Add(time.Duration(mrand.Int64N(int64(window))))
	}
	body, err := json.Marshal(timer{Account: sc.account, Region: sc.region, Group: r.group, Name: r.name, Token: r.timer, At: at.UnixNano()})
	if err != nil {
		return err
	}
	_, err = s.eng.Send(tx, fireQueue, queue.Outgoing{Body: body, At: due})
	return err
}

// fire handles a due timer: in one transaction it hands the invocation to the target registry
// and sends the timer of the next fire, or completes the schedule. A fire missed while Kiri was
// down is delivered once; the schedule then goes on from now, not through every fire it missed.
func (s *Service) fire(ctx context.Context, m queue.Message) error {
	var t timer
	if err := json.Unmarshal(m.Body, &t); err != nil {
		return queue.Permanent(fmt.Errorf("decode timer: %w", err))
	}
	sc := scope{t.Account, t.Region}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadSchedule(tx.QueryRow, sc, t.Group, t.Name)
		if err != nil {
			return err
		}
		if r == nil || r.state != stateEnabled || r.timer == "" || r.timer != t.Token {
			return nil // deleted, disabled or changed since this timer was sent
		}
		at := time.Unix(0, t.At).UTC()
		if err := s.enqueueInvocation(tx, sc, r, at); err != nil {
			return err
		}
		sch, err := r.doc.parse()
		if err != nil {
			return err
		}
		var next time.Time
		if !schedule.IsOneTime(r.doc.Expression) {
			next = sch.Next(at)
			if now := s.now(); !next.IsZero() && next.Before(now) {
				next = sch.Next(now)
			}
		}
		if next.IsZero() {
			if r.doc.ActionAfterCompletion == actionDelete {
				return deleteScheduleRow(tx, sc, r.group, r.name)
			}
			r.timer = ""
			return putSchedule(tx, sc, r)
		}
		r.timer = newTimerToken()
		if err := s.sendTimer(tx, sc, r, next); err != nil {
			return err
		}
		return putSchedule(tx, sc, r)
	})
}

// invocation is one fire of a schedule on its way to the target, as Scheduler's Kind receives
// it from the target registry: everything needed to deliver it, retry it and dead-letter it,
// whatever becomes of the schedule meanwhile.
type invocation struct {
	Schedule    string    `json:"schedule"`
	Group       string    `json:"group"`
	Execution   string    `json:"execution"`
	Target      string    `json:"target"`
	Input       string    `json:"input"`
	At          time.Time `json:"at"`
	MaxAttempts int       `json:"max_attempts"`
	MaxAge      int64     `json:"max_age"` // seconds
	DeadLetter  string    `json:"dead_letter,omitempty"`
	// MessageGroup is a FIFO queue's MessageGroupId.
	MessageGroup string `json:"message_group,omitempty"`
	// DetailType and Source make an EventBridge target's event.
	DetailType string `json:"detail_type,omitempty"`
	Source     string `json:"source,omitempty"`
}

// enqueueInvocation hands one fire, scheduled at at, to the target registry as part of tx.
func (s *Service) enqueueInvocation(tx *store.Tx, sc scope, r *scheduleRow, at time.Time) error {
	t := r.doc.Target
	arn := sc.scheduleARN(r.group, r.name)
	inv := invocation{
		Schedule: arn, Group: r.group, Execution: uuid.New(), Target: awsproto.Value(t.Arn), At: at,
		MaxAttempts: int(awsproto.Value(t.RetryPolicy.MaximumRetryAttempts)) + 1,
		MaxAge:      int64(awsproto.Value(t.RetryPolicy.MaximumEventAgeInSeconds)),
	}
	input := "{}"
	if t.Input != nil {
		input = *t.Input
	}
	inv.Input = strings.NewReplacer(
		"<aws.scheduler.schedule-arn>", arn,
		"<aws.scheduler.scheduled-time>", at.Format(time.RFC3339),
		"<aws.scheduler.execution-id>", inv.Execution,
	).Replace(input)
	if t.DeadLetterConfig != nil {
		inv.DeadLetter = awsproto.Value(t.DeadLetterConfig.Arn)
	}
	if t.SqsParameters != nil {
		inv.MessageGroup = awsproto.Value(t.SqsParameters.MessageGroupId)
	}
	if p := t.EventBridgeParameters; p != nil {
		inv.DetailType, inv.Source = awsproto.Value(p.DetailType), awsproto.Value(p.Source)
	}
	payload, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	// Scheduler's Kind applies the retry policy itself (and dead-letters with its attributes);
	// the registry only keeps retrying until then.
	return s.targets.Enqueue(tx, dispatch.Delivery{Target: arn, Source: s.source(sc, r), Payload: payload},
		dispatch.Policy{MaxAge: time.Duration(inv.MaxAge)*time.Second + time.Hour})
}

// source is who a schedule's invocations come from: Scheduler acting as the execution role.
func (s *Service) source(sc scope, r *scheduleRow) dispatch.Source {
	return dispatch.Source{Principal: principal, ARN: sc.scheduleARN(r.group, r.name), Account: sc.account, Region: sc.region,
		Role: awsproto.Value(r.doc.Target.RoleArn)}
}
