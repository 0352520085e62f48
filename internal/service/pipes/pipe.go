package pipes

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/streamlog"
)

// States of a pipe, as Pipes names them.
const (
	stateRunning      = "RUNNING"
	stateStopped      = "STOPPED"
	stateCreating     = "CREATING"
	stateUpdating     = "UPDATING"
	stateDeleting     = "DELETING"
	stateStarting     = "STARTING"
	stateStopping     = "STOPPING"
	stateCreateFailed = "CREATE_FAILED"
	stateUpdateFailed = "UPDATE_FAILED"
	stateStartFailed  = "START_FAILED"
	// desiredDeleted is the DesiredState of a pipe being deleted.
	desiredDeleted = "DELETED"
)

// Limits and defaults (Amazon EventBridge Pipes API Reference).
const (
	sqsDefaultBatch    = 10
	sqsSmallBatch      = 10
	streamDefaultBatch = 100
	maxListLimit       = 100
	maxTags            = 50
	// pipesPrincipal is the service principal pipes act for.
	pipesPrincipal = "pipes.amazonaws.com"
)

// Invocation types of a Lambda target.
const (
	invokeSync  = "REQUEST_RESPONSE"
	invokeAsync = "FIRE_AND_FORGET"
)

// pipe is a pipe as stored in pipes_pipes.body.
type pipe struct {
	Name                 string                    `json:"name"`
	Account              string                    `json:"account"`
	Region               string                    `json:"region"`
	Description          string                    `json:"description,omitempty"`
	DesiredState         string                    `json:"desiredState"`
	CurrentState         string                    `json:"currentState"`
	StateReason          string                    `json:"stateReason,omitempty"`
	RoleArn              string                    `json:"roleArn"`
	Source               string                    `json:"source"`
	SourceParameters     *PipeSourceParameters     `json:"sourceParameters,omitempty"`
	Enrichment           string                    `json:"enrichment,omitempty"`
	EnrichmentParameters *PipeEnrichmentParameters `json:"enrichmentParameters,omitempty"`
	Target               string                    `json:"target"`
	TargetParameters     *PipeTargetParameters     `json:"targetParameters,omitempty"`
	Tags                 map[string]string         `json:"tags,omitempty"`
	Created              time.Time                 `json:"created"`
	Modified             time.Time                 `json:"modified"`
}

// pipeARN is the ARN of the pipe name of account in region.
func pipeARN(account, region, name string) string {
	return "arn:aws:pipes:" + region + ":" + account + ":pipe/" + name
}

func (p *pipe) arn() string { return pipeARN(p.Account, p.Region, p.Name) }

// source is who the pipe's deliveries come from: the pipe, acting as its role.
func (p *pipe) source() dispatch.Source {
	return dispatch.Source{Principal: pipesPrincipal, ARN: p.arn(), Account: p.Account, Region: p.Region, Role: p.RoleArn}
}

// inTransition reports a state a change must wait out.
func (p *pipe) inTransition() bool {
	switch p.CurrentState {
	case stateCreating, stateUpdating, stateDeleting, stateStarting, stateStopping:
		return true
	}
	return false
}

// stream reports whether the pipe reads a DynamoDB stream (else an SQS queue).
func (p *pipe) stream() bool { return sourceKind(p.Source) == "dynamodb" }

// filters are the source's FilterCriteria patterns.
func (p *pipe) filters() []string {
	var out []string
	if p.SourceParameters != nil && p.SourceParameters.FilterCriteria != nil {
		for _, f := range p.SourceParameters.FilterCriteria.Filters {
			out = append(out, awsproto.Value(f.Pattern))
		}
	}
	return out
}

// sourceKind is "sqs" for a queue ARN, "dynamodb" for a DynamoDB stream ARN, else the ARN's
// service ("" when it is not an ARN).
func sourceKind(arn string) string {
	svc := dispatch.ARNService(arn)
	if svc == "dynamodb" && !strings.Contains(arn, "/stream/") {
		return "dynamodb-table"
	}
	return svc
}

