package lambda

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// Event source mappings. A mapping is stored with the state Lambda reports; a change to it
// (create, update, delete) commits a transitional state (Creating, Updating, Enabling,
// Disabling, Deleting) and queues, in the same transaction, the message that finishes the
// transition: it starts or stops the mapping's poller, a leased worker on the queue engine,
// and moves the mapping to Enabled or Disabled (or removes it). Kiri reads SQS queues; the
// poller is esm_poll.go.

// topicMapping queues the messages that finish event source mapping transitions.
const topicMapping = "lambda.esm"

// States of an event source mapping, as Lambda names them.
const (
	esmCreating  = "Creating"
	esmEnabling  = "Enabling"
	esmEnabled   = "Enabled"
	esmDisabling = "Disabling"
	esmDisabled  = "Disabled"
	esmUpdating  = "Updating"
	esmDeleting  = "Deleting"
)

// esmUserInitiated is the StateTransitionReason Lambda gives SQS mappings changed by a call.
const esmUserInitiated = "USER_INITIATED"

// Limits and defaults of SQS event source mappings (AWS Lambda Developer Guide, "Using Lambda
// with Amazon SQS").
const (
	esmDefaultBatch = 10
	// esmSmallBatch is the largest batch without a batching window, and a FIFO queue's largest.
	esmSmallBatch = 10
	// esmMaxListItems is the most mappings one ListEventSourceMappings page holds.
	esmMaxListItems = 100
	// reportBatchItemFailures is the FunctionResponseTypes value of partial batch responses.
	reportBatchItemFailures = "ReportBatchItemFailures"
)

// mapping is an event source mapping as stored in lambda_event_source_mappings.body.
type mapping struct {
	UUID    string `json:"uuid"`
	Account string `json:"account"`
	Region  string `json:"region"`
	// FunctionArn is the function as mapped: qualified for a version or an alias.
	FunctionArn    string `json:"functionArn"`
	EventSourceArn string `json:"eventSourceArn"`
	BatchSize      int32  `json:"batchSize"`
	// Window is MaximumBatchingWindowInSeconds.
	Window  int32    `json:"window"`
	Filters []string `json:"filters,omitempty"`
	// ReportFailures is FunctionResponseTypes ["ReportBatchItemFailures"].
	ReportFailures bool `json:"reportFailures,omitempty"`
	// MaxConcurrency is ScalingConfig.MaximumConcurrency (0: none).
	MaxConcurrency int32             `json:"maxConcurrency,omitempty"`
	Enabled        bool              `json:"enabled"`
	State          string            `json:"state"`
	StateReason    string            `json:"stateReason"`
	LastModified   time.Time         `json:"lastModified"`
	Tags           map[string]string `json:"tags,omitempty"`

	// Stream sources (esm_stream.go).
	StartingPosition string `json:"startingPosition,omitempty"`
	Bisect           bool   `json:"bisect,omitempty"`
	// MaxRetries and MaxRecordAge are -1 for no limit.
	MaxRetries      int32  `json:"maxRetries,omitempty"`
	MaxRecordAge    int32  `json:"maxRecordAge,omitempty"`
	Parallelization int32  `json:"parallelization,omitempty"`
	OnFailure       string `json:"onFailure,omitempty"`
}

// arn is the mapping's EventSourceMappingArn.
func (m *mapping) arn() string { return mappingARN(m.Account, m.Region, m.UUID) }

func mappingARN(account, region, uuid string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":event-source-mapping:" + uuid
}

// function is the mapped function's reference.
func (m *mapping) function() funcRef {
	r, _ := parseFunctionName(m.FunctionArn)
	return r
}

// fifo reports whether the source is a FIFO queue (their names end in .fifo).
func (m *mapping) fifo() bool { return strings.HasSuffix(m.EventSourceArn, ".fifo") }

// inTransition reports a state an update or delete must wait out.
func (m *mapping) inTransition() bool { return m.State != esmEnabled && m.State != esmDisabled }

