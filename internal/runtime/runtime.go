// Package runtime runs Lambda function instances: sandboxed child processes that speak the Lambda
// Runtime API (2018-06-01), which Kiri serves per instance on loopback. A Pool keeps warm
// instances per function version, starts new ones on demand up to the concurrency limit, reaps
// idle ones, enforces timeouts and memory, ships function logs and reports each invocation's
// duration at 1 ms granularity.
//
// Instances start by re-executing the current binary as a sandbox init: package sandboxinit,
// which this package imports, takes over such a process during package initialisation.
package runtime

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Function is one function version's instance recipe. Instances are pooled by Key; the caller
// changes Key whenever code or configuration changes.
type Function struct {
	// Key identifies the pool of instances that may serve this recipe.
	Key string
	// Account and Region own the function; logs are written under them.
	Account, Region string
	// Name and Version ("$LATEST" or a number) of the function.
	Name, Version string
	// ARN is the invoked (qualified) function ARN, passed as Lambda-Runtime-Invoked-Function-Arn.
	ARN string
	// Runtime is the Lambda runtime identifier: provided.al2023, provided.al2, go1.x,
	// python3.N or nodejsN.x.
	Runtime string
	// Handler is passed as _HANDLER; for go1.x it names the executable in CodeDir.
	Handler string
	// CodeDir holds the unpacked code. Instances only read it (LAMBDA_TASK_ROOT).
	CodeDir string
	// Environment holds the user's variables and credentials. Reserved keys cannot be overridden.
	Environment map[string]string
	// MemoryMB is the memory limit; CPU is proportional to it (1,769 MB = 1 vCPU). Default 128.
	MemoryMB int
	// Timeout bounds one invocation. Default 3s.
	Timeout time.Duration
	// EphemeralMB sizes the private /tmp, 512..10240. Default 512.
	EphemeralMB int
	// NoNetwork puts instances in their own network namespace: no network except the Runtime API.
	NoNetwork bool
	// ReservedConcurrency caps instances of this function: nil means no reservation (the account
	// limit applies), 0 means always throttled.
	ReservedConcurrency *int
	// LogGroup receives the function's output, e.g. "/aws/lambda/<name>".
	LogGroup string
}

// Request is one invocation.
type Request struct {
	// RequestID is the invocation's id (Lambda-Runtime-Aws-Request-Id).
	RequestID string
	// Payload is the event JSON.
	Payload []byte
	// ClientContext is JSON passed as Lambda-Runtime-Client-Context.
	ClientContext string
	// CognitoIdentity is JSON passed as Lambda-Runtime-Cognito-Identity.
	CognitoIdentity string
	// TraceID is the X-Amzn-Trace-Id value passed as Lambda-Runtime-Trace-Id.
	TraceID string
	// Tail asks for the last 4 KB of this invocation's log output in Result.LogTail.
	Tail bool
	// Stream, when set, receives the response as the function writes it (response streaming).
	// Result.Payload is then empty unless the function failed before streaming anything.
	Stream ResponseStream
}

// ResponseStream receives a streamed response as the function writes it.
type ResponseStream interface {
	// Write passes on the next bytes of the response.
	Write(p []byte) (int, error)
	// Flush pushes written bytes to the client.
	Flush() error
}

// Result is the outcome of one invocation.
type Result struct {
	// Payload is the response, or the error JSON when FunctionError is set.
	Payload []byte
	// FunctionError is "" or "Unhandled".
	FunctionError string
	// ErrorType is the error's type when FunctionError is set (e.g. "Runtime.ExitError"), for
	// logs and streaming error trailers.
	ErrorType string
	// LogTail is the last 4 KB of the invocation's log output when Request.Tail was set.
	LogTail []byte
	// Duration is the invoke phase, from the function receiving the event to its answer.
	Duration time.Duration
	// BilledDuration is Duration (plus InitDuration on a cold start, as AWS bills init) rounded
	// up to 1 ms.
	BilledDuration time.Duration
	// MemoryMB is the configured memory size used for metering (GB-ms = MemoryMB/1024 * ms).
	MemoryMB int
	// MaxMemoryMB is the instance's peak memory use.
	MaxMemoryMB int
	// InitDuration is the instance's start-up time, non-zero on a cold start.
	InitDuration time.Duration
	// ColdStart reports that a new instance was started for this invocation.
	ColdStart bool
}

