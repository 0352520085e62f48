package sfn

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
)

// checkLogging validates a LoggingConfiguration: a level other than OFF needs exactly one
// destination, a CloudWatch Logs log group ARN ending in ":*".
func checkLogging(l *LoggingConfiguration) error {
	level := awsproto.Value(l.Level)
	if len(l.Destinations) > 1 {
		return apiError("InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	if level != "" && level != "OFF" && len(l.Destinations) == 0 {
		return apiError("InvalidLoggingConfiguration", "Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	for _, d := range l.Destinations {
		arn := ""
		if d.CloudWatchLogsLogGroup != nil {
			arn = awsproto.Value(d.CloudWatchLogsLogGroup.LogGroupArn)
		}
		if _, _, _, ok := logGroupOf(arn); !ok {
			return apiError("InvalidLoggingConfiguration", "Invalid Logging Configuration: The CloudWatch Logs Resource Policy size was exceeded or the log destination '%s' is not a valid log group ARN.", arn)
		}
	}
	return nil
}

// logGroupOf reads a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*).
func logGroupOf(arn string) (account, region, group string, ok bool) {
	parts := strings.Split(arn, ":")
	if len(parts) != 8 || parts[0] != "arn" || parts[2] != "logs" || parts[5] != "log-group" || parts[6] == "" || parts[7] != "*" {
		return "", "", "", false
	}
	return parts[4], parts[3], parts[6], true
}

// logAppender stores log events (implemented by the CloudWatch Logs service).
type logAppender interface {
	AppendRuntimeLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error
}

// logEntry is a history event as Step Functions writes it to CloudWatch Logs.
type logEntry struct {
	ID              string          `json:"id"`
	Type            string          `json:"type"`
	Details         json.RawMessage `json:"details"`
	PreviousEventID string          `json:"previous_event_id"`
	EventTimestamp  string          `json:"event_timestamp"`
	ExecutionARN    string          `json:"execution_arn"`
}

// errorEvents are the history events logged at level ERROR; FATAL logs only the executions'
// ends that are not successes.
var fatalEvents = map[string]bool{"ExecutionFailed": true, "ExecutionAborted": true, "ExecutionTimedOut": true}

func isErrorEvent(typ string) bool {
	return strings.HasSuffix(typ, "Failed") || strings.HasSuffix(typ, "TimedOut") || strings.HasSuffix(typ, "Aborted")
}

// logsHistory reports whether a logging configuration sends history events anywhere.
func logsHistory(l *LoggingConfiguration) bool {
	if l == nil {
		return false
	}
	level := awsproto.Value(l.Level)
	return level != "" && level != "OFF" && len(l.Destinations) > 0 && l.Destinations[0].CloudWatchLogsLogGroup != nil
}

// logHistory writes an execution's history events to the log group its logging configuration
// names, filtered by its level.
func (s *Service) logHistory(ctx context.Context, l *LoggingConfiguration, execARN, stream string, events []historyEvent) {
	if !logsHistory(l) {
		return
	}
	level := awsproto.Value(l.Level)
	account, region, group, ok := logGroupOf(awsproto.Value(l.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn))
	if !ok {
		return
	}
	var out []runtime.LogEvent
	for _, e := range events {
		if level == "ERROR" && !isErrorEvent(e.Type) || level == "FATAL" && !fatalEvents[e.Type] {
			continue
		}
		details := e.Details
		if !awsproto.Value(l.IncludeExecutionData) {
			details = withoutData(details)
		}
		b, _ := json.Marshal(logEntry{ID: strconv.FormatInt(e.ID, 10), Type: e.Type, Details: details,
			PreviousEventID: strconv.FormatInt(e.Previous, 10), EventTimestamp: strconv.FormatInt(e.Time.UnixMilli(), 10), ExecutionARN: execARN})
		out = append(out, runtime.LogEvent{Time: e.Time, Message: string(b)})
	}
	if len(out) == 0 {
		return
	}
	logs, ok := service.Lookup[logAppender](s.services, "logs")
	if !ok {
		s.log.Warn("execution history not logged: CloudWatch Logs is not running", "execution", execARN)
		return
	}
	if err := logs.AppendRuntimeLogs(ctx, account, region, group, stream, out); err != nil {
		s.log.Warn("execution history not logged", "execution", execARN, "err", err)
	}
}

// logStream is the log stream of an execution's history: states/MACHINE/DATE/ID.
func logStream(machineName, id string, at time.Time) string {
	return "states/" + machineName + "/" + at.UTC().Format("2006-01-02-15-04") + "/" + id
}

// withoutData drops the input and output members of event details, as logging without
// IncludeExecutionData does.
func withoutData(details json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(details, &m); err != nil {
		return details
	}
	for _, k := range []string{"input", "output", "parameters"} {
		delete(m, k)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return details
	}
	return b
}

// logBatch is the body of a message carrying a Standard execution's new history events to
// CloudWatch Logs.
type logBatch struct {
	Execution string                `json:"e"`
	Stream    string                `json:"s"`
	Logging   *LoggingConfiguration `json:"l"`
	Events    []historyEvent        `json:"v"`
}

// sendLog sends a Standard execution's new history events to CloudWatch Logs, as part of tx,
// when its logging configuration logs anything.
func (s *Service) sendLog(tx *store.Tx, ex *execution, events []historyEvent) error {
	if ex.Logging == nil || awsproto.Value(ex.Logging.Level) == "OFF" || awsproto.Value(ex.Logging.Level) == "" || len(events) == 0 {
		return nil
	}
	body, _ := json.Marshal(logBatch{Execution: ex.ARN, Stream: logStream(ex.MachineName, ex.Name, ex.Started),
		Logging: ex.Logging, Events: events})
	_, err := s.eng.Send(tx, logQueue, queue.Outgoing{Body: body})
	return err
}

func (s *Service) handleLog(ctx context.Context, m queue.Message) error {
	var b logBatch
	if err := json.Unmarshal(m.Body, &b); err != nil {
		return queue.Permanent(err)
	}
	s.logHistory(ctx, b.Logging, b.Execution, b.Stream, b.Events)
	return nil
}