// arnAccount and arnRegion are the fields of an ARN.
func arnField(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[i]
}

// outcome renders the members every state-changing call returns.
type outcome struct {
	Arn              *string
	CreationTime     *time.Time
	CurrentState     *string
	DesiredState     *string
	LastModifiedTime *time.Time
	Name             *string
}

func (p *pipe) outcome() outcome {
	return outcome{Arn: awsproto.Ptr(p.arn()), CreationTime: awsproto.Ptr(p.Created), CurrentState: awsproto.Ptr(p.CurrentState),
		DesiredState: awsproto.Ptr(p.DesiredState), LastModifiedTime: awsproto.Ptr(p.Modified), Name: awsproto.Ptr(p.Name)}
}

// summary is the pipe as ListPipes lists it.
func (p *pipe) summary() Pipe {
	o := p.outcome()
	out := Pipe{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name, Source: awsproto.Ptr(p.Source), Target: awsproto.Ptr(p.Target)}
	if p.Enrichment != "" {
		out.Enrichment = awsproto.Ptr(p.Enrichment)
	}
	if p.StateReason != "" {
		out.StateReason = awsproto.Ptr(p.StateReason)
	}
	return out
}

// describe is DescribePipe's answer.
func (p *pipe) describe() *DescribePipeResponse {
	o := p.outcome()
	out := &DescribePipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name, RoleArn: awsproto.Ptr(p.RoleArn), Source: awsproto.Ptr(p.Source),
		SourceParameters: p.SourceParameters, Target: awsproto.Ptr(p.Target), TargetParameters: p.TargetParameters,
		EnrichmentParameters: p.EnrichmentParameters, Tags: p.Tags}
	if out.Tags == nil {
		out.Tags = map[string]string{}
	}
	if p.Description != "" {
		out.Description = awsproto.Ptr(p.Description)
	}
	if p.Enrichment != "" {
		out.Enrichment = awsproto.Ptr(p.Enrichment)
	}
	if p.StateReason != "" {
		out.StateReason = awsproto.Ptr(p.StateReason)
	}
	return out
}

// callScope is the caller's account and region.
func callScope(ctx context.Context) (account, region string) {
	c := awsproto.CallFrom(ctx)
	return c.AccountID, c.Region
}

func (s *Service) createPipe(ctx context.Context, in *CreatePipeRequest) (*CreatePipeResponse, error) {
	account, region := callScope(ctx)
	now := s.now()
	p := &pipe{Name: awsproto.Value(in.Name), Account: account, Region: region, Description: awsproto.Value(in.Description),
		DesiredState: stateRunning, CurrentState: stateCreating, RoleArn: awsproto.Value(in.RoleArn),
		Source: awsproto.Value(in.Source), SourceParameters: in.SourceParameters,
		Enrichment: awsproto.Value(in.Enrichment), EnrichmentParameters: in.EnrichmentParameters,
		Target: awsproto.Value(in.Target), TargetParameters: in.TargetParameters,
		Tags: maps.Clone(in.Tags), Created: now, Modified: now}
	if in.DesiredState != nil {
		p.DesiredState = *in.DesiredState
	}
	if err := refuseUnbuilt(in.KmsKeyIdentifier, in.LogConfiguration); err != nil {
		return nil, err
	}
	if len(p.Tags) > maxTags {
		return nil, invalidField("Tags", "Number of tags exceeds the limit of %d.", maxTags)
	}
	if err := s.checkPipe(p); err != nil {
		return nil, err
	}
	if err := s.checkMachineTypes(ctx, p); err != nil {
		return nil, err
	}
	var shards []streamlog.Shard
	if p.stream() && awsproto.Value(p.SourceParameters.DynamoDBStreamParameters.StartingPosition) == "LATEST" {
		var err error
		if shards, err = s.records.Shards(ctx, p.Source); err != nil {
			return nil, err
		}
	}
	err := s.deps.Store.Write(ctx, func(tx *store.Tx) error {
		old, err := loadPipe(tx, account, region, p.Name)
		if err != nil {
			return err
		}
		if old != nil {
			return conflict(p.Name, "Pipe %s already exists.", p.Name)
		}
		// LATEST is the end of the stream when the pipe is made, kept as its checkpoints.
		for _, sh := range shards {
			if err := s.records.SetCheckpoint(tx, consumer(p), p.Source, sh.ID, sh.Last+1); err != nil {
				return err
			}
		}
		return s.commit(tx, p)
	})
	if err != nil {
		return nil, err
	}
	o := p.outcome()
	return &CreatePipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name}, nil
}