// render is the EventSourceMappingConfiguration Lambda returns for an SQS mapping.
func (m *mapping) render() *EventSourceMappingConfiguration {
	out := &EventSourceMappingConfiguration{
		UUID:                           ptr(m.UUID),
		BatchSize:                      ptr(m.BatchSize),
		EventSourceArn:                 ptr(m.EventSourceArn),
		EventSourceMappingArn:          ptr(m.arn()),
		FunctionArn:                    ptr(m.FunctionArn),
		FunctionResponseTypes:          []string{},
		LastModified:                   ptr(m.LastModified),
		MaximumBatchingWindowInSeconds: ptr(m.Window),
		State:                          ptr(m.State),
		StateTransitionReason:          ptr(m.StateReason),
	}
	if m.ReportFailures {
		out.FunctionResponseTypes = []string{reportBatchItemFailures}
	}
	if len(m.Filters) > 0 {
		out.FilterCriteria = &FilterCriteria{}
		for _, f := range m.Filters {
			out.FilterCriteria.Filters = append(out.FilterCriteria.Filters, Filter{Pattern: ptr(f)})
		}
	}
	if m.MaxConcurrency > 0 {
		out.ScalingConfig = &ScalingConfig{MaximumConcurrency: ptr(m.MaxConcurrency)}
	}
	if m.stream() {
		m.renderStream(out)
	}
	return out
}

func (s *Service) registerMappingOps() {
	awsproto.Handle(s.api, "CreateEventSourceMapping", s.createEventSourceMapping)
	awsproto.Handle(s.api, "GetEventSourceMapping", s.getEventSourceMapping)
	awsproto.Handle(s.api, "UpdateEventSourceMapping", s.updateEventSourceMapping)
	awsproto.Handle(s.api, "DeleteEventSourceMapping", s.deleteEventSourceMapping)
	awsproto.Handle(s.api, "ListEventSourceMappings", s.listEventSourceMappings)
	s.deps.Queue.Handle(topicMapping, s.settleMapping, queue.HandlerOptions{})
}

// mappingNotFound is Lambda's answer for a UUID it does not know.
func mappingNotFound() error { return notFound("The resource you requested does not exist.") }

// mappingInUse is Lambda's answer to a change of a mapping in transition.
func mappingInUse(op string) error {
	return lambdaError("ResourceInUseException", http.StatusBadRequest, "Cannot %s the event source mapping because it is in use.", op)
}

// unsupportedParameter refuses a parameter that does not apply to SQS mappings (or that Kiri
// does not implement for them).
func unsupportedParameter(name string) error {
	return invalidParameter("Unsupported %s parameter for given event source mapping type.", name)
}

// mappingChange is what CreateEventSourceMapping and UpdateEventSourceMapping may set on an
// SQS mapping.
type mappingChange struct {
	BatchSize      *int32
	Window         *int32
	FilterCriteria *FilterCriteria
	ResponseTypes  []string
	Scaling        *ScalingConfig
	Enabled        *bool
}

