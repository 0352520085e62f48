package scheduler

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/schedule"
	"github.com/kiri-run/kiri/internal/store"
)

// Schedule states and actions after completion.
const (
	stateEnabled  = "ENABLED"
	stateDisabled = "DISABLED"
	actionNone    = "NONE"
	actionDelete  = "DELETE"
	modeOff       = "OFF"
	modeFlexible  = "FLEXIBLE"
)

// Scheduler's default retry policy.
const (
	defaultRetryAttempts = 185
	defaultEventAge      = 86400
)

// scheduleDoc is a schedule as stored: the fields a CreateSchedule or UpdateSchedule set, with
// their defaults filled in.
type scheduleDoc struct {
	Description           *string            `json:"description,omitempty"`
	Expression            string             `json:"expression"`
	Timezone              *string            `json:"timezone,omitempty"`
	StartDate             *time.Time         `json:"start,omitempty"`
	EndDate               *time.Time         `json:"end,omitempty"`
	Flexible              FlexibleTimeWindow `json:"flexible"`
	ActionAfterCompletion string             `json:"after"`
	Target                Target             `json:"target"`
	Created               time.Time          `json:"created"`
	Modified              time.Time          `json:"modified"`
}

// parse returns the fire times of d. A rate schedule without a start date runs from its
// creation, its first fire at once.
func (d *scheduleDoc) parse() (schedule.Schedule, error) {
	start := d.StartDate
	if start == nil && strings.HasPrefix(d.Expression, "rate(") {
		start = &d.Created
	}
	return schedule.ParseScheduler(d.Expression, awsproto.Value(d.Timezone), start, d.EndDate)
}

// firstFire is the first fire of d at or after now; zero when there is none. A one-time
// schedule whose time has passed fires at once, as a fire missed while Kiri was down does.
func (d *scheduleDoc) firstFire(now time.Time) (time.Time, error) {
	sch, err := d.parse()
	if err != nil {
		return time.Time{}, err
	}
	if schedule.IsOneTime(d.Expression) {
		return sch.Next(time.Time{}), nil
	}
	return sch.Next(now.Add(-time.Nanosecond)), nil
}

// scheduleSpec is what CreateSchedule and UpdateSchedule take.
type scheduleSpec struct {
	ActionAfterCompletion      *string
	Description                *string
	EndDate                    *time.Time
	FlexibleTimeWindow         *FlexibleTimeWindow
	KmsKeyArn                  *string
	ScheduleExpression         *string
	ScheduleExpressionTimezone *string
	StartDate                  *time.Time
	State                      *string
	Target                     *Target
}

