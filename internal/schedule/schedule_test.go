package schedule

import (
	"errors"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseAcceptsAWSExamples(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		expr  string
		after string
		want  []string // the next fires, in UTC
	}{
		{"daily at 10:15", "cron(15 10 * * ? *)", "2026-12-05T20:00", []string{"2026-12-06T10:15", "2026-12-07T10:15"}},
		{"weekdays at 18:00", "cron(0 18 ? * MON-FRI *)", "2026-12-04T18:00", []string{"2026-12-07T18:00", "2026-12-08T18:00"}},
		{"first of the month at 8:00", "cron(0 8 1 * ? *)", "2026-12-05T00:00", []string{"2027-01-01T08:00", "2027-02-01T08:00"}},
		{"every 15 minutes on weekdays 10:00-16:45", "cron(0/15 10-16 ? * MON-FRI *)", "2026-12-04T16:40", []string{"2026-12-04T16:45", "2026-12-07T10:00", "2026-12-07T10:15"}},
		{"every 10 minutes on weekdays", "cron(0/10 * ? * MON-FRI *)", "2026-12-05T20:00", []string{"2026-12-07T00:00", "2026-12-07T00:10"}},
		{"every 5 minutes 8:00-17:55 on weekdays", "cron(0/5 8-17 ? * MON-FRI *)", "2026-12-07T17:55", []string{"2026-12-08T08:00", "2026-12-08T08:05"}},
		{"first Monday of the month at 9:00", "cron(0 9 ? * 2#1 *)", "2026-12-05T00:00", []string{"2026-12-07T09:00", "2027-01-04T09:00"}},
		{"last day of the month", "cron(0 0 L * ? *)", "2027-01-31T00:00", []string{"2027-02-28T00:00", "2027-03-31T00:00"}},
		{"last Friday of the month", "cron(30 12 ? * 6L *)", "2026-12-05T00:00", []string{"2026-12-25T12:30", "2027-01-29T12:30"}},
		{"weekday nearest the 15th (a Saturday, so Friday)", "cron(0 6 15W * ? 2027)", "2027-05-01T00:00", []string{"2027-05-14T06:00", "2027-06-15T06:00"}},
		{"weekday nearest the 1st (a Saturday, so Monday the 3rd)", "cron(0 6 1W * ? *)", "2027-04-20T00:00", []string{"2027-05-03T06:00", "2027-06-01T06:00"}},
		{"last weekday of the month", "cron(0 6 LW * ? *)", "2027-01-01T00:00", []string{"2027-01-29T06:00", "2027-02-26T06:00"}},
		{"lists and names", "cron(0,30 9 ? jan,Jul SUN *)", "2027-01-01T00:00", []string{"2027-01-03T09:00", "2027-01-03T09:30", "2027-01-10T09:00"}},
		{"one year only", "cron(0 0 1 1 ? 2028)", "2026-12-05T00:00", []string{"2028-01-01T00:00", ""}},
		{"year increments", "cron(0 0 1 1 ? 2030/10)", "2031-01-01T00:00", []string{"2040-01-01T00:00", "2050-01-01T00:00"}},
		{"never after 2199", "cron(0 0 1 1 ? *)", "2199-01-01T00:00", []string{""}},
		{"February 30th never comes", "cron(0 0 30 2 ? *)", "2026-01-01T00:00", []string{""}},
		{"every minute", "cron(* * * * ? *)", "2026-12-05T20:00", []string{"2026-12-05T20:01", "2026-12-05T20:02"}},
		{"rate of one minute", "rate(1 minute)", "2026-12-05T20:00", []string{"2026-12-05T20:01", "2026-12-05T20:02"}},
		{"rate of 5 minutes", "rate(5 minutes)", "2026-12-05T20:00", []string{"2026-12-05T20:05", "2026-12-05T20:10"}},
		{"rate of 1 hour", "rate(1 hour)", "2026-12-05T20:00", []string{"2026-12-05T21:00"}},
		{"rate of 7 days", "rate(7 days)", "2026-12-05T20:00", []string{"2026-12-12T20:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tc.expr)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.expr, err)
			}
			at := utc(tc.after)
			for i, w := range tc.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("fire %d: got %v, want none", i, got)
					}
					return
				}
				if !got.Equal(utc(w)) {
					t.Fatalf("fire %d after %v: got %v, want %s", i, at, got, w)
				}
				at = got
			}
		})
	}
}