// apply sets the change on m and checks the result as Lambda does for an SQS source.
func (c mappingChange) apply(m *mapping) error {
	if c.BatchSize != nil {
		m.BatchSize = *c.BatchSize
	}
	if c.Window != nil {
		m.Window = *c.Window
	}
	if err := c.applyShared(m); err != nil {
		return err
	}
	if c.Scaling != nil {
		m.MaxConcurrency = awsproto.Value(c.Scaling.MaximumConcurrency)
	}
	switch {
	case m.fifo() && m.Window > 0:
		return invalidParameter("Batching window is not supported for FIFO queues.")
	case m.fifo() && m.BatchSize > esmSmallBatch:
		return invalidParameter("Maximum batch size must be between 1 and 10 inclusive")
	case m.BatchSize > esmSmallBatch && m.Window == 0:
		return invalidParameter("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
	}
	return nil
}

// applyShared sets the members every kind of mapping takes: filters, response types, Enabled.
func (c mappingChange) applyShared(m *mapping) error {
	if c.FilterCriteria != nil {
		m.Filters = nil
		for _, f := range c.FilterCriteria.Filters {
			if f.Pattern == nil {
				return invalidParameter("Invalid filter pattern definition.")
			}
			m.Filters = append(m.Filters, *f.Pattern)
		}
		if _, err := pattern.CompileFilterCriteria(m.Filters); err != nil {
			var pe *pattern.Error
			if errors.As(err, &pe) {
				return invalidParameter("%s", pe.Message)
			}
			return err
		}
	}
	if c.ResponseTypes != nil {
		m.ReportFailures = len(c.ResponseTypes) > 0 // the model allows ReportBatchItemFailures only
	}
	if c.Enabled != nil {
		m.Enabled = *c.Enabled
	}
	return nil
}

// mappingSource checks an EventSourceArn: Kiri maps SQS queues.
func mappingSource(arn string) error {
	parts := strings.SplitN(arn, ":", 6)
	if arn == "" || len(parts) < 6 {
		return invalidParameter("Unrecognized event source.")
	}
	switch parts[2] {
	case "sqs":
		return nil
	case "dynamodb":
		if streamSourceARN(arn) {
			return nil
		}
		return invalidParameter("Unrecognized event source.")
	case "kinesis", "kafka", "mq", "rds":
		return invalidParameter("Unsupported event source: Kiri's event source mappings read Amazon SQS queues only, not %s.", parts[2])
	}
	return invalidParameter("Unrecognized event source.")
}

// checkMappedFunction resolves the function a mapping invokes and checks it may read the
// queue: the function must exist, and the queue must too, with a visibility timeout no shorter
// than the function's timeout.
func (s *Service) checkMappedFunction(ctx context.Context, r funcRef, queueARN string) error {
	c, _, err := loadQualified(s.reader(ctx), r, true)
	if isNotFound(err) {
		return invalidParameter("Function does not exist")
	}
	if err != nil {
		return err
	}
	_, visibility, ok, err := s.deps.Queues.PollQueue(ctx, queueARN)
	if err != nil {
		return err
	}
	account, region := callScope(ctx)
	if !ok || !sameScope(queueARN, account, region) {
		return invalidParameter("Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist.")
	}
	if timeout := time.Duration(c.Timeout) * time.Second; visibility < timeout {
		return invalidParameter("Queue visibility timeout: %d seconds is less than Function timeout: %d seconds", int(visibility/time.Second), c.Timeout)
	}
	return s.checkRoleReadsQueue(ctx, c.Role, r.name, queueARN, account)
}

// checkRoleReadsQueue refuses, in enforce mode, a mapping whose function's execution role may
// not read the queue as Lambda's pollers do (sqs:ReceiveMessage, sqs:DeleteMessage,
// sqs:GetQueueAttributes), in Lambda's words.
func (s *Service) checkRoleReadsQueue(ctx context.Context, role, function, queueARN, account string) error {
	if s.deps.Authz.Mode() != authz.Enforce {
		return nil
	}
	p, err := s.deps.Queues.QueuePolicy(ctx, queueARN)
	if err != nil {
		return err
	}
	for _, action := range []string{"ReceiveMessage", "DeleteMessage", "GetQueueAttributes"} {
		err := s.deps.Authz.AuthorizeRole(ctx, role, function, authz.Request{
			Action: "sqs:" + action, Resource: queueARN, ResourceAccount: account, ResourcePolicy: p})
		if _, denied := authz.IsDenied(err); denied {
			return invalidParameter("The provided execution role does not have permissions to call %s on SQS", action)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sameScope reports whether an ARN names a resource of account in region: Kiri reads only the
// caller's own queues.
func sameScope(arn, account, region string) bool {
	parts := strings.Split(arn, ":")
	return len(parts) >= 5 && parts[3] == region && parts[4] == account
}

func (s *Service) createEventSourceMapping(ctx context.Context, in *CreateEventSourceMappingRequest) (*EventSourceMappingConfiguration, error) {
	source := awsproto.Value(in.EventSourceArn)
	if err := mappingSource(source); err != nil {
		return nil, err
	}
	if streamSourceARN(source) {
		return s.createStreamMapping(ctx, in)
	}
	if err := refuseParameters(in, unsupportedParameters, unsupportedAtCreate); err != nil {
		return nil, err
	}
	r, err := s.ref(ctx, in.FunctionName, nil)
	if err != nil {
		return nil, err
	}
	m := &mapping{
		UUID: newUUID(), Account: r.account, Region: r.region, FunctionArn: r.arn(), EventSourceArn: source,
		BatchSize: esmDefaultBatch, Enabled: true, State: esmCreating, StateReason: esmUserInitiated, LastModified: s.now(),
	}
	change := mappingChange{BatchSize: in.BatchSize, Window: in.MaximumBatchingWindowInSeconds, FilterCriteria: in.FilterCriteria,
		ResponseTypes: in.FunctionResponseTypes, Scaling: in.ScalingConfig, Enabled: in.Enabled}
	if err := change.apply(m); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	m.Tags = maps.Clone(in.Tags)
	if err := s.checkMappedFunction(ctx, r, source); err != nil {
		return nil, err
	}
	if err := s.st.Write(ctx, func(tx *store.Tx) error { return s.commitMapping(tx, m, r.name) }); err != nil {
		return nil, err
	}
	return m.render(), nil
}

// Parameters SQS mappings do not take: those of other sources, and those Kiri does not
// implement. Both calls refuse the shared ones; only CreateEventSourceMapping has the others.
var (
	unsupportedParameters = []string{"DestinationConfig", "ParallelizationFactor", "BisectBatchOnFunctionError",
		"MaximumRetryAttempts", "MaximumRecordAgeInSeconds", "TumblingWindowInSeconds", "SourceAccessConfigurations",
		"SelfManagedKafkaEventSourceConfig", "AmazonManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig",
		"ProvisionedPollerConfig", "KMSKeyArn", "MetricsConfig", "LoggingConfig"}
	unsupportedAtCreate = []string{"StartingPosition", "StartingPositionTimestamp", "Topics", "Queues", "SelfManagedEventSource"}
)

// refuseParameters refuses the first of the named members of the request in that is set.
func refuseParameters(in any, names ...[]string) error {
	v := reflect.ValueOf(in).Elem()
	for _, list := range names {
		for _, name := range list {
			if f := v.FieldByName(name); f.IsValid() && !f.IsNil() {
				return unsupportedParameter(name)
			}
		}
	}
	return nil
}

// checkMappingUnique refuses a second mapping of the same function and source.
func checkMappingUnique(tx *store.Tx, m *mapping, functionName string) error {
	var other string
	err := tx.QueryRow(`SELECT uuid FROM lambda_event_source_mappings WHERE account = ? AND region = ? AND function_arn = ? AND source_arn = ? AND uuid <> ?`,
		m.Account, m.Region, m.FunctionArn, m.EventSourceArn, m.UUID).Scan(&other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("look for a duplicate mapping: %w", err)
	}
	return conflict(`An event source mapping with SQS arn (" %s ") and function (" %s ") already exists. Please update or delete the existing mapping with UUID %s`,
		m.EventSourceArn, functionName, other)
}

func saveMapping(tx txExec, m *mapping) error {
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_event_source_mappings (uuid, account, region, function_name, function_arn, source_arn, body)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (uuid) DO UPDATE SET function_name = excluded.function_name, function_arn = excluded.function_arn, body = excluded.body`,
		m.UUID, m.Account, m.Region, m.function().name, m.FunctionArn, m.EventSourceArn, string(body))
	if err != nil {
		return fmt.Errorf("save event source mapping: %w", err)
	}
	return nil
}

// loadMapping reads the mapping uuid of the caller's account and region; nil when none.
func loadMapping(q rowQuerier, account, region, uuid string) (*mapping, error) {
	m, ok, err := loadJSONRow[mapping](q, "event source mapping",
		`SELECT body FROM lambda_event_source_mappings WHERE uuid = ? AND account = ? AND region = ?`, uuid, account, region)
	if !ok {
		return nil, err
	}
	return m, nil
}

// mappingOf loads the mapping a request's UUID names, or Lambda's not-found error.
func (s *Service) mappingOf(ctx context.Context, q rowQuerier, uuid *string) (*mapping, error) {
	account, region := callScope(ctx)
	m, err := loadMapping(q, account, region, awsproto.Value(uuid))
	if err == nil && m == nil {
		err = mappingNotFound()
	}
	return m, err
}

// commitMapping stores a changed mapping, refusing a second mapping of its function (named
// functionName, "" to skip the check) and source, and queues the message that settles its
// state.
func (s *Service) commitMapping(tx *store.Tx, m *mapping, functionName string) error {
	if functionName != "" {
		if err := checkMappingUnique(tx, m, functionName); err != nil {
			return err
		}
	}
	if err := saveMapping(tx, m); err != nil {
		return err
	}
	_, err := s.deps.Queue.Send(tx, topicMapping, queue.Outgoing{Body: []byte(m.UUID), Group: m.UUID})
	return err
}

func (s *Service) getEventSourceMapping(ctx context.Context, in *GetEventSourceMappingRequest) (*EventSourceMappingConfiguration, error) {
	m, err := s.mappingOf(ctx, s.reader(ctx), in.UUID)
	if err != nil {
		return nil, err
	}
	return m.render(), nil
}

func (s *Service) updateEventSourceMapping(ctx context.Context, in *UpdateEventSourceMappingRequest) (*EventSourceMappingConfiguration, error) {
	cur, err := s.mappingOf(ctx, s.reader(ctx), in.UUID)
	if err != nil {
		return nil, err
	}
	if cur.stream() {
		return s.updateStreamMapping(ctx, in, cur)
	}
	if err := refuseParameters(in, unsupportedParameters); err != nil {
		return nil, err
	}
	fn := cur.function()
	if in.FunctionName != nil {
		if fn, err = s.ref(ctx, in.FunctionName, nil); err != nil {
			return nil, err
		}
	}
	change := mappingChange{BatchSize: in.BatchSize, Window: in.MaximumBatchingWindowInSeconds, FilterCriteria: in.FilterCriteria,
		ResponseTypes: in.FunctionResponseTypes, Scaling: in.ScalingConfig, Enabled: in.Enabled}
	if err := change.apply(ptr(*cur)); err != nil {
		return nil, err
	}
	if err := s.checkMappedFunction(ctx, fn, cur.EventSourceArn); err != nil {
		return nil, err
	}
	return s.commitUpdate(ctx, in.UUID, fn, change.apply)
}

// commitUpdate applies an UpdateEventSourceMapping to the stored mapping uuid, pointing it at
// fn, and moves it to the transitional state the change calls for.
func (s *Service) commitUpdate(ctx context.Context, uuid *string, fn funcRef, apply func(*mapping) error) (*EventSourceMappingConfiguration, error) {
	var m *mapping
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = s.mappingOf(ctx, tx, uuid); err != nil {
			return err
		}
		if m.inTransition() {
			return mappingInUse("update")
		}
		wasEnabled := m.Enabled
		if err := apply(m); err != nil {
			return err
		}
		m.FunctionArn = fn.arn()
		switch {
		case m.Enabled && !wasEnabled:
			m.State = esmEnabling
		case !m.Enabled && wasEnabled:
			m.State = esmDisabling
		default:
			m.State = esmUpdating
		}
		m.StateReason, m.LastModified = esmUserInitiated, s.now()
		return s.commitMapping(tx, m, fn.name)
	})
	if err != nil {
		return nil, err
	}
	return m.render(), nil
}

func (s *Service) deleteEventSourceMapping(ctx context.Context, in *DeleteEventSourceMappingRequest) (*EventSourceMappingConfiguration, error) {
	var m *mapping
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if m, err = s.mappingOf(ctx, tx, in.UUID); err != nil {
			return err
		}
		if m.inTransition() {
			return mappingInUse("delete")
		}
		m.State, m.StateReason = esmDeleting, esmUserInitiated
		return s.commitMapping(tx, m, "")
	})
	if err != nil {
		return nil, err
	}
	return m.render(), nil
}

func (s *Service) listEventSourceMappings(ctx context.Context, in *ListEventSourceMappingsRequest) (*ListEventSourceMappingsResponse, error) {
	account, region := callScope(ctx)
	max, err := maxItems(in.MaxItems, esmMaxListItems)
	if err != nil {
		return nil, err
	}
	var after listMarker
	if mk := awsproto.Value(in.Marker); mk != "" {
		if after, err = decodeMarker(mk); err != nil {
			return nil, err
		}
	}
	query := `SELECT uuid, body FROM lambda_event_source_mappings WHERE account = ? AND region = ? AND uuid > ?`
	args := []any{account, region, after.Name}
	if in.FunctionName != nil {
		r, err := s.ref(ctx, in.FunctionName, nil)
		if err != nil {
			return nil, err
		}
		if r.qualifier != "" {
			query, args = query+` AND function_arn = ?`, append(args, r.arn())
		} else {
			query, args = query+` AND function_name = ?`, append(args, r.name)
		}
	}
	if arn := awsproto.Value(in.EventSourceArn); arn != "" {
		query, args = query+` AND source_arn = ?`, append(args, arn)
	}
	rows, err := s.st.Query(ctx, query+` ORDER BY uuid LIMIT ?`, append(args, max+1)...)
	if err != nil {
		return nil, fmt.Errorf("list event source mappings: %w", err)
	}
	out := &ListEventSourceMappingsResponse{EventSourceMappings: []EventSourceMappingConfiguration{}}
	out.NextMarker, err = scanJSONPage(rows, max, "event source mapping", func(m *mapping) {
		out.EventSourceMappings = append(out.EventSourceMappings, *m.render())
	})
	return out, err
}

// settleMapping finishes a mapping's transition: it starts or stops the poller and records
// the state the mapping reached, or removes a deleted mapping. Redelivered after a crash, it
// does the same again.
func (s *Service) settleMapping(ctx context.Context, rec queue.Message) error {
	uuid := string(rec.Body)
	m, ok, err := loadJSONRow[mapping](s.reader(ctx), "event source mapping", `SELECT body FROM lambda_event_source_mappings WHERE uuid = ?`, uuid)
	if err != nil || !ok {
		return err
	}
	next := esmDisabled
	switch {
	case m.State == esmDeleting:
		// A mapping being deleted takes no other change.
		s.stopPoller(uuid)
		return s.st.Write(ctx, func(tx *store.Tx) error {
			if _, err := tx.Exec(`DELETE FROM lambda_event_source_mappings WHERE uuid = ?`, uuid); err != nil {
				return err
			}
			return s.records.DropCheckpoints(tx, m.consumer())
		})
	case !m.inTransition():
		return nil
	case m.Enabled:
		s.startPoller(m)
		next = esmEnabled
	default:
		s.stopPoller(uuid)
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		now, ok, err := loadJSONRow[mapping](tx, "event source mapping", `SELECT body FROM lambda_event_source_mappings WHERE uuid = ?`, uuid)
		if err != nil || !ok || now.State != m.State {
			return err // changed meanwhile: its own message settles it
		}
		now.State = next
		return saveMapping(tx, now)
	})
}

// resumeMappings starts the pollers of the enabled mappings when Kiri starts; mappings in
// transition are settled by their queued messages.
func (s *Service) resumeMappings(ctx context.Context) error {
	rows, err := s.st.Query(ctx, `SELECT body FROM lambda_event_source_mappings`)
	if err != nil {
		return fmt.Errorf("load event source mappings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		var m mapping
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			return fmt.Errorf("decode event source mapping: %w", err)
		}
		if m.State == esmEnabled {
			s.startPoller(&m)
		}
	}
	return rows.Err()
}

// mappingTagsOf resolves an event source mapping ARN for the tag operations.
func (s *Service) mappingTagsOf(ctx context.Context, q rowQuerier, arn string) (*mapping, error) {
	account, region := callScope(ctx)
	uuid := arn[strings.LastIndexByte(arn, ':')+1:]
	var m *mapping
	var err error
	if sameScope(arn, account, region) {
		m, err = loadMapping(q, account, region, uuid)
	}
	if err == nil && m == nil {
		err = notFound("Event source mapping not found: %s", arn)
	}
	return m, err
}

// changeMappingTags edits a mapping's tags.
func (s *Service) changeMappingTags(ctx context.Context, arn string, edit func(map[string]string)) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		m, err := s.mappingTagsOf(ctx, tx, arn)
		if err != nil {
			return err
		}
		if m.Tags == nil {
			m.Tags = map[string]string{}
		}
		edit(m.Tags)
		if len(m.Tags) > maxTags {
			return invalidParameter("Number of tags exceeds resource tag limit.")
		}
		return saveMapping(tx, m)
	})
}
