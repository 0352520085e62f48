package sfn

import (
	"context"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// activity is a stored activity.
type activity struct {
	ARN        string                   `json:"arn"`
	Name       string                   `json:"name"`
	Created    time.Time                `json:"created"`
	Tags       map[string]string        `json:"tags"`
	Encryption *EncryptionConfiguration `json:"encryption,omitempty"`
}

func (s *Service) handleActivities() {
	awsproto.Handle(s.api, "CreateActivity", s.createActivity)
	awsproto.Handle(s.api, "DescribeActivity", s.describeActivity)
	awsproto.Handle(s.api, "DeleteActivity", s.deleteActivity)
	awsproto.Handle(s.api, "ListActivities", s.listActivities)
	awsproto.Handle(s.api, "GetActivityTask", s.getActivityTask)
	awsproto.Handle(s.api, "SendTaskSuccess", s.sendTaskSuccess)
	awsproto.Handle(s.api, "SendTaskFailure", s.sendTaskFailure)
	awsproto.Handle(s.api, "SendTaskHeartbeat", s.sendTaskHeartbeat)
}

func loadActivity(q rowQuery, arn string) (*activity, error) {
	var a activity
	found, err := loadDoc(q, &a, `SELECT doc FROM sfn_activities WHERE arn = ?`, arn)
	if !found || err != nil {
		return nil, err
	}
	return &a, nil
}

func putActivity(tx *store.Tx, sc scope, a *activity) error {
	_, err := tx.Exec(`INSERT INTO sfn_activities (arn, account, region, name, created, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`, a.ARN, sc.account, sc.region, a.Name, a.Created.UnixNano(), encode(a))
	return err
}

// parseActivityARN reads an activity ARN.
func parseActivityARN(arn string) (resource, error) {
	r, ok := parseARN(arn)
	if !ok {
		return r, invalidARN("Invalid ARN prefix: " + arn)
	}
	if r.kind != "activity" || len(r.rest) != 0 {
		return r, invalidARN("Resource type not valid in this context: " + r.kind)
	}
	return r, nil
}

func (s *Service) createActivity(ctx context.Context, in *CreateActivityInput) (*CreateActivityOutput, error) {
	sc := scopeOf(ctx)
	name := awsproto.Value(in.Name)
	if !validName(name) {
		return nil, invalidName(name)
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	if e := in.EncryptionConfiguration; e != nil && awsproto.Value(e.Type) == "CUSTOMER_MANAGED_KMS_KEY" {
		return nil, apiError("InvalidEncryptionConfiguration",
			"Invalid Encryption Configuration: customer managed KMS keys are not supported by this server.")
	}
	a := &activity{ARN: sc.activityARN(name), Name: name, Created: s.now().UTC(), Tags: tags,
		Encryption: defaultEncryption(in.EncryptionConfiguration)}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		old, err := loadActivity(tx.QueryRow, a.ARN)
		if err != nil {
			return err
		}
		if old != nil { // creating again is idempotent; tags do not count
			a = old
			return nil
		}
		return putActivity(tx, sc, a)
	})
	if err != nil {
		return nil, wrap("create activity", err)
	}
	return &CreateActivityOutput{ActivityArn: &a.ARN, CreationDate: &a.Created}, nil
}

func (s *Service) describeActivity(ctx context.Context, in *DescribeActivityInput) (*DescribeActivityOutput, error) {
	arn := awsproto.Value(in.ActivityArn)
	if _, err := parseActivityARN(arn); err != nil {
		return nil, err
	}
	a, err := loadActivity(s.reader(ctx), arn)
	if err != nil {
		return nil, wrap("describe activity", err)
	}
	if a == nil {
		return nil, activityNotFound(arn)
	}
	return &DescribeActivityOutput{ActivityArn: &a.ARN, Name: &a.Name, CreationDate: &a.Created, EncryptionConfiguration: a.Encryption}, nil
}

func (s *Service) deleteActivity(ctx context.Context, in *DeleteActivityInput) (*DeleteActivityOutput, error) {
	arn := awsproto.Value(in.ActivityArn)
	if _, err := parseActivityARN(arn); err != nil {
		return nil, err
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM sfn_activities WHERE arn = ?`, arn)
		return err
	})
	if err != nil {
		return nil, wrap("delete activity", err)
	}
	return &DeleteActivityOutput{}, nil
}

func (s *Service) listActivities(ctx context.Context, in *ListActivitiesInput) (*ListActivitiesOutput, error) {
	sc := scopeOf(ctx)
	all, err := queryDocs[activity](ctx, s.st, `SELECT doc FROM sfn_activities WHERE account = ? AND region = ? ORDER BY name`, sc.account, sc.region)
	if err != nil {
		return nil, wrap("list activities", err)
	}
	items, next, err := page(all, "activities", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListActivitiesOutput{NextToken: next, Activities: []ActivityListItem{}}
	for _, a := range items {
		out.Activities = append(out.Activities, ActivityListItem{ActivityArn: awsproto.Ptr(a.ARN), Name: awsproto.Ptr(a.Name),
			CreationDate: awsproto.Ptr(a.Created)})
	}
	return out, nil
}
