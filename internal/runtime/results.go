package runtime

import (
	"encoding/json"
	"fmt"
	"time"
)

// Lambda's error types for failures the platform reports.
const (
	errTimeout          = "Sandbox.Timedout"
	errExit             = "Runtime.ExitError"
	errOutOfMemory      = "Runtime.OutOfMemory"
	errInvalidEntry     = "Runtime.InvalidEntrypoint"
	errUnknown          = "Runtime.Unknown"
	errResponseTooLarge = "Function.ResponseSizeTooLarge"
	unhandled           = "Unhandled"
)

// rfc3339Milli is the timestamp form Lambda puts in timeout messages.
const rfc3339Milli = "2006-01-02T15:04:05.000Z"

// errorPayload is Lambda's error JSON: {"errorType":...,"errorMessage":...}.
func errorPayload(errType, msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorType    string `json:"errorType,omitempty"`
		ErrorMessage string `json:"errorMessage"`
	}{errType, msg})
	return b
}

// timeoutMessage is Lambda's "<time> <id> Task timed out after N.NN seconds", which is both
// the log line and the error message.
func timeoutMessage(at time.Time, id string, timeout time.Duration) string {
	return fmt.Sprintf("%s %s Task timed out after %.2f seconds", at.UTC().Format(rfc3339Milli), id, timeout.Seconds())
}

// timeoutPayload is the response body of a timed-out invocation; Lambda sends only the
// message (the type travels in X-Amz-Function-Error).
func timeoutPayload(msg string) []byte {
	b, _ := json.Marshal(struct {
		ErrorMessage string `json:"errorMessage"`
	}{msg})
	return b
}

// exitMessage is Lambda's message for a runtime that exited (or was killed) mid-invocation.
func exitMessage(id string, exitErr error) string {
	if exitErr == nil {
		return "RequestId: " + id + " Error: Runtime exited without providing a reason"
	}
	return "RequestId: " + id + " Error: Runtime exited with error: " + exitErr.Error()
}

// responseTooLargeMessage is Lambda's message for a response over the payload limit.
func responseTooLargeMessage(limit int) string {
	return fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", limit)
}

// billed rounds a duration up to the next millisecond.
func billed(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Millisecond
	}
	return (d + time.Millisecond - 1) / time.Millisecond * time.Millisecond
}