func TestParseRefusesInvalidExpressions(t *testing.T) {
	t.Parallel()
	for name, expr := range map[string]string{
		"both day fields set":          "cron(0 18 * * * *)",
		"both day fields ?":            "cron(0 18 ? * ? *)",
		"five fields":                  "cron(0 18 ? * MON-FRI)",
		"seven fields":                 "cron(0 0 18 ? * MON-FRI *)",
		"minute 60":                    "cron(60 0 * * ? *)",
		"hour 24":                      "cron(0 24 * * ? *)",
		"day 0":                        "cron(0 0 0 * ? *)",
		"day 32":                       "cron(0 0 32 * ? *)",
		"month 13":                     "cron(0 0 1 13 ? *)",
		"weekday 8":                    "cron(0 0 ? * 8 *)",
		"weekday 0":                    "cron(0 0 ? * 0 *)",
		"year 1969":                    "cron(0 0 1 1 ? 1969)",
		"year 2200":                    "cron(0 0 1 1 ? 2200)",
		"L in minutes":                 "cron(L 0 * * ? *)",
		"W in day of week":             "cron(0 0 ? * 2W *)",
		"# in day of month":            "cron(0 0 1#2 * ? *)",
		"sixth weekday of the month":   "cron(0 0 ? * 2#6 *)",
		"# in a list":                  "cron(0 0 ? * 2#1,3#1 *)",
		"backwards range":              "cron(0 0 ? * FRI-MON *)",
		"zero increment":               "cron(0/0 0 * * ? *)",
		"unknown name":                 "cron(0 0 1 FOO ? *)",
		"negative value":               "cron(-1 0 * * ? *)",
		"empty list element":           "cron(0, 0 * * ? *)",
		"unclosed":                     "cron(0 0 * * ? *",
		"rate of 1 minutes":            "rate(1 minutes)",
		"rate of 5 minute":             "rate(5 minute)",
		"rate of 0 minutes":            "rate(0 minutes)",
		"rate of -1 minute":            "rate(-1 minute)",
		"rate in seconds":              "rate(30 seconds)",
		"rate without a unit":          "rate(5)",
		"rate with two spaces":         "rate(5  minutes)",
		"rate that overflows":          "rate(99999999999999 days)",
		"rate with a fraction":         "rate(1.5 hours)",
		"at() is Scheduler's only":     "at(2026-12-05T20:00:00)",
		"empty":                        "",
		"unix cron":                    "0 18 * * *",
		"upper case keyword":           "CRON(0 18 * * ? *)",
		"rate capitalised unit":        "rate(5 Minutes)",
		"cron with nothing inside":     "cron()",
		"day of month L in a list":     "cron(0 0 1,L * ? *)",
		"last weekday of weekday zero": "cron(0 0 ? * 0L *)",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Parse(expr); !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse(%q) = %v, want %v", expr, err, ErrInvalid)
			}
		})
	}
	if got := ErrInvalid.Error(); got != "Parameter ScheduleExpression is not valid." {
		t.Fatalf("message %q", got)
	}
}

func TestParseSchedulerTimeZones(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, expr, tz, after string
		want                  []string // in UTC
	}{
		{"cron in New York", "cron(0 9 * * ? *)", "America/New_York", "2026-12-05T00:00", []string{"2026-12-05T14:00", "2026-12-06T14:00"}},
		{"cron in Tokyo", "cron(0 9 * * ? *)", "Asia/Tokyo", "2026-12-05T00:00", []string{"2026-12-06T00:00"}},
		{"at in UTC by default", "at(2026-12-24T18:30:00)", "", "2026-12-05T00:00", []string{"2026-12-24T18:30", ""}},
		{"at in Paris", "at(2026-12-24T18:30:00)", "Europe/Paris", "2026-12-05T00:00", []string{"2026-12-24T17:30", ""}},
		{"at in the past never fires", "at(2020-01-01T00:00:00)", "", "2026-12-05T00:00", []string{""}},
		// Clocks go forward at 02:00 on 2027-03-14 in New York: 02:30 does not exist that day.
		{"spring forward skips the missing time", "cron(30 2 * * ? *)", "America/New_York", "2027-03-13T00:00", []string{"2027-03-13T07:30", "2027-03-15T06:30"}},
		// Clocks go back at 02:00 on 2027-11-07: 01:30 happens twice and fires once.
		{"fall back fires once", "cron(30 1 * * ? *)", "America/New_York", "2027-11-06T00:00", []string{"2027-11-06T05:30", "2027-11-07T05:30", "2027-11-08T06:30"}},
		{"fall back every 30 minutes fires each wall time once", "cron(0/30 1-2 * * ? *)", "America/New_York", "2027-11-07T04:59", []string{"2027-11-07T05:00", "2027-11-07T05:30", "2027-11-07T07:00", "2027-11-07T07:30"}},
		// A rate day is 24 hours whatever the clock does.
		{"rate ignores daylight saving", "rate(1 day)", "America/New_York", "2027-03-13T17:00", []string{"2027-03-14T17:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseScheduler(tc.expr, tc.tz, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			at := utc(tc.after)
			for i, w := range tc.want {
				got := s.Next(at)
				if w == "" {
					if !got.IsZero() {
						t.Fatalf("fire %d: got %v, want none", i, got)
					}
					return
				}
				if !got.Equal(utc(w)) {
					t.Fatalf("fire %d after %v: got %v, want %s", i, at, got.UTC(), w)
				}
				at = got
			}
		})
	}
}

