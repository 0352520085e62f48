// Package schedule parses the schedule expressions of EventBridge scheduled rules and of EventBridge
// Scheduler (rate(), cron() and at()) and computes when they fire.
//
// The syntax is AWS's: cron has six fields (minutes hours day-of-month month day-of-week year) with
// `?` in exactly one of the two day fields, `L`, `W` and `#`, month and weekday names, ranges, lists
// and increments, years 1970-2199; rate(value unit) takes the singular unit for 1 and the plural
// otherwise; at(yyyy-mm-ddThh:mm:ss) names one wall-clock time. Fire times have one-minute
// precision for cron; rate schedules repeat after a fixed duration (a day is 24 hours, whatever
// daylight saving does to the clock). Cron and at expressions of Scheduler are evaluated in an
// IANA time zone: a wall-clock time that does not exist (clocks go forward) is skipped, and one
// that happens twice (clocks go back) fires once.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	// Time zones must resolve on machines without a zoneinfo database.
	_ "time/tzdata"
)

// Schedule computes fire times.
type Schedule interface {
	// Next returns the first fire time strictly after after, or the zero Time when there is none.
	// A rate schedule without an anchor (see Parse) fires one period after after.
	Next(after time.Time) time.Time
}

// ErrInvalid is the error of Parse, worded as EventBridge's ValidationException.
var ErrInvalid = errors.New("Parameter ScheduleExpression is not valid.")

// Parse reads the ScheduleExpression of an EventBridge rule: rate() or cron(), evaluated in UTC.
// A rate schedule has no anchor: Next(t) is t plus the period, so its caller passes the time of
// the previous fire (or of the rule's creation).
func Parse(expr string) (Schedule, error) {
	switch {
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		d, ok := parseRate(expr[len("rate(") : len(expr)-1])
		if !ok {
			return nil, ErrInvalid
		}
		return rate{period: d}, nil
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, ok := parseCron(expr[len("cron("):len(expr)-1], time.UTC)
		if !ok {
			return nil, ErrInvalid
		}
		return c, nil
	}
	return nil, ErrInvalid
}

// SchedulerError is an error of ParseScheduler, worded as EventBridge Scheduler's ValidationException.
type SchedulerError struct{ Message string }

func (e *SchedulerError) Error() string { return e.Message }

// ParseScheduler reads the ScheduleExpression of an EventBridge Scheduler schedule: at(), rate() or
// cron(). timezone is an IANA name (empty means UTC) in which at() and cron() are evaluated. start
// and end (either may be nil) bound recurring schedules: fires happen at or after start and
// strictly before end; a rate schedule with a start fires at start and every period after it.
// One-time schedules ignore start and end, as Scheduler does.
func ParseScheduler(expr, timezone string, start, end *time.Time) (Schedule, error) {
	loc := time.UTC
	if timezone != "" {
		l, err := loadLocation(timezone)
		if err != nil {
			return nil, &SchedulerError{Message: fmt.Sprintf("Invalid time zone: %s.", timezone)}
		}
		loc = l
	}
	invalid := &SchedulerError{Message: fmt.Sprintf("Invalid Schedule Expression %s.", expr)}
	if start != nil && end != nil && !end.After(*start) && !strings.HasPrefix(expr, "at(") {
		return nil, &SchedulerError{Message: "The EndDate must be after the StartDate."}
	}
	var s Schedule
	switch {
	case strings.HasPrefix(expr, "at(") && strings.HasSuffix(expr, ")"):
		t, err := time.ParseInLocation("2006-01-02T15:04:05", expr[len("at("):len(expr)-1], loc)
		if err != nil {
			return nil, invalid
		}
		return at{t: t}, nil
	case strings.HasPrefix(expr, "rate(") && strings.HasSuffix(expr, ")"):
		d, ok := parseRate(expr[len("rate(") : len(expr)-1])
		if !ok {
			return nil, invalid
		}
		r := rate{period: d}
		if start != nil {
			r.anchor, r.anchored = *start, true
		}
		s = r
	case strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")"):
		c, ok := parseCron(expr[len("cron("):len(expr)-1], loc)
		if !ok {
			return nil, invalid
		}
		s = c
	default:
		return nil, invalid
	}
	if start == nil && end == nil {
		return s, nil
	}
	return bounded{s: s, start: start, end: end}, nil
}

// IsOneTime reports whether expr is an at() expression.
func IsOneTime(expr string) bool { return strings.HasPrefix(expr, "at(") }

func loadLocation(name string) (*time.Location, error) {
	// LoadLocation also takes "Local" and paths; only zone names are time zones here.
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("unknown time zone %s", name)
	}
	return time.LoadLocation(name)
}

// at fires once.
type at struct{ t time.Time }

func (a at) Next(after time.Time) time.Time {
	if a.t.After(after) {
		return a.t
	}
	return time.Time{}
}

// rate fires every period, from its anchor when it has one.
type rate struct {
	period   time.Duration
	anchor   time.Time
	anchored bool
}

func (r rate) Next(after time.Time) time.Time {
	if !r.anchored {
		return after.Add(r.period)
	}
	if after.Before(r.anchor) {
		return r.anchor
	}
	n := after.Sub(r.anchor)/r.period + 1
	return r.anchor.Add(n * r.period)
}

// bounded keeps the fires of s that are at or after start and before end.
type bounded struct {
	s          Schedule
	start, end *time.Time
}

func (b bounded) Next(after time.Time) time.Time {
	if b.start != nil && after.Before(*b.start) {
		after = b.start.Add(-time.Nanosecond)
	}
	t := b.s.Next(after)
	if t.IsZero() || (b.end != nil && !t.Before(*b.end)) {
		return time.Time{}
	}
	return t
}

// parseRate reads "value unit" of a rate expression.
func parseRate(s string) (time.Duration, bool) {
	value, unit, ok := strings.Cut(s, " ")
	if !ok || value == "" || !allDigits(value) {
		return 0, false
	}
	n, err := strconv.ParseInt(value, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	var u time.Duration
	switch unit {
	case "minute", "minutes":
		u = time.Minute
	case "hour", "hours":
		u = time.Hour
	case "day", "days":
		u = 24 * time.Hour
	default:
		return 0, false
	}
	if plural := strings.HasSuffix(unit, "s"); plural != (n > 1) {
		return 0, false
	}
	if n > int64(1<<62)/int64(u) {
		return 0, false
	}
	return time.Duration(n) * u, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