// ErrThrottled reports that reserved or account concurrency is exhausted; callers answer
// TooManyRequestsException (429).
var ErrThrottled = errors.New("runtime: concurrency limit reached")

// ErrClosed reports that the pool is closed.
var ErrClosed = errors.New("runtime: pool closed")

// LogEvent is one line of function log output.
type LogEvent struct {
	Time    time.Time
	Message string
}

// LogSink stores function log output (CloudWatch Logs).
type LogSink interface {
	// AppendLogs appends events, in order, to a log stream, creating the group and stream as
	// needed.
	AppendLogs(ctx context.Context, account, region, group, stream string, events []LogEvent) error
}

// Config configures a Pool. Zero values take the documented defaults.
type Config struct {
	// Dir is the scratch root for instance directories, e.g. <data>/functions/instances.
	// Required. It is hidden inside sandboxes.
	Dir string
	// HidePaths are host directories made empty inside sandboxes, e.g. the data directory that
	// holds every function's code. Dir and each function's CodeDir parent are always hidden.
	HidePaths []string
	// Endpoint is AWS_ENDPOINT_URL handed to functions (Kiri's URL).
	Endpoint string
	// IdleTimeout is how long an idle instance lives before it is reaped. Default 10m.
	IdleTimeout time.Duration
	// InitTimeout bounds an instance's start-up (Lambda's init phase). Default 10s.
	InitTimeout time.Duration
	// AccountConcurrency caps instances across all functions. Default 1000.
	AccountConcurrency int
	// ColdStartsPerFunction bounds how many instances of one function are in their init phase
	// at once. An invocation that finds no idle instance and no free start waits for either,
	// rather than starting an instance that would starve the others of CPU: Lambda, too, adds a
	// function's instances at a bounded rate (1,000 every 10 seconds), and on one host the rate
	// inits can sustain is what the CPUs give. Default the host's CPU count.
	ColdStartsPerFunction int
	// ColdStarts bounds the instances in their init phase across all functions. Default twice
	// ColdStartsPerFunction.
	ColdStarts int
	// Sandbox selects isolation: SandboxAuto (default) uses what the host allows, SandboxOff runs
	// plain child processes.
	Sandbox SandboxMode
	// HostNetwork lets instances share the host's network. By default each instance has a
	// network namespace of its own through which it reaches Kiri's endpoint and the outside
	// network only (see NetworkAllow).
	HostNetwork bool
	// NetworkAllow are destinations sandboxed instances may reach besides Kiri's endpoint and
	// public addresses: loopback ports, private ranges.
	NetworkAllow []NetAllow
	// SpareInits is how many sandbox inits are kept pre-started while functions cold start, so
	// a cold start skips re-executing Kiri. They are replaced in the background as cold starts
	// use them and stopped after IdleTimeout without cold starts. Default 2; negative disables.
	SpareInits int
	// Logs stores function output; nil discards it.
	Logs LogSink
	// LogFlushInterval bounds how long function output waits before it is shipped. Default 200ms.
	LogFlushInterval time.Duration
	// Metrics registers the pool's Prometheus metrics; nil skips them.
	Metrics prometheus.Registerer
	// Logger receives Kiri's own log lines. Default slog.Default().
	Logger *slog.Logger
}

// SandboxMode selects how instances are isolated.
type SandboxMode int

const (
	// SandboxAuto isolates instances as far as the host allows.
	SandboxAuto SandboxMode = iota
	// SandboxOff runs instances as plain child processes (working directory and environment
	// only).
	SandboxOff
)

const (
	defaultMemoryMB    = 128
	defaultTimeout     = 3 * time.Second
	defaultEphemeralMB = 512
	defaultIdleTimeout = 10 * time.Minute
	defaultInitTimeout = 10 * time.Second
	defaultAccountConc = 1000
	defaultLogFlush    = 200 * time.Millisecond
	// maxSyncResponse is Lambda's synchronous response limit: 6 MB plus 100 bytes of envelope.
	maxSyncResponse = 6291556
	// maxStreamResponse is Lambda's response streaming limit (200 MB).
	maxStreamResponse = 200 << 20
	// tailBytes is how much log output LogResult carries.
	tailBytes = 4096
)
