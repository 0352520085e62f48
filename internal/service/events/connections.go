package events

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/apidest"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Connection states, as EventBridge reports them.
const (
	connCreating      = "CREATING"
	connUpdating      = "UPDATING"
	connDeleting      = "DELETING"
	connAuthorized    = "AUTHORIZED"
	connDeauthorized  = "DEAUTHORIZED"
	connAuthorizing   = "AUTHORIZING"
	connDeauthorizing = "DEAUTHORIZING"
)

// maxConnections is the quota of connections per account and region.
const maxConnections = 3000

// authorizeQueue holds the OAuth connections waiting for their first token.
const authorizeQueue = "events.connection-authorize"

// connRow is a connection as stored. Auth holds its authorization with the secrets, which
// only calls read: no response carries them.
type connRow struct {
	ID          int64
	Account     string
	Region      string
	Name        string
	UUID        string
	Type        string
	Description string
	State       string
	Reason      string
	Secret      string // the suffix of its secret's ARN
	Version     int64
	Auth        apidest.Connection
	Created     time.Time
	Modified    time.Time
	Authorized  time.Time
}

func (c *connRow) arn() string {
	return "arn:aws:events:" + c.Region + ":" + c.Account + ":connection/" + c.Name + "/" + c.UUID
}

// secretARN is the ARN of the secret EventBridge keeps a connection's credentials in.
func (c *connRow) secretARN() string {
	return "arn:aws:secretsmanager:" + c.Region + ":" + c.Account + ":secret:events!connection/" + c.Name + "/" + c.UUID + "-" + c.Secret
}

// call is the connection as an API destination call needs it.
func (c *connRow) call() *apidest.Connection {
	a := c.Auth
	a.ARN, a.Version, a.Type = c.arn(), c.Version, c.Type
	return &a
}

const connColumns = "id, account, region, name, uuid, auth_type, description, state, reason, secret, version, auth, created_at, modified_at, authorized_at"

func scanConn(row interface{ Scan(...any) error }) (*connRow, error) {
	var c connRow
	var auth string
	var created, modified, authorized int64
	if err := row.Scan(&c.ID, &c.Account, &c.Region, &c.Name, &c.UUID, &c.Type, &c.Description, &c.State, &c.Reason, &c.Secret,
		&c.Version, &auth, &created, &modified, &authorized); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(auth), &c.Auth); err != nil {
		return nil, fmt.Errorf("decode connection %s: %w", c.Name, err)
	}
	c.Created, c.Modified = time.Unix(0, created), time.Unix(0, modified)
	if authorized != 0 {
		c.Authorized = time.Unix(0, authorized)
	}
	return &c, nil
}

func connNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Failed to describe the connection(s). Connection '%s' does not exist.", name)
}