// refuseUnbuilt refuses the pipe settings Kiri does not implement: customer managed KMS keys
// and execution logs.
func refuseUnbuilt(kms *string, logs *PipeLogConfigurationParameters) error {
	if kms != nil && *kms != "" {
		return invalidField("KmsKeyIdentifier", "Kiri's pipes do not support customer managed KMS keys.")
	}
	if logs != nil && (logs.Level == nil || *logs.Level != "OFF" || logs.CloudwatchLogsLogDestination != nil ||
		logs.FirehoseLogDestination != nil || logs.S3LogDestination != nil) {
		return invalidField("LogConfiguration", "Kiri's pipes do not support execution logs.")
	}
	return nil
}

// checkPipe checks a pipe's configuration as Pipes does when it is created or updated, and
// fills in the defaults it reports.
func (s *Service) checkPipe(p *pipe) error {
	if err := checkSource(p); err != nil {
		return err
	}
	if _, err := pattern.CompileFilterCriteria(p.filters()); err != nil {
		var pe *pattern.Error
		if errors.As(err, &pe) {
			return invalidField("SourceParameters.FilterCriteria", "%s", pe.Message)
		}
		return err
	}
	if err := s.checkEnrichment(p); err != nil {
		return err
	}
	if err := s.checkTarget(p); err != nil {
		return err
	}
	if p.EnrichmentParameters != nil && p.EnrichmentParameters.InputTemplate != nil {
		if _, err := parseTemplate(*p.EnrichmentParameters.InputTemplate); err != nil {
			return invalidField("EnrichmentParameters.InputTemplate", "%s", err.Error())
		}
	}
	if p.TargetParameters != nil && p.TargetParameters.InputTemplate != nil {
		if _, err := parseTemplate(*p.TargetParameters.InputTemplate); err != nil {
			return invalidField("TargetParameters.InputTemplate", "%s", err.Error())
		}
	}
	return nil
}

// checkSource checks the source ARN and its parameters and sets their defaults.
func checkSource(p *pipe) error {
	sp := p.SourceParameters
	if sp == nil {
		sp = &PipeSourceParameters{}
		p.SourceParameters = sp
	}
	kind := sourceKind(p.Source)
	others := map[string]bool{
		"ActiveMQBrokerParameters": sp.ActiveMQBrokerParameters != nil, "KinesisStreamParameters": sp.KinesisStreamParameters != nil,
		"ManagedStreamingKafkaParameters": sp.ManagedStreamingKafkaParameters != nil, "RabbitMQBrokerParameters": sp.RabbitMQBrokerParameters != nil,
		"SelfManagedKafkaParameters": sp.SelfManagedKafkaParameters != nil,
		"SqsQueueParameters":         kind != "sqs" && sp.SqsQueueParameters != nil,
		"DynamoDBStreamParameters":   kind != "dynamodb" && sp.DynamoDBStreamParameters != nil,
	}
	for _, name := range []string{"ActiveMQBrokerParameters", "DynamoDBStreamParameters", "KinesisStreamParameters",
		"ManagedStreamingKafkaParameters", "RabbitMQBrokerParameters", "SelfManagedKafkaParameters", "SqsQueueParameters"} {
		if others[name] {
			return invalidField("SourceParameters."+name, "Parameter is not applicable for the given source.")
		}
	}
	switch kind {
	case "sqs":
		return checkSQSSource(p, sp)
	case "dynamodb":
		return checkStreamSource(sp)
	case "kinesis", "kafka", "mq":
		return invalidField("Source", "Kiri's pipes read Amazon SQS queues and DynamoDB streams; %s sources are not supported.", kind)
	}
	return invalidField("Source", "Source %s is not a supported pipe source.", p.Source)
}

