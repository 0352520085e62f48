package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// API destination states: INACTIVE while its connection is deauthorized.
const (
	destActive   = "ACTIVE"
	destInactive = "INACTIVE"
)

// maxDestinations is the quota of API destinations per account and region.
const maxDestinations = 3000

// destRow is an API destination as stored.
type destRow struct {
	ID          int64
	Account     string
	Region      string
	Name        string
	UUID        string
	Connection  string // its connection's ARN
	Endpoint    string
	Method      string
	Rate        int32 // 0: not set (the default rate applies)
	Description string
	Created     time.Time
	Modified    time.Time
}

func (d *destRow) arn() string {
	return "arn:aws:events:" + d.Region + ":" + d.Account + ":api-destination/" + d.Name + "/" + d.UUID
}

const destColumns = "id, account, region, name, uuid, connection_arn, endpoint, method, rate, description, created_at, modified_at"

func scanDest(row interface{ Scan(...any) error }) (*destRow, error) {
	var d destRow
	var created, modified int64
	if err := row.Scan(&d.ID, &d.Account, &d.Region, &d.Name, &d.UUID, &d.Connection, &d.Endpoint, &d.Method, &d.Rate, &d.Description,
		&created, &modified); err != nil {
		return nil, err
	}
	d.Created, d.Modified = time.Unix(0, created), time.Unix(0, modified)
	return &d, nil
}

func destNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Failed to describe the api-destination(s). An api-destination '%s' does not exist.", name)
}

func loadDest(q querier, account, region, name string) (*destRow, error) {
	d, err := scanDest(q.QueryRow("SELECT "+destColumns+" FROM events_api_destinations WHERE account = ? AND region = ? AND name = ?", account, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load API destination %s: %w", name, err)
	}
	return d, nil
}

func mustDest(ctx context.Context, q querier, name string) (*destRow, error) {
	account, region := callerScope(ctx)
	d, err := loadDest(q, account, region, name)
	if err == nil && d == nil {
		err = destNotFound(name)
	}
	return d, err
}

// parseDestARN reads arn:aws:events:REGION:ACCOUNT:api-destination/NAME/UUID.
func parseDestARN(arn string) (account, region, name, id string, ok bool) {
	return parseIDARN(arn, "api-destination/")
}

// parseConnARN reads arn:aws:events:REGION:ACCOUNT:connection/NAME/UUID.
func parseConnARN(arn string) (account, region, name, id string, ok bool) {
	return parseIDARN(arn, "connection/")
}

// parseIDARN reads arn:aws:events:REGION:ACCOUNT:KIND/NAME/UUID, kind ending in "/".
func parseIDARN(arn, kind string) (account, region, name, id string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" || parts[3] == "" || len(parts[4]) != 12 {
		return "", "", "", "", false
	}
	rest, ok := strings.CutPrefix(parts[5], kind)
	if !ok {
		return "", "", "", "", false
	}
	name, id, ok = strings.Cut(rest, "/")
	if !ok || !validName(name, 64, false) || id == "" {
		return "", "", "", "", false
	}
	return parts[4], parts[3], name, id, true
}

func (s *Service) registerDestinationOps() {
	awsproto.Handle(s.api, "CreateApiDestination", s.createAPIDestination)
	awsproto.Handle(s.api, "DescribeApiDestination", s.describeAPIDestination)
	awsproto.Handle(s.api, "UpdateApiDestination", s.updateAPIDestination)
	awsproto.Handle(s.api, "DeleteApiDestination", s.deleteAPIDestination)
	awsproto.Handle(s.api, "ListApiDestinations", s.listAPIDestinations)
}

// destConnection loads the connection an API destination names, of the caller's account and
// region, or refuses with ResourceNotFoundException.
func destConnection(ctx context.Context, q querier, arn string) (*connRow, error) {
	account, region := callerScope(ctx)
	ca, cr, name, id, ok := parseConnARN(arn)
	if !ok {
		return nil, validation("Parameter ConnectionArn is not valid. Reason: Provided Arn is not in correct format.")
	}
	var c *connRow
	var err error
	if ca == account && cr == region {
		c, err = loadConn(q, account, region, name)
	}
	if err != nil {
		return nil, err
	}
	if c == nil || c.UUID != id {
		return nil, connNotFound(name)
	}
	return c, nil
}