// loadConn returns the connection name of account and region, or nil.
func loadConn(q querier, account, region, name string) (*connRow, error) {
	c, err := scanConn(q.QueryRow("SELECT "+connColumns+" FROM events_connections WHERE account = ? AND region = ? AND name = ?", account, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load connection %s: %w", name, err)
	}
	return c, nil
}

func mustConn(ctx context.Context, q querier, name string) (*connRow, error) {
	account, region := callerScope(ctx)
	c, err := loadConn(q, account, region, name)
	if err == nil && c == nil {
		err = connNotFound(name)
	}
	return c, err
}

func (s *Service) registerConnectionOps() {
	awsproto.Handle(s.api, "CreateConnection", s.createConnection)
	awsproto.Handle(s.api, "DescribeConnection", s.describeConnection)
	awsproto.Handle(s.api, "UpdateConnection", s.updateConnection)
	awsproto.Handle(s.api, "DeleteConnection", s.deleteConnection)
	awsproto.Handle(s.api, "ListConnections", s.listConnections)
	awsproto.Handle(s.api, "DeauthorizeConnection", s.deauthorizeConnection)
}

func checkConnName(name string) error {
	if !validName(name, 64, false) {
		return validation("1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	return nil
}

// refuseUnsupported refuses what a connection cannot do in Kiri: private endpoints through VPC
// Lattice resource configurations, and customer managed KMS keys.
func refuseUnsupported(kms *string, connectivity ...*ConnectivityResourceParameters) error {
	if awsproto.Value(kms) != "" {
		return validation("KmsKeyIdentifier is not supported by Kiri: connection secrets are stored with the data directory's protection.")
	}
	for _, c := range connectivity {
		if c != nil {
			return validation("Private API connectivity (ConnectivityParameters) is not supported by Kiri: connections reach public HTTP endpoints.")
		}
	}
	return nil
}

func (s *Service) createConnection(ctx context.Context, in *CreateConnectionRequest) (*CreateConnectionResponse, error) {
	account, region := callerScope(ctx)
	name := awsproto.Value(in.Name)
	if err := checkConnName(name); err != nil {
		return nil, err
	}
	ap := in.AuthParameters
	if err := refuseUnsupported(in.KmsKeyIdentifier, in.InvocationConnectivityParameters, ap.ConnectivityParameters); err != nil {
		return nil, err
	}
	typ := awsproto.Value(in.AuthorizationType)
	auth, err := createAuth(typ, ap)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c := &connRow{Account: account, Region: region, Name: name, UUID: uuid.New(), Type: typ, Description: awsproto.Value(in.Description),
		Secret: secretSuffix(), Version: 1, Auth: auth, Created: now, Modified: now}
	reported := connCreating
	if typ == apidest.OAuth {
		c.State, reported = connAuthorizing, connAuthorizing
	} else {
		c.State, c.Authorized = connAuthorized, now
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		var n, same int
		if err := tx.QueryRow("SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM events_connections WHERE account = ? AND region = ?",
			name, account, region).Scan(&n, &same); err != nil {
			return err
		}
		if same > 0 {
			return awsproto.Errorf("ResourceAlreadyExistsException", 400, "Connection %s already exists.", name)
		}
		if n >= maxConnections {
			return limitExceeded("The requested resource exceeds the maximum number allowed.")
		}
		return s.saveConn(tx, c, true)
	})
	if err != nil {
		return nil, err
	}
	return &CreateConnectionResponse{ConnectionArn: awsproto.Ptr(c.arn()), ConnectionState: awsproto.Ptr(reported), CreationTime: &now, LastModifiedTime: &now}, nil
}

// secretSuffix is the six random characters Secrets Manager ends a secret's ARN with.
func secretSuffix() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}

// saveConn inserts (fresh) or updates c, and queues the authorization of an AUTHORIZING
// connection in the same write.
func (s *Service) saveConn(tx *store.Tx, c *connRow, fresh bool) error {
	auth, err := json.Marshal(c.Auth)
	if err != nil {
		return err
	}
	var authorized int64
	if !c.Authorized.IsZero() {
		authorized = c.Authorized.UnixNano()
	}
	if fresh {
		_, err = tx.Exec(`INSERT INTO events_connections (account, region, name, uuid, auth_type, description, state, reason, secret, version, auth, created_at, modified_at, authorized_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Account, c.Region, c.Name, c.UUID, c.Type, c.Description, c.State, c.Reason, c.Secret,
			c.Version, string(auth), c.Created.UnixNano(), c.Modified.UnixNano(), authorized)
	} else {
		_, err = tx.Exec(`UPDATE events_connections SET auth_type = ?, description = ?, state = ?, reason = ?, version = ?, auth = ?, modified_at = ?, authorized_at = ?
			WHERE id = ?`, c.Type, c.Description, c.State, c.Reason, c.Version, string(auth), c.Modified.UnixNano(), authorized, c.ID)
	}
	if err != nil {
		return fmt.Errorf("save connection %s: %w", c.Name, err)
	}
	if c.State != connAuthorizing {
		return nil
	}
	body, _ := json.Marshal(authorizeJob{Account: c.Account, Region: c.Region, Name: c.Name, Version: c.Version})
	_, err = s.eng.Send(tx, authorizeQueue, queue.Outgoing{Body: body})
	return err
}

// authorizeJob names the version of a connection to authorize.
type authorizeJob struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
}

// authorizeConnection fetches the first OAuth token of an AUTHORIZING connection and records
// the state it reaches: AUTHORIZED, or DEAUTHORIZED with the reason.
func (s *Service) authorizeConnection(ctx context.Context, m queue.Message) error {
	var job authorizeJob
	if err := json.Unmarshal(m.Body, &job); err != nil {
		return queue.Permanent(err)
	}
	c, err := loadConn(s.reader(ctx), job.Account, job.Region, job.Name)
	if err != nil || c == nil || c.Version != job.Version || c.State != connAuthorizing {
		return err
	}
	_, err = s.apidest.Token(ctx, c.call(), true)
	var ae *apidest.AuthError
	switch {
	case ctx.Err() != nil: // shutting down: authorize after the restart
		return ctx.Err()
	case errors.As(err, &ae):
		return s.setConnState(ctx, c, connDeauthorized, ae.Reason)
	case err != nil:
		return err
	}
	return s.setConnState(ctx, c, connAuthorized, "")
}

// setConnState records the state a connection reached, unless it changed since c was read.
func (s *Service) setConnState(ctx context.Context, c *connRow, state, reason string) error {
	if len(reason) > 512 {
		reason = reason[:512]
	}
	now := s.now()
	return s.st.Write(ctx, func(tx *store.Tx) error {
		q := "UPDATE events_connections SET state = ?, reason = ? WHERE id = ? AND version = ?"
		args := []any{state, reason, c.ID, c.Version}
		if state == connAuthorized {
			q = "UPDATE events_connections SET state = ?, reason = ?, authorized_at = ? WHERE id = ? AND version = ?"
			args = []any{state, reason, now.UnixNano(), c.ID, c.Version}
		}
		_, err := tx.Exec(q, args...)
		return err
	})
}

// deauthorize records that a connection's credentials failed a call (the OAuth token could
// not be had, or the endpoint refused the credentials): EventBridge deauthorizes it.
func (s *Service) deauthorize(ctx context.Context, c *connRow, reason string) {
	s.apidest.Forget(c.arn())
	if err := s.setConnState(ctx, c, connDeauthorized, reason); err != nil {
		s.log.Error("deauthorize connection", "connection", c.arn(), "err", err)
	}
}

// createAuth reads CreateConnection's authorization parameters: exactly the ones of typ.
func createAuth(typ string, ap *CreateConnectionAuthRequestParameters) (apidest.Connection, error) {
	var a apidest.Connection
	given := 0
	for _, set := range []bool{ap.ApiKeyAuthParameters != nil, ap.BasicAuthParameters != nil, ap.OAuthParameters != nil} {
		if set {
			given++
		}
	}
	if given > 1 {
		return a, validation("Only one of ApiKeyAuthParameters, BasicAuthParameters, OAuthParameters may be provided.")
	}
	switch typ {
	case apidest.APIKey:
		p := ap.ApiKeyAuthParameters
		if p == nil {
			return a, validation("ApiKeyAuthParameters must be specified for authorization type API_KEY.")
		}
		a.APIKeyName, a.APIKeyValue = awsproto.Value(p.ApiKeyName), awsproto.Value(p.ApiKeyValue)
	case apidest.Basic:
		p := ap.BasicAuthParameters
		if p == nil {
			return a, validation("BasicAuthParameters must be specified for authorization type BASIC.")
		}
		a.Username, a.Password = awsproto.Value(p.Username), awsproto.Value(p.Password)
	case apidest.OAuth:
		p := ap.OAuthParameters
		if p == nil {
			return a, validation("OAuthParameters must be specified for authorization type OAUTH_CLIENT_CREDENTIALS.")
		}
		o := &apidest.OAuthConfig{Endpoint: awsproto.Value(p.AuthorizationEndpoint), Method: awsproto.Value(p.HttpMethod),
			ClientID: awsproto.Value(p.ClientParameters.ClientID), ClientSecret: awsproto.Value(p.ClientParameters.ClientSecret)}
		if err := checkEndpoint("AuthorizationEndpoint", o.Endpoint); err != nil {
			return a, err
		}
		var err error
		if o.Params, err = httpParams(p.OAuthHttpParameters); err != nil {
			return a, err
		}
		a.OAuth = o
	}
	var err error
	a.Invocation, err = httpParams(ap.InvocationHttpParameters)
	return a, err
}

// checkEndpoint refuses an endpoint that is not an http(s) URL. (EventBridge takes HTTPS
// endpoints only; Kiri also takes HTTP ones, for endpoints on the developer's machine.)
func checkEndpoint(field, endpoint string) error {
	if !strings.HasPrefix(endpoint, "https://") && !strings.HasPrefix(endpoint, "http://") {
		return validation("Parameter %s is not valid. Reason: Provided endpoint is not a valid HTTPS URL.", field)
	}
	return nil
}

// httpParams reads a connection's header, query string and body parameters. A parameter
// without a key is refused.
func httpParams(p *ConnectionHttpParameters) (apidest.Params, error) {
	var out apidest.Params
	if p == nil {
		return out, nil
	}
	for _, h := range p.HeaderParameters {
		if !headerKey(awsproto.Value(h.Key)) {
			return out, validation("1 validation error detected: Value '%s' at 'headerParameters.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[!#$%%&'*+-.^_`|~0-9a-zA-Z]+$", awsproto.Value(h.Key))
		}
		out.Headers = append(out.Headers, apidest.Param{Key: *h.Key, Value: awsproto.Value(h.Value), Secret: awsproto.Value(h.IsValueSecret)})
	}
	for _, q := range p.QueryStringParameters {
		if awsproto.Value(q.Key) == "" {
			return out, validation("Parameter QueryStringParameters is not valid. Reason: Key must not be empty.")
		}
		out.Query = append(out.Query, apidest.Param{Key: *q.Key, Value: awsproto.Value(q.Value), Secret: awsproto.Value(q.IsValueSecret)})
	}
	for _, b := range p.BodyParameters {
		if awsproto.Value(b.Key) == "" {
			return out, validation("Parameter BodyParameters is not valid. Reason: Key must not be empty.")
		}
		out.Body = append(out.Body, apidest.Param{Key: *b.Key, Value: awsproto.Value(b.Value), Secret: awsproto.Value(b.IsValueSecret)})
	}
	return out, nil
}