func checkSQSSource(p *pipe, sp *PipeSourceParameters) error {
	q := sp.SqsQueueParameters
	if q == nil {
		q = &PipeSourceSqsQueueParameters{}
		sp.SqsQueueParameters = q
	}
	if q.BatchSize == nil {
		q.BatchSize = awsproto.Ptr(int32(sqsDefaultBatch))
	}
	if q.MaximumBatchingWindowInSeconds == nil {
		q.MaximumBatchingWindowInSeconds = awsproto.Ptr(int32(0))
	}
	fifo := strings.HasSuffix(p.Source, ".fifo")
	switch {
	case fifo && *q.BatchSize > sqsSmallBatch:
		return invalidField("SourceParameters.SqsQueueParameters.BatchSize", "Maximum batch size must be between 1 and 10 inclusive for FIFO queues.")
	case fifo && *q.MaximumBatchingWindowInSeconds > 0:
		return invalidField("SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds", "Batching window is not supported for FIFO queues.")
	case *q.BatchSize > sqsSmallBatch && *q.MaximumBatchingWindowInSeconds == 0:
		return invalidField("SourceParameters.SqsQueueParameters.MaximumBatchingWindowInSeconds",
			"Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10.")
	}
	return nil
}

func checkStreamSource(sp *PipeSourceParameters) error {
	d := sp.DynamoDBStreamParameters
	if d == nil {
		return invalidField("SourceParameters.DynamoDBStreamParameters", "Missing required parameter.")
	}
	if d.BatchSize == nil {
		d.BatchSize = awsproto.Ptr(int32(streamDefaultBatch))
	}
	if d.MaximumBatchingWindowInSeconds == nil {
		d.MaximumBatchingWindowInSeconds = awsproto.Ptr(int32(0))
	}
	if d.MaximumRetryAttempts == nil {
		d.MaximumRetryAttempts = awsproto.Ptr(int32(-1))
	}
	if d.MaximumRecordAgeInSeconds == nil {
		d.MaximumRecordAgeInSeconds = awsproto.Ptr(int32(-1))
	}
	if d.ParallelizationFactor == nil {
		d.ParallelizationFactor = awsproto.Ptr(int32(1))
	}
	if age := *d.MaximumRecordAgeInSeconds; age != -1 && age < 60 {
		return invalidField("SourceParameters.DynamoDBStreamParameters.MaximumRecordAgeInSeconds", "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800.")
	}
	if *d.ParallelizationFactor != 1 {
		return invalidField("SourceParameters.DynamoDBStreamParameters.ParallelizationFactor", "Kiri's pipes read each shard with one batch at a time: ParallelizationFactor must be 1.")
	}
	if dl := d.DeadLetterConfig; dl != nil && dl.Arn != nil {
		if k := dispatch.ARNService(*dl.Arn); k != "sqs" && k != "sns" {
			return invalidField("SourceParameters.DynamoDBStreamParameters.DeadLetterConfig.Arn", "Dead-letter destination must be an Amazon SQS queue or an Amazon SNS topic.")
		}
	}
	return nil
}

// checkEnrichment checks the enrichment: a Lambda function, a state machine or an API
// destination.
func (s *Service) checkEnrichment(p *pipe) error {
	dest := isAPIDestination(p.Enrichment)
	if p.EnrichmentParameters != nil && p.EnrichmentParameters.HttpParameters != nil && !dest {
		return invalidField("EnrichmentParameters.HttpParameters", "HttpParameters apply to API destination enrichments only.")
	}
	if p.Enrichment == "" || dest {
		return nil
	}
	switch dispatch.ARNService(p.Enrichment) {
	case "lambda", "states":
		return nil
	case "events", "execute-api":
		return invalidField("Enrichment", "Kiri's pipes enrich with Lambda functions, Step Functions state machines and API destinations; %s enrichments are not supported yet.", dispatch.ARNService(p.Enrichment))
	}
	return invalidField("Enrichment", "Enrichment %s is not a supported pipe enrichment.", p.Enrichment)
}