func (s *Service) createAPIDestination(ctx context.Context, in *CreateApiDestinationRequest) (*CreateApiDestinationResponse, error) {
	account, region := callerScope(ctx)
	name := awsproto.Value(in.Name)
	if !validName(name, 64, false) {
		return nil, validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	if err := checkEndpoint("InvocationEndpoint", awsproto.Value(in.InvocationEndpoint)); err != nil {
		return nil, err
	}
	now := s.now()
	d := &destRow{Account: account, Region: region, Name: name, UUID: uuid.New(), Connection: awsproto.Value(in.ConnectionArn),
		Endpoint: awsproto.Value(in.InvocationEndpoint), Method: awsproto.Value(in.HttpMethod), Rate: awsproto.Value(in.InvocationRateLimitPerSecond),
		Description: awsproto.Value(in.Description), Created: now, Modified: now}
	state := destActive
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		c, err := destConnection(ctx, tx, d.Connection)
		if err != nil {
			return err
		}
		state = destState(c)
		var n, same int
		if err := tx.QueryRow("SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM events_api_destinations WHERE account = ? AND region = ?",
			name, account, region).Scan(&n, &same); err != nil {
			return err
		}
		if same > 0 {
			return awsproto.Errorf("ResourceAlreadyExistsException", 400, "An api-destination '%s' already exists.", name)
		}
		if n >= maxDestinations {
			return limitExceeded("The requested resource exceeds the maximum number allowed.")
		}
		_, err = tx.Exec(`INSERT INTO events_api_destinations (account, region, name, uuid, connection_arn, endpoint, method, rate, description, created_at, modified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.Account, d.Region, d.Name, d.UUID, d.Connection, d.Endpoint, d.Method, d.Rate, d.Description,
			now.UnixNano(), now.UnixNano())
		return err
	})
	if err != nil {
		return nil, err
	}
	return &CreateApiDestinationResponse{ApiDestinationArn: awsproto.Ptr(d.arn()), ApiDestinationState: awsproto.Ptr(state), CreationTime: &now, LastModifiedTime: &now}, nil
}

// destState is the state of an API destination using connection c.
func destState(c *connRow) string {
	if c == nil || c.State == connDeauthorized || c.State == connDeauthorizing {
		return destInactive
	}
	return destActive
}

// rate is the destination's invocations per second.
func (d *destRow) rate() int32 {
	if d.Rate > 0 {
		return d.Rate
	}
	return apidest.DefaultRateLimit
}

func (s *Service) describeAPIDestination(ctx context.Context, in *DescribeApiDestinationRequest) (*DescribeApiDestinationResponse, error) {
	q := s.reader(ctx)
	d, err := mustDest(ctx, q, awsproto.Value(in.Name))
	if err != nil {
		return nil, err
	}
	c, err := s.connOf(q, d)
	if err != nil {
		return nil, err
	}
	out := &DescribeApiDestinationResponse{ApiDestinationArn: awsproto.Ptr(d.arn()), Name: awsproto.Ptr(d.Name), ApiDestinationState: awsproto.Ptr(destState(c)),
		ConnectionArn: awsproto.Ptr(d.Connection), InvocationEndpoint: awsproto.Ptr(d.Endpoint), HttpMethod: awsproto.Ptr(d.Method),
		InvocationRateLimitPerSecond: awsproto.Ptr(d.rate()), CreationTime: &d.Created, LastModifiedTime: &d.Modified}
	if d.Description != "" {
		out.Description = awsproto.Ptr(d.Description)
	}
	return out, nil
}

// connOf loads the connection of an API destination, or nil when it is gone.
func (s *Service) connOf(q querier, d *destRow) (*connRow, error) {
	account, region, name, id, ok := parseConnARN(d.Connection)
	if !ok {
		return nil, nil
	}
	c, err := loadConn(q, account, region, name)
	if err != nil || c == nil || c.UUID != id {
		return nil, err
	}
	return c, nil
}

func (s *Service) updateAPIDestination(ctx context.Context, in *UpdateApiDestinationRequest) (*UpdateApiDestinationResponse, error) {
	if in.InvocationEndpoint != nil {
		if err := checkEndpoint("InvocationEndpoint", *in.InvocationEndpoint); err != nil {
			return nil, err
		}
	}
	var d *destRow
	state := destActive
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if d, err = mustDest(ctx, tx, awsproto.Value(in.Name)); err != nil {
			return err
		}
		if in.ConnectionArn != nil {
			d.Connection = *in.ConnectionArn
		}
		c, err := destConnection(ctx, tx, d.Connection)
		if err != nil {
			return err
		}
		state = destState(c)
		if in.InvocationEndpoint != nil {
			d.Endpoint = *in.InvocationEndpoint
		}
		if in.HttpMethod != nil {
			d.Method = *in.HttpMethod
		}
		if in.InvocationRateLimitPerSecond != nil {
			d.Rate = *in.InvocationRateLimitPerSecond
		}
		if in.Description != nil {
			d.Description = *in.Description
		}
		d.Modified = s.now()
		_, err = tx.Exec(`UPDATE events_api_destinations SET connection_arn = ?, endpoint = ?, method = ?, rate = ?, description = ?, modified_at = ? WHERE id = ?`,
			d.Connection, d.Endpoint, d.Method, d.Rate, d.Description, d.Modified.UnixNano(), d.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &UpdateApiDestinationResponse{ApiDestinationArn: awsproto.Ptr(d.arn()), ApiDestinationState: awsproto.Ptr(state), CreationTime: &d.Created, LastModifiedTime: &d.Modified}, nil
}

func (s *Service) deleteAPIDestination(ctx context.Context, in *DeleteApiDestinationRequest) (*DeleteApiDestinationResponse, error) {
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		d, err := mustDest(ctx, tx, awsproto.Value(in.Name))
		if err != nil {
			return err
		}
		_, err = tx.Exec("DELETE FROM events_api_destinations WHERE id = ?", d.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &DeleteApiDestinationResponse{}, nil
}

func (s *Service) listAPIDestinations(ctx context.Context, in *ListApiDestinationsRequest) (*ListApiDestinationsResponse, error) {
	account, region := callerScope(ctx)
	after, err := decodeToken(in.NextToken, "api-destinations")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	q := "SELECT " + destColumns + " FROM events_api_destinations WHERE account = ? AND region = ? AND name > ?"
	args := []any{account, region, after}
	if prefix := awsproto.Value(in.NamePrefix); prefix != "" {
		q += " AND substr(name, 1, ?) = ?"
		args = append(args, len(prefix), prefix)
	}
	if c := awsproto.Value(in.ConnectionArn); c != "" {
		q += " AND connection_arn = ?"
		args = append(args, c)
	}
	rows, err := s.st.Query(ctx, q+" ORDER BY name LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, err
	}
	var dests []*destRow
	for rows.Next() {
		d, err := scanDest(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		dests = append(dests, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := &ListApiDestinationsResponse{ApiDestinations: []ApiDestination{}}
	reader := s.reader(ctx)
	for i, d := range dests {
		if i == limit {
			out.NextToken = encodeToken("api-destinations", dests[limit-1].Name)
			break
		}
		c, err := s.connOf(reader, d)
		if err != nil {
			return nil, err
		}
		out.ApiDestinations = append(out.ApiDestinations, ApiDestination{ApiDestinationArn: awsproto.Ptr(d.arn()), Name: awsproto.Ptr(d.Name),
			ApiDestinationState: awsproto.Ptr(destState(c)), ConnectionArn: awsproto.Ptr(d.Connection), InvocationEndpoint: awsproto.Ptr(d.Endpoint),
			HttpMethod: awsproto.Ptr(d.Method), InvocationRateLimitPerSecond: awsproto.Ptr(d.rate()), CreationTime: &d.Created, LastModifiedTime: &d.Modified})
	}
	return out, nil
}