// shownParams is how Describe shows parameters: the values of secret ones left out.
func shownParams(p apidest.Params) *ConnectionHttpParameters {
	if len(p.Headers)+len(p.Query)+len(p.Body) == 0 {
		return nil
	}
	out := &ConnectionHttpParameters{}
	shown := func(v apidest.Param) *string {
		if v.Secret {
			return nil
		}
		return awsproto.Ptr(v.Value)
	}
	for _, h := range p.Headers {
		out.HeaderParameters = append(out.HeaderParameters, ConnectionHeaderParameter{Key: awsproto.Ptr(h.Key), Value: shown(h), IsValueSecret: awsproto.Ptr(h.Secret)})
	}
	for _, q := range p.Query {
		out.QueryStringParameters = append(out.QueryStringParameters, ConnectionQueryStringParameter{Key: awsproto.Ptr(q.Key), Value: shown(q), IsValueSecret: awsproto.Ptr(q.Secret)})
	}
	for _, b := range p.Body {
		out.BodyParameters = append(out.BodyParameters, ConnectionBodyParameter{Key: awsproto.Ptr(b.Key), Value: shown(b), IsValueSecret: awsproto.Ptr(b.Secret)})
	}
	return out
}

func (s *Service) describeConnection(ctx context.Context, in *DescribeConnectionRequest) (*DescribeConnectionResponse, error) {
	c, err := mustConn(ctx, s.reader(ctx), awsproto.Value(in.Name))
	if err != nil {
		return nil, err
	}
	out := &DescribeConnectionResponse{ConnectionArn: awsproto.Ptr(c.arn()), Name: awsproto.Ptr(c.Name), AuthorizationType: awsproto.Ptr(c.Type),
		ConnectionState: awsproto.Ptr(c.State), SecretArn: awsproto.Ptr(c.secretARN()), CreationTime: &c.Created, LastModifiedTime: &c.Modified,
		AuthParameters: &ConnectionAuthResponseParameters{InvocationHttpParameters: shownParams(c.Auth.Invocation)}}
	if c.Description != "" {
		out.Description = awsproto.Ptr(c.Description)
	}
	if c.Reason != "" {
		out.StateReason = awsproto.Ptr(c.Reason)
	}
	if !c.Authorized.IsZero() {
		out.LastAuthorizedTime = &c.Authorized
	}
	a, ap := &c.Auth, out.AuthParameters
	switch c.Type {
	case apidest.APIKey:
		ap.ApiKeyAuthParameters = &ConnectionApiKeyAuthResponseParameters{ApiKeyName: awsproto.Ptr(a.APIKeyName)}
	case apidest.Basic:
		ap.BasicAuthParameters = &ConnectionBasicAuthResponseParameters{Username: awsproto.Ptr(a.Username)}
	case apidest.OAuth:
		if o := a.OAuth; o != nil {
			ap.OAuthParameters = &ConnectionOAuthResponseParameters{AuthorizationEndpoint: awsproto.Ptr(o.Endpoint), HttpMethod: awsproto.Ptr(o.Method),
				ClientParameters: &ConnectionOAuthClientResponseParameters{ClientID: awsproto.Ptr(o.ClientID)}, OAuthHttpParameters: shownParams(o.Params)}
		}
	}
	return out, nil
}

