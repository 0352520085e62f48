package sqs

import (
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// The errors below carry SQS's codes; the codec turns the modeled ones into their query codes
// (AWS.SimpleQueueService.NonExistentQueue, …) on the query protocol and in the JSON
// protocol's x-amzn-query-error header. Messages are SQS's own.

func invalidParameter(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("InvalidParameterValue", 400, format, args...)
}

// invalidValue is SQS's InvalidParameterValue for one parameter: "Value v for parameter p is
// invalid. Reason: …".
func invalidValue(param, value, reason string) *awsproto.Error {
	if reason == "" {
		return invalidParameter("Value %s for parameter %s is invalid.", value, param)
	}
	return invalidParameter("Value %s for parameter %s is invalid. Reason: %s", value, param, reason)
}

func missingParameter(name string) *awsproto.Error {
	return awsproto.Errorf("MissingParameter", 400, "The request must contain the parameter %s.", name)
}

func queueDoesNotExist() *awsproto.Error {
	return awsproto.Errorf("QueueDoesNotExist", 400, "The specified queue does not exist.")
}

func invalidAddress(url string) *awsproto.Error {
	return awsproto.Errorf("InvalidAddress", 404, "The address %s is not valid for this endpoint.", url)
}

func unknownAttribute(name string) *awsproto.Error {
	return awsproto.Errorf("InvalidAttributeName", 400, "Unknown Attribute %s.", name)
}

func invalidAttributeName(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("InvalidAttributeName", 400, format, args...)
}

// invalidAttribute is SQS's InvalidAttributeValue for a queue attribute, with an optional reason.
func invalidAttribute(name, reason string) *awsproto.Error {
	if reason == "" {
		return awsproto.Errorf("InvalidAttributeValue", 400, "Invalid value for the parameter %s.", name)
	}
	return awsproto.Errorf("InvalidAttributeValue", 400, "Invalid value for the parameter %s. Reason: %s", name, reason)
}

func receiptHandleInvalid(handle string) *awsproto.Error {
	return awsproto.Errorf("ReceiptHandleIsInvalid", 404, "The input receipt handle \"%s\" is not a valid receipt handle.", handle)
}

func resourceNotFound(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 404, format, args...)
}

// Batch request errors.

func emptyBatch(entry string) *awsproto.Error {
	return awsproto.Errorf("EmptyBatchRequest", 400, "There should be at least one %s in the request.", entry)
}

func tooManyEntries(n int) *awsproto.Error {
	return awsproto.Errorf("TooManyEntriesInBatchRequest", 400, "Maximum number of entries per request are %d. You have sent %d.", maxBatchEntries, n)
}

func idsNotDistinct(id string) *awsproto.Error {
	return awsproto.Errorf("BatchEntryIdsNotDistinct", 400, "Id %s repeated.", id)
}

func invalidBatchEntryID() *awsproto.Error {
	return awsproto.Errorf("InvalidBatchEntryId", 400, "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
}

func batchTooLong(limit, size int) *awsproto.Error {
	return awsproto.Errorf("BatchRequestTooLong", 400, "Batch requests cannot be longer than %d bytes. You have sent %d bytes.", limit, size)
}

// batchEntries names the entries of each batch operation, for EmptyBatchRequest.
var batchEntries = map[string]string{
	"SendMessageBatch":             "SendMessageBatchRequestEntry",
	"DeleteMessageBatch":           "DeleteMessageBatchRequestEntry",
	"ChangeMessageVisibilityBatch": "ChangeMessageVisibilityBatchRequestEntry",
}

// validationError words the codec's model-validation failures as SQS does: a batch without
// entries is EmptyBatchRequest (the query protocol cannot tell no entries from an empty list),
// another missing required member MissingParameter, anything else InvalidParameterValue.
func validationError(op string, problems []string) *awsproto.Error {
	for _, p := range problems {
		if !strings.HasSuffix(p, "Member must not be null") {
			continue
		}
		// "Value null at 'entries.1.member.id' failed to …": name the member as the wire does.
		_, path, _ := strings.Cut(p, "'")
		path, _, _ = strings.Cut(path, "'")
		if entry, ok := batchEntries[op]; ok && path == "entries" {
			return emptyBatch(entry)
		}
		name := path[strings.LastIndexByte(path, '.')+1:]
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		return missingParameter(name)
	}
	noun := "errors"
	if len(problems) == 1 {
		noun = "error"
	}
	return invalidParameter("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; "))
}
