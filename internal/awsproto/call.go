package awsproto

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Call carries one request's facts between the edge, auth and a service handler.
type Call struct {
	RequestID    string
	Service      string // model name, e.g. "sts"
	Operation    string
	Region       string
	AccountID    string
	AccessKeyID  string
	PrincipalARN string
	UserID       string
	// ParentARN is the IAM entity a session acts for: the role (with its path) of a role
	// session; "" otherwise.
	ParentARN string
	// PrincipalTags are the tags of the user or role, and of the session, the call acts for.
	PrincipalTags map[string]string
	// SessionPolicies are the policy documents a session was created with (they narrow what
	// its role allows).
	SessionPolicies []string
	// TokenIssued is when the call's temporary credentials were issued; zero for long-term keys.
	TokenIssued time.Time
	Request     *http.Request
	// ResponseHeader holds extra headers for the response (the edge and handlers add to it).
	ResponseHeader http.Header
	// Status, when non-zero, overrides the HTTP status of a successful response (e.g. S3's 206).
	Status int
	// FunctionTime is how long the request waited on a function's own run (its REPORT line's
	// Duration). The edge leaves it out of the platform overhead it records.
	FunctionTime time.Duration
	// Cause is the failure behind a 5xx error answer, set by WriteError for the edge to log:
	// the client sees only the protocol's internal error.
	Cause error
}

// Dev-mode defaults of a call's scope: the account of dev mode and the region clients use by
// default.
const (
	DefaultAccount = "000000000000"
	DefaultRegion  = "us-east-1"
)

// Scope returns the account and region the call acts in, the defaults for what it lacks; c may
// be nil.
func (c *Call) Scope() (account, region string) {
	account, region = DefaultAccount, DefaultRegion
	if c != nil {
		if c.AccountID != "" {
			account = c.AccountID
		}
		if c.Region != "" {
			region = c.Region
		}
	}
	return account, region
}

type callKey struct{}

// WithCall returns a context that carries c.
func WithCall(ctx context.Context, c *Call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

// CallFrom returns the Call carried by ctx, or nil when there is none.
func CallFrom(ctx context.Context) *Call {
	c, _ := ctx.Value(callKey{}).(*Call)
	return c
}

// Error is an AWS error as the client sees it.
type Error struct {
	Code    string
	Message string
	Status  int               // HTTP status; 0 means: from the model's exception shape, else 400
	Fields  map[string]string // extra members of the error body (S3's Key, BucketName…), encoded sorted by key
	// Detail, when set, is a value of the exception shape's generated Go type (a struct or a
	// pointer to one) whose members other than the message are encoded in the body, for
	// errors whose members are not strings (DynamoDB's CancellationReasons, Item). json
	// protocols only.
	Detail any
	// Cause is what led to an internal error, for logs; it is never sent (optional).
	Cause error
	// messageKey names the message member of a json error body where the server departs from
	// its model ("Message" for Coral's SerializationException). Default: by the error's shape.
	messageKey string
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// Error returns "Code: Message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Errorf returns an *Error with the given code, status and formatted message.
func Errorf(code string, status int, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	return &Error{Code: code, Status: status, Message: msg}
}

// Ptr returns a pointer to a copy of v.
func Ptr[T any](v T) *T { return &v }

// Value returns *p, or the zero value when p is nil.
func Value[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