func (s *Service) updateConnection(ctx context.Context, in *UpdateConnectionRequest) (*UpdateConnectionResponse, error) {
	name := awsproto.Value(in.Name)
	if err := checkConnName(name); err != nil {
		return nil, err
	}
	ap := in.AuthParameters
	if ap == nil {
		ap = &UpdateConnectionAuthRequestParameters{}
	}
	if err := refuseUnsupported(in.KmsKeyIdentifier, in.InvocationConnectivityParameters, ap.ConnectivityParameters); err != nil {
		return nil, err
	}
	var c *connRow
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = mustConn(ctx, tx, name); err != nil {
			return err
		}
		if c.State == connAuthorizing || c.State == connDeauthorizing || c.State == connDeleting {
			return awsproto.Errorf("ConcurrentModificationException", 400, "Connection '%s' is being modified (%s); try again later.", name, c.State)
		}
		if err := updateAuth(c, in, ap); err != nil {
			return err
		}
		c.Version++
		c.Modified = s.now()
		c.Reason = ""
		switch {
		case !hasCredentials(&c.Auth, c.Type):
			c.State, c.Reason = connDeauthorized, "The connection's credentials were removed; update the connection with new ones."
		case c.Type == apidest.OAuth:
			c.State = connAuthorizing
		default:
			c.State, c.Authorized = connAuthorized, c.Modified
		}
		return s.saveConn(tx, c, false)
	})
	if err != nil {
		return nil, err
	}
	s.apidest.Forget(c.arn())
	out := &UpdateConnectionResponse{ConnectionArn: awsproto.Ptr(c.arn()), ConnectionState: awsproto.Ptr(connUpdating), CreationTime: &c.Created, LastModifiedTime: &c.Modified}
	if !c.Authorized.IsZero() {
		out.LastAuthorizedTime = &c.Authorized
	}
	return out, nil
}