func TestParseSchedulerStartAndEnd(t *testing.T) {
	t.Parallel()
	start, end := utc("2026-12-10T00:02"), utc("2026-12-10T00:20")
	r, err := ParseScheduler("rate(5 minutes)", "", &start, &end)
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Time
	for at := utc("2026-12-01T00:00"); ; {
		at = r.Next(at)
		if at.IsZero() {
			break
		}
		got = append(got, at)
	}
	want := []time.Time{start, utc("2026-12-10T00:07"), utc("2026-12-10T00:12"), utc("2026-12-10T00:17")}
	if len(got) != len(want) {
		t.Fatalf("rate fires %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Fatalf("rate fires %v, want %v", got, want)
		}
	}
	if n := r.Next(utc("2026-12-10T00:08")); !n.Equal(utc("2026-12-10T00:12")) {
		t.Fatalf("rate resumes at %v, want 00:12 on the anchor's grid", n)
	}

	c, err := ParseScheduler("cron(0/10 * * * ? *)", "", &start, &end)
	if err != nil {
		t.Fatal(err)
	}
	if n := c.Next(utc("2026-12-01T00:00")); !n.Equal(utc("2026-12-10T00:10")) {
		t.Fatalf("cron first fire %v, want the first match after the start", n)
	}
	if n := c.Next(utc("2026-12-10T00:10")); !n.IsZero() {
		t.Fatalf("cron fires at %v, at the end date", n)
	}

	a, err := ParseScheduler("at(2026-12-25T00:00:00)", "", &start, &end)
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Next(start); !n.Equal(utc("2026-12-25T00:00")) {
		t.Fatalf("one-time schedules ignore start and end; got %v", n)
	}
}

func TestParseSchedulerRefusals(t *testing.T) {
	t.Parallel()
	start, end := utc("2026-12-10T00:00"), utc("2026-12-09T00:00")
	cases := []struct {
		name, expr, tz string
		start, end     *time.Time
		want           string
	}{
		{"bad cron", "cron(0 18 * * * *)", "", nil, nil, "Invalid Schedule Expression cron(0 18 * * * *)."},
		{"rate 1 minutes", "rate(1 minutes)", "", nil, nil, "Invalid Schedule Expression rate(1 minutes)."},
		{"at with a zone suffix", "at(2026-12-24T18:30:00Z)", "", nil, nil, "Invalid Schedule Expression at(2026-12-24T18:30:00Z)."},
		{"at without seconds", "at(2026-12-24T18:30)", "", nil, nil, "Invalid Schedule Expression at(2026-12-24T18:30)."},
		{"at on a day that does not exist", "at(2026-02-30T18:30:00)", "", nil, nil, "Invalid Schedule Expression at(2026-02-30T18:30:00)."},
		{"unknown time zone", "cron(0 9 * * ? *)", "Mars/Olympus", nil, nil, "Invalid time zone: Mars/Olympus."},
		{"Local is no time zone", "cron(0 9 * * ? *)", "Local", nil, nil, "Invalid time zone: Local."},
		{"end before start", "rate(5 minutes)", "", &start, &end, "The EndDate must be after the StartDate."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseScheduler(tc.expr, tc.tz, tc.start, tc.end)
			var se *SchedulerError
			if !errors.As(err, &se) || se.Message != tc.want {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"cron(0 18 ? * MON-FRI *)", "cron(0/15 10-16 ? * MON-FRI *)", "cron(0 9 ? * 2#1 *)",
		"cron(0 0 L * ? *)", "cron(0 6 15W * ? 2027)", "cron(0 0 1 1 ? 2030/10)", "rate(5 minutes)",
		"rate(1 day)", "cron(* * * * ? *)",
	} {
		f.Add(s)
	}
	after := utc("2026-12-05T20:00")
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if err != nil {
			return
		}
		prev := after
		for range 3 {
			n := s.Next(prev)
			if n.IsZero() {
				return
			}
			if !n.After(prev) {
				t.Fatalf("%q: Next(%v) = %v, not after", expr, prev, n)
			}
			prev = n
		}
	})
}