// checkMachineTypes refuses a Standard state machine as the enrichment: Pipes enriches with
// Express workflows only. A Standard REQUEST_RESPONSE target is accepted, as on AWS, and each of
// its invocations fails (StartSyncExecution does not run Standard workflows), so the source's
// retries and dead-letter queue take its batches. A state machine that does not exist is left
// to the pipe's settling, which fails the pipe.
func (s *Service) checkMachineTypes(ctx context.Context, p *pipe) error {
	if dispatch.ARNService(p.Enrichment) != "states" {
		return nil
	}
	typ, err := s.machines.MachineType(ctx, p.Enrichment)
	if err != nil || typ == "STANDARD" {
		return refuseOr(err, "Enrichment", "EventBridge Pipes only supports Express workflows as enrichments.")
	}
	return nil
}

// refuseOr is err when there is one, else the ValidationException for name with message.
func refuseOr(err error, name, message string) error {
	if err != nil {
		return err
	}
	return invalidField(name, "%s", message)
}

// isAPIDestination reports whether arn is an EventBridge API destination's.
func isAPIDestination(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "events" && strings.HasPrefix(parts[5], "api-destination/")
}

// targetParameter names the TargetParameters member each target kind takes.
var targetParameter = map[string]string{"lambda": "LambdaFunctionParameters", "sqs": "SqsQueueParameters", "events": "EventBridgeEventBusParameters",
	"api-destination": "HttpParameters", "states": "StepFunctionStateMachineParameters"}

// checkTarget checks the target and its parameters: a kind the target registry delivers to.
func (s *Service) checkTarget(p *pipe) error {
	kind := dispatch.ARNService(p.Target)
	if isAPIDestination(p.Target) {
		kind = "api-destination"
	}
	switch kind {
	case "api-destination":
	case "lambda", "sqs", "sns", "events", "states":
	default:
		return invalidField("Target", "Kiri's pipes deliver to Lambda functions, SQS queues, SNS topics, EventBridge event buses, Step Functions state machines and API destinations; %s targets are not supported.", kind)
	}
	if !s.deps.Targets.Delivers(p.Target) {
		return invalidField("Target", "Target %s is not a supported pipe target.", p.Target)
	}
	tp := p.TargetParameters
	if tp == nil {
		tp = &PipeTargetParameters{}
		p.TargetParameters = tp
	}
	set := map[string]bool{"BatchJobParameters": tp.BatchJobParameters != nil, "CloudWatchLogsParameters": tp.CloudWatchLogsParameters != nil,
		"EcsTaskParameters": tp.EcsTaskParameters != nil, "EventBridgeEventBusParameters": tp.EventBridgeEventBusParameters != nil,
		"HttpParameters": tp.HttpParameters != nil, "KinesisStreamParameters": tp.KinesisStreamParameters != nil,
		"LambdaFunctionParameters": tp.LambdaFunctionParameters != nil, "RedshiftDataParameters": tp.RedshiftDataParameters != nil,
		"SageMakerPipelineParameters": tp.SageMakerPipelineParameters != nil, "SqsQueueParameters": tp.SqsQueueParameters != nil,
		"StepFunctionStateMachineParameters": tp.StepFunctionStateMachineParameters != nil, "TimestreamParameters": tp.TimestreamParameters != nil}
	for _, name := range []string{"BatchJobParameters", "CloudWatchLogsParameters", "EcsTaskParameters", "EventBridgeEventBusParameters",
		"HttpParameters", "KinesisStreamParameters", "LambdaFunctionParameters", "RedshiftDataParameters", "SageMakerPipelineParameters",
		"SqsQueueParameters", "StepFunctionStateMachineParameters", "TimestreamParameters"} {
		if set[name] && targetParameter[kind] != name {
			return invalidField("TargetParameters."+name, "Parameter is not applicable for the given target.")
		}
	}
	switch kind {
	case "lambda":
		if tp.LambdaFunctionParameters == nil {
			tp.LambdaFunctionParameters = &PipeTargetLambdaFunctionParameters{}
		}
		if tp.LambdaFunctionParameters.InvocationType == nil {
			tp.LambdaFunctionParameters.InvocationType = awsproto.Ptr(invokeSync)
		}
	case "sqs":
		q := tp.SqsQueueParameters
		fifo := strings.HasSuffix(p.Target, ".fifo")
		if fifo && (q == nil || awsproto.Value(q.MessageGroupId) == "") {
			return invalidField("TargetParameters.SqsQueueParameters.MessageGroupId", "Missing required parameter.")
		}
		if !fifo && q != nil && (q.MessageGroupId != nil || q.MessageDeduplicationId != nil) {
			return invalidField("TargetParameters.SqsQueueParameters", "MessageGroupId and MessageDeduplicationId apply to FIFO queues only.")
		}
	case "states":
		if tp.StepFunctionStateMachineParameters == nil {
			tp.StepFunctionStateMachineParameters = &PipeTargetStateMachineParameters{}
		}
		if tp.StepFunctionStateMachineParameters.InvocationType == nil {
			tp.StepFunctionStateMachineParameters.InvocationType = awsproto.Ptr(invokeSync)
		}
	case "events":
		if b := tp.EventBridgeEventBusParameters; b != nil && (b.EndpointId != nil || b.Time != nil) {
			return invalidField("TargetParameters.EventBridgeEventBusParameters", "Kiri's pipes do not support global endpoints or event times from the event.")
		}
	}
	return nil
}