// hasCredentials reports whether a connection holds the secret its type needs (a deauthorized
// connection lost it).
func hasCredentials(a *apidest.Connection, typ string) bool {
	switch typ {
	case apidest.APIKey:
		return a.APIKeyValue != ""
	case apidest.Basic:
		return a.Password != ""
	case apidest.OAuth:
		return a.OAuth != nil && a.OAuth.ClientSecret != ""
	}
	return false
}

// updateAuth applies UpdateConnection's changes to c: a new type needs its parameters; given
// parameters replace the stored ones member by member.
func updateAuth(c *connRow, in *UpdateConnectionRequest, ap *UpdateConnectionAuthRequestParameters) error {
	if in.Description != nil {
		c.Description = *in.Description
	}
	a := &c.Auth
	if t := awsproto.Value(in.AuthorizationType); t != "" && t != c.Type {
		missing := map[string]bool{apidest.APIKey: ap.ApiKeyAuthParameters == nil, apidest.Basic: ap.BasicAuthParameters == nil, apidest.OAuth: ap.OAuthParameters == nil}
		if missing[t] {
			return validation("The authorization parameters of authorization type %s must be specified to change the connection's authorization type.", t)
		}
		invocation := a.Invocation
		*a = apidest.Connection{Invocation: invocation}
		c.Type = t
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	if p := ap.ApiKeyAuthParameters; p != nil {
		if c.Type != apidest.APIKey {
			return validation("ApiKeyAuthParameters do not apply to a connection of authorization type %s.", c.Type)
		}
		set(&a.APIKeyName, p.ApiKeyName)
		set(&a.APIKeyValue, p.ApiKeyValue)
	}
	if p := ap.BasicAuthParameters; p != nil {
		if c.Type != apidest.Basic {
			return validation("BasicAuthParameters do not apply to a connection of authorization type %s.", c.Type)
		}
		set(&a.Username, p.Username)
		set(&a.Password, p.Password)
	}
	if p := ap.OAuthParameters; p != nil {
		if c.Type != apidest.OAuth {
			return validation("OAuthParameters do not apply to a connection of authorization type %s.", c.Type)
		}
		if a.OAuth == nil {
			a.OAuth = &apidest.OAuthConfig{}
		}
		o := a.OAuth
		set(&o.Endpoint, p.AuthorizationEndpoint)
		set(&o.Method, p.HttpMethod)
		if cp := p.ClientParameters; cp != nil {
			set(&o.ClientID, cp.ClientID)
			set(&o.ClientSecret, cp.ClientSecret)
		}
		if p.OAuthHttpParameters != nil {
			var err error
			if o.Params, err = httpParams(p.OAuthHttpParameters); err != nil {
				return err
			}
		}
		if o.Endpoint == "" || o.Method == "" || o.ClientID == "" {
			return validation("OAuthParameters must specify AuthorizationEndpoint, HttpMethod and ClientParameters.")
		}
		if err := checkEndpoint("AuthorizationEndpoint", o.Endpoint); err != nil {
			return err
		}
	}
	if ap.InvocationHttpParameters != nil {
		var err error
		if a.Invocation, err = httpParams(ap.InvocationHttpParameters); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) deauthorizeConnection(ctx context.Context, in *DeauthorizeConnectionRequest) (*DeauthorizeConnectionResponse, error) {
	var c *connRow
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = mustConn(ctx, tx, awsproto.Value(in.Name)); err != nil {
			return err
		}
		// Deauthorizing removes the credentials; an update with new ones authorizes again.
		a := &c.Auth
		a.APIKeyValue, a.Password = "", ""
		if a.OAuth != nil {
			a.OAuth.ClientSecret = ""
		}
		c.Version++
		c.Modified = s.now()
		c.State, c.Reason = connDeauthorized, "Connection deauthorized by DeauthorizeConnection."
		return s.saveConn(tx, c, false)
	})
	if err != nil {
		return nil, err
	}
	s.apidest.Forget(c.arn())
	out := &DeauthorizeConnectionResponse{ConnectionArn: awsproto.Ptr(c.arn()), ConnectionState: awsproto.Ptr(connDeauthorizing), CreationTime: &c.Created, LastModifiedTime: &c.Modified}
	if !c.Authorized.IsZero() {
		out.LastAuthorizedTime = &c.Authorized
	}
	return out, nil
}