// checkSpec validates a schedule's fields and returns its document and state.
func (s *Service) checkSpec(ctx context.Context, sc scope, spec scheduleSpec, created time.Time) (*scheduleDoc, string, error) {
	if spec.KmsKeyArn != nil {
		return nil, "", validation("KmsKeyArn is not supported by this server: schedules are encrypted with AWS owned keys only.")
	}
	now := s.now().UTC()
	doc := &scheduleDoc{
		Description: spec.Description, Expression: awsproto.Value(spec.ScheduleExpression), Timezone: spec.ScheduleExpressionTimezone,
		StartDate: utcPtr(spec.StartDate), EndDate: utcPtr(spec.EndDate), ActionAfterCompletion: actionNone,
		Created: created, Modified: now,
	}
	if spec.ActionAfterCompletion != nil {
		doc.ActionAfterCompletion = *spec.ActionAfterCompletion
	}
	if doc.EndDate != nil && !doc.EndDate.After(now) && !schedule.IsOneTime(doc.Expression) {
		return nil, "", validation("The EndDate must be in the future.")
	}
	if _, err := schedule.ParseScheduler(doc.Expression, awsproto.Value(doc.Timezone), doc.StartDate, doc.EndDate); err != nil {
		return nil, "", validation("%s", err.Error())
	}
	fw := spec.FlexibleTimeWindow
	switch awsproto.Value(fw.Mode) {
	case modeOff:
		if fw.MaximumWindowInMinutes != nil {
			return nil, "", validation("MaximumWindowInMinutes must not be specified when FlexibleTimeWindow Mode is OFF.")
		}
	case modeFlexible:
		if fw.MaximumWindowInMinutes == nil {
			return nil, "", validation("MaximumWindowInMinutes is required when FlexibleTimeWindow Mode is FLEXIBLE.")
		}
	}
	doc.Flexible = *fw
	t, err := s.checkTarget(ctx, sc, spec.Target)
	if err != nil {
		return nil, "", err
	}
	doc.Target = *t
	state := stateEnabled
	if spec.State != nil {
		state = *spec.State
	}
	return doc, state, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// scheduleRow is a stored schedule.
type scheduleRow struct {
	group, name  string
	state, token string
	timer        string
	doc          scheduleDoc
}

// loadSchedule reads a schedule, or nil when there is none.
func loadSchedule(q rowQuery, sc scope, grp, name string) (*scheduleRow, error) {
	r := scheduleRow{group: grp, name: name}
	var doc string
	err := q(`SELECT state, doc, token, timer FROM scheduler_schedules WHERE account = ? AND region = ? AND grp = ? AND name = ?`,
		sc.account, sc.region, grp, name).Scan(&r.state, &doc, &r.token, &r.timer)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, json.Unmarshal([]byte(doc), &r.doc)
}

func putSchedule(tx *store.Tx, sc scope, r *scheduleRow) error {
	doc, err := json.Marshal(&r.doc)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO scheduler_schedules (account, region, grp, name, state, doc, token, timer) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, grp, name) DO UPDATE SET state = excluded.state, doc = excluded.doc, timer = excluded.timer`,
		sc.account, sc.region, r.group, r.name, r.state, string(doc), r.token, r.timer)
	return err
}

func deleteScheduleRow(tx *store.Tx, sc scope, grp, name string) error {
	_, err := tx.Exec(`DELETE FROM scheduler_schedules WHERE account = ? AND region = ? AND grp = ? AND name = ?`, sc.account, sc.region, grp, name)
	return err
}

func groupOf(name *string) string {
	if name == nil || *name == "" {
		return defaultGroup
	}
	return *name
}

func (s *Service) createSchedule(ctx context.Context, in *CreateScheduleInput) (*CreateScheduleOutput, error) {
	sc := scopeOf(ctx)
	grp, name := groupOf(in.GroupName), awsproto.Value(in.Name)
	doc, state, err := s.checkSpec(ctx, sc, scheduleSpec{in.ActionAfterCompletion, in.Description, in.EndDate, in.FlexibleTimeWindow,
		in.KmsKeyArn, in.ScheduleExpression, in.ScheduleExpressionTimezone, in.StartDate, in.State, in.Target}, s.now().UTC())
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.requireGroup(tx.QueryRow, sc, grp); err != nil {
			return err
		}
		old, err := loadSchedule(tx.QueryRow, sc, grp, name)
		if err != nil {
			return err
		}
		if old != nil {
			if in.ClientToken != nil && old.token == *in.ClientToken {
				return nil // a retry of the call that created it
			}
			return conflict("Schedule %s already exists.", name)
		}
		r := &scheduleRow{group: grp, name: name, state: state, token: awsproto.Value(in.ClientToken), doc: *doc}
		return s.arm(tx, sc, r)
	})
	if err != nil {
		return nil, wrap("create schedule", err)
	}
	return &CreateScheduleOutput{ScheduleArn: awsproto.Ptr(sc.scheduleARN(grp, name))}, nil
}

func (s *Service) updateSchedule(ctx context.Context, in *UpdateScheduleInput) (*UpdateScheduleOutput, error) {
	sc := scopeOf(ctx)
	grp, name := groupOf(in.GroupName), awsproto.Value(in.Name)
	old, err := loadSchedule(s.reader(ctx), sc, grp, name)
	if err != nil {
		return nil, wrap("update schedule", err)
	}
	if old == nil {
		return nil, notFound("Schedule %s does not exist.", name)
	}
	doc, state, err := s.checkSpec(ctx, sc, scheduleSpec{in.ActionAfterCompletion, in.Description, in.EndDate, in.FlexibleTimeWindow,
		in.KmsKeyArn, in.ScheduleExpression, in.ScheduleExpressionTimezone, in.StartDate, in.State, in.Target}, old.doc.Created)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := loadSchedule(tx.QueryRow, sc, grp, name)
		if err != nil {
			return err
		}
		if cur == nil {
			return notFound("Schedule %s does not exist.", name)
		}
		cur.state, cur.doc = state, *doc
		return s.arm(tx, sc, cur)
	})
	if err != nil {
		return nil, wrap("update schedule", err)
	}
	return &UpdateScheduleOutput{ScheduleArn: awsproto.Ptr(sc.scheduleARN(grp, name))}, nil
}

func (s *Service) deleteSchedule(ctx context.Context, in *DeleteScheduleInput) (*DeleteScheduleOutput, error) {
	sc := scopeOf(ctx)
	grp, name := groupOf(in.GroupName), awsproto.Value(in.Name)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadSchedule(tx.QueryRow, sc, grp, name)
		if err != nil {
			return err
		}
		if r == nil {
			return notFound("Schedule %s does not exist.", name)
		}
		return deleteScheduleRow(tx, sc, grp, name)
	})
	if err != nil {
		return nil, wrap("delete schedule", err)
	}
	return &DeleteScheduleOutput{}, nil
}

func (s *Service) getSchedule(ctx context.Context, in *GetScheduleInput) (*GetScheduleOutput, error) {
	sc := scopeOf(ctx)
	grp, name := groupOf(in.GroupName), awsproto.Value(in.Name)
	r, err := loadSchedule(s.reader(ctx), sc, grp, name)
	if err != nil {
		return nil, wrap("get schedule", err)
	}
	if r == nil {
		return nil, notFound("Schedule %s does not exist.", name)
	}
	d := &r.doc
	t := d.Target
	return &GetScheduleOutput{
		ActionAfterCompletion: awsproto.Ptr(d.ActionAfterCompletion), Arn: awsproto.Ptr(sc.scheduleARN(grp, name)),
		CreationDate: awsproto.Ptr(d.Created), LastModificationDate: awsproto.Ptr(d.Modified), Description: d.Description,
		StartDate: d.StartDate, EndDate: d.EndDate, FlexibleTimeWindow: &d.Flexible, GroupName: awsproto.Ptr(grp), Name: awsproto.Ptr(name),
		ScheduleExpression: awsproto.Ptr(d.Expression), ScheduleExpressionTimezone: d.Timezone, State: awsproto.Ptr(r.state), Target: &t,
	}, nil
}

func (s *Service) listSchedules(ctx context.Context, in *ListSchedulesInput) (*ListSchedulesOutput, error) {
	sc := scopeOf(ctx)
	after, err := decodeToken(in.NextToken, "schedules")
	if err != nil {
		return nil, err
	}
	if in.GroupName != nil {
		if _, err := s.requireGroup(s.reader(ctx), sc, *in.GroupName); err != nil {
			return nil, wrap("list schedules", err)
		}
	}
	limit := pageSize(in.MaxResults)
	// Schedules are listed by group, then name; the token holds "group/name" of the last one.
	q := `SELECT grp, name, state, doc FROM scheduler_schedules WHERE account = ? AND region = ? AND grp || '/' || name > ?`
	args := []any{sc.account, sc.region, after}
	if in.GroupName != nil {
		q += ` AND grp = ?`
		args = append(args, *in.GroupName)
	}
	if in.State != nil {
		q += ` AND state = ?`
		args = append(args, *in.State)
	}
	if in.NamePrefix != nil {
		q += ` AND substr(name, 1, ?) = ?`
		args = append(args, len(*in.NamePrefix), *in.NamePrefix)
	}
	q += ` ORDER BY grp || '/' || name LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.st.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list schedules", err)
	}
	defer rows.Close()
	out := &ListSchedulesOutput{Schedules: []ScheduleSummary{}}
	for rows.Next() {
		var grp, name, state, raw string
		if err := rows.Scan(&grp, &name, &state, &raw); err != nil {
			return nil, wrap("list schedules", err)
		}
		if len(out.Schedules) == limit {
			last := out.Schedules[limit-1]
			out.NextToken = encodeToken("schedules", awsproto.Ptr(*last.GroupName+"/"+*last.Name))
			break
		}
		var d scheduleDoc
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			return nil, wrap("list schedules", err)
		}
		out.Schedules = append(out.Schedules, ScheduleSummary{
			Arn: awsproto.Ptr(sc.scheduleARN(grp, name)), CreationDate: awsproto.Ptr(d.Created), LastModificationDate: awsproto.Ptr(d.Modified),
			GroupName: awsproto.Ptr(grp), Name: awsproto.Ptr(name), State: awsproto.Ptr(state), Target: &TargetSummary{Arn: d.Target.Arn},
		})
	}
	return out, wrap("list schedules", rows.Err())
}