// commit stores a changed pipe and queues the message that settles its state.
func (s *Service) commit(tx *store.Tx, p *pipe) error {
	if err := savePipe(tx, p); err != nil {
		return err
	}
	key := p.Account + "/" + p.Region + "/" + p.Name
	_, err := s.deps.Queue.Send(tx, topicSettle, queue.Outgoing{Body: []byte(key), Group: key})
	return err
}

func savePipe(tx *store.Tx, p *pipe) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO pipes_pipes (account, region, name, body) VALUES (?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET body = excluded.body`, p.Account, p.Region, p.Name, string(body))
	if err != nil {
		return fmt.Errorf("save pipe: %w", err)
	}
	return nil
}

// rowQuerier reads a row: the store or a transaction.
type rowQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// reader reads rows from the store outside a transaction.
type reader struct {
	ctx context.Context
	st  *store.Store
}

func (r reader) QueryRow(query string, args ...any) *sql.Row {
	return r.st.QueryRow(r.ctx, query, args...)
}

func (s *Service) reader(ctx context.Context) rowQuerier { return reader{ctx, s.deps.Store} }

// loadPipe reads a pipe; nil when there is none.
func loadPipe(q rowQuerier, account, region, name string) (*pipe, error) {
	var body string
	err := q.QueryRow(`SELECT body FROM pipes_pipes WHERE account = ? AND region = ? AND name = ?`, account, region, name).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load pipe: %w", err)
	}
	var p pipe
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		return nil, fmt.Errorf("decode pipe: %w", err)
	}
	return &p, nil
}

// pipeOf loads the caller's pipe name, or NotFoundException.
func (s *Service) pipeOf(ctx context.Context, q rowQuerier, name string) (*pipe, error) {
	account, region := callScope(ctx)
	p, err := loadPipe(q, account, region, name)
	if err == nil && p == nil {
		err = notFound(name)
	}
	return p, err
}

func (s *Service) describePipe(ctx context.Context, in *DescribePipeRequest) (*DescribePipeResponse, error) {
	p, err := s.pipeOf(ctx, s.reader(ctx), awsproto.Value(in.Name))
	if err != nil {
		return nil, err
	}
	return p.describe(), nil
}

// change applies fn to the caller's pipe name in one transaction, refusing a pipe in
// transition, and commits it with the settle message.
func (s *Service) change(ctx context.Context, name string, fn func(p *pipe) error) (*pipe, error) {
	var p *pipe
	err := s.deps.Store.Write(ctx, func(tx *store.Tx) error {
		var err error
		if p, err = s.pipeOf(ctx, tx, name); err != nil {
			return err
		}
		if p.inTransition() {
			return conflict(name, "Pipe %s cannot be changed while it is in state %s.", name, p.CurrentState)
		}
		if err := fn(p); err != nil {
			return err
		}
		p.Modified = s.now()
		return s.commit(tx, p)
	})
	return p, err
}

func (s *Service) updatePipe(ctx context.Context, in *UpdatePipeRequest) (*UpdatePipeResponse, error) {
	if err := refuseUnbuilt(in.KmsKeyIdentifier, in.LogConfiguration); err != nil {
		return nil, err
	}
	name := awsproto.Value(in.Name)
	cur, err := s.pipeOf(ctx, s.reader(ctx), name)
	if err != nil {
		return nil, err
	}
	apply := func(p *pipe) error {
		p.RoleArn = awsproto.Value(in.RoleArn)
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.DesiredState != nil {
			p.DesiredState = *in.DesiredState
		}
		if in.Enrichment != nil {
			p.Enrichment = *in.Enrichment
		}
		if in.EnrichmentParameters != nil {
			p.EnrichmentParameters = in.EnrichmentParameters
		}
		if in.Target != nil {
			p.Target = *in.Target
		}
		if in.TargetParameters != nil {
			p.TargetParameters = in.TargetParameters
		}
		if err := updateSource(p, in.SourceParameters); err != nil {
			return err
		}
		if err := s.checkPipe(p); err != nil {
			return err
		}
		p.CurrentState, p.StateReason = stateUpdating, ""
		return nil
	}
	if err := apply(cur); err != nil { // checked before the write, which applies it again
		return nil, err
	}
	if err := s.checkMachineTypes(ctx, cur); err != nil {
		return nil, err
	}
	p, err := s.change(ctx, name, apply)
	if err != nil {
		return nil, err
	}
	o := p.outcome()
	return &UpdatePipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name}, nil
}

// updateSource applies UpdatePipe's source parameters: those of the pipe's kind of source (a
// pipe's source and starting position cannot change).
func updateSource(p *pipe, u *UpdatePipeSourceParameters) error {
	if u == nil {
		return nil
	}
	switch {
	case u.ActiveMQBrokerParameters != nil, u.KinesisStreamParameters != nil, u.ManagedStreamingKafkaParameters != nil,
		u.RabbitMQBrokerParameters != nil, u.SelfManagedKafkaParameters != nil,
		u.SqsQueueParameters != nil && p.stream(), u.DynamoDBStreamParameters != nil && !p.stream():
		return invalidField("SourceParameters", "Parameter is not applicable for the given source.")
	}
	sp := p.SourceParameters
	if sp == nil {
		sp = &PipeSourceParameters{}
		p.SourceParameters = sp
	}
	if u.FilterCriteria != nil {
		sp.FilterCriteria = u.FilterCriteria
	}
	if q := u.SqsQueueParameters; q != nil {
		sp.SqsQueueParameters = &PipeSourceSqsQueueParameters{BatchSize: q.BatchSize, MaximumBatchingWindowInSeconds: q.MaximumBatchingWindowInSeconds}
	}
	if d := u.DynamoDBStreamParameters; d != nil {
		start := sp.DynamoDBStreamParameters.StartingPosition
		sp.DynamoDBStreamParameters = &PipeSourceDynamoDBStreamParameters{BatchSize: d.BatchSize, DeadLetterConfig: d.DeadLetterConfig,
			MaximumBatchingWindowInSeconds: d.MaximumBatchingWindowInSeconds, MaximumRecordAgeInSeconds: d.MaximumRecordAgeInSeconds,
			MaximumRetryAttempts: d.MaximumRetryAttempts, OnPartialBatchItemFailure: d.OnPartialBatchItemFailure,
			ParallelizationFactor: d.ParallelizationFactor, StartingPosition: start}
	}
	return nil
}

func (s *Service) startPipe(ctx context.Context, in *StartPipeRequest) (*StartPipeResponse, error) {
	p, err := s.change(ctx, awsproto.Value(in.Name), func(p *pipe) error {
		if p.CurrentState == stateRunning {
			return conflict(p.Name, "Pipe %s is already in state %s.", p.Name, stateRunning)
		}
		p.DesiredState, p.CurrentState, p.StateReason = stateRunning, stateStarting, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := p.outcome()
	return &StartPipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name}, nil
}

func (s *Service) stopPipe(ctx context.Context, in *StopPipeRequest) (*StopPipeResponse, error) {
	p, err := s.change(ctx, awsproto.Value(in.Name), func(p *pipe) error {
		if p.CurrentState == stateStopped {
			return conflict(p.Name, "Pipe %s is already in state %s.", p.Name, stateStopped)
		}
		p.DesiredState, p.CurrentState, p.StateReason = stateStopped, stateStopping, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := p.outcome()
	return &StopPipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name}, nil
}

func (s *Service) deletePipe(ctx context.Context, in *DeletePipeRequest) (*DeletePipeResponse, error) {
	p, err := s.change(ctx, awsproto.Value(in.Name), func(p *pipe) error {
		p.DesiredState, p.CurrentState, p.StateReason = desiredDeleted, stateDeleting, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	o := p.outcome()
	return &DeletePipeResponse{Arn: o.Arn, CreationTime: o.CreationTime, CurrentState: o.CurrentState, DesiredState: o.DesiredState,
		LastModifiedTime: o.LastModifiedTime, Name: o.Name}, nil
}

func (s *Service) listPipes(ctx context.Context, in *ListPipesRequest) (*ListPipesResponse, error) {
	account, region := callScope(ctx)
	limit := maxListLimit
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	after := ""
	if t := awsproto.Value(in.NextToken); t != "" {
		b, err := decodeToken(t)
		if err != nil {
			return nil, invalidField("NextToken", "Invalid NextToken.")
		}
		after = b
	}
	rows, err := s.deps.Store.Query(ctx, `SELECT name, body FROM pipes_pipes WHERE account = ? AND region = ? AND name > ? ORDER BY name`,
		account, region, after)
	if err != nil {
		return nil, fmt.Errorf("list pipes: %w", err)
	}
	defer rows.Close()
	out := &ListPipesResponse{Pipes: []Pipe{}}
	for rows.Next() {
		var name, body string
		if err := rows.Scan(&name, &body); err != nil {
			return nil, err
		}
		var p pipe
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			return nil, fmt.Errorf("decode pipe: %w", err)
		}
		if !listed(&p, in) {
			continue
		}
		if len(out.Pipes) == limit {
			out.NextToken = awsproto.Ptr(encodeToken(awsproto.Value(out.Pipes[len(out.Pipes)-1].Name)))
			break
		}
		out.Pipes = append(out.Pipes, p.summary())
	}
	return out, rows.Err()
}

// listed reports whether ListPipes' filters keep p.
func listed(p *pipe, in *ListPipesRequest) bool {
	return strings.HasPrefix(p.Name, awsproto.Value(in.NamePrefix)) && strings.HasPrefix(p.Source, awsproto.Value(in.SourcePrefix)) && strings.HasPrefix(p.Target, awsproto.Value(in.TargetPrefix)) &&
		(in.DesiredState == nil || *in.DesiredState == p.DesiredState) && (in.CurrentState == nil || *in.CurrentState == p.CurrentState)
}

// encodeToken and decodeToken are ListPipes' NextToken: the last name of the page before.
func encodeToken(name string) string { return base64.RawURLEncoding.EncodeToString([]byte(name)) }

func decodeToken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return string(b), err
}