func (s *Service) deleteConnection(ctx context.Context, in *DeleteConnectionRequest) (*DeleteConnectionResponse, error) {
	var c *connRow
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = mustConn(ctx, tx, awsproto.Value(in.Name)); err != nil {
			return err
		}
		var users int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_api_destinations WHERE connection_arn = ?", c.arn()).Scan(&users); err != nil {
			return err
		}
		if users > 0 {
			return validation("Connection '%s' is used by %d API destination(s); delete them or move them to another connection first.", c.Name, users)
		}
		_, err = tx.Exec("DELETE FROM events_connections WHERE id = ?", c.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.apidest.Forget(c.arn())
	now := s.now()
	out := &DeleteConnectionResponse{ConnectionArn: awsproto.Ptr(c.arn()), ConnectionState: awsproto.Ptr(connDeleting), CreationTime: &c.Created, LastModifiedTime: &now}
	if !c.Authorized.IsZero() {
		out.LastAuthorizedTime = &c.Authorized
	}
	return out, nil
}

func (s *Service) listConnections(ctx context.Context, in *ListConnectionsRequest) (*ListConnectionsResponse, error) {
	account, region := callerScope(ctx)
	after, err := decodeToken(in.NextToken, "connections")
	if err != nil {
		return nil, err
	}
	limit := pageSize(in.Limit, 100)
	q := "SELECT " + connColumns + " FROM events_connections WHERE account = ? AND region = ? AND name > ?"
	args := []any{account, region, after}
	if prefix := awsproto.Value(in.NamePrefix); prefix != "" {
		q += " AND substr(name, 1, ?) = ?"
		args = append(args, len(prefix), prefix)
	}
	if st := awsproto.Value(in.ConnectionState); st != "" {
		q += " AND state = ?"
		args = append(args, st)
	}
	rows, err := s.st.Query(ctx, q+" ORDER BY name LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := &ListConnectionsResponse{Connections: []Connection{}}
	for rows.Next() {
		c, err := scanConn(rows)
		if err != nil {
			return nil, err
		}
		if len(out.Connections) == limit {
			out.NextToken = encodeToken("connections", *out.Connections[limit-1].Name)
			break
		}
		item := Connection{ConnectionArn: awsproto.Ptr(c.arn()), Name: awsproto.Ptr(c.Name), AuthorizationType: awsproto.Ptr(c.Type),
			ConnectionState: awsproto.Ptr(c.State), CreationTime: &c.Created, LastModifiedTime: &c.Modified}
		if c.Reason != "" {
			item.StateReason = awsproto.Ptr(c.Reason)
		}
		if !c.Authorized.IsZero() {
			item.LastAuthorizedTime = &c.Authorized
		}
		out.Connections = append(out.Connections, item)
	}
	return out, rows.Err()
}
