package dynamodb

import (
	"errors"
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// validation is DynamoDB's ValidationException with msg.
func validation(msg string) *awsproto.Error { return attr.Validation(msg) }

// invalidParams is the ValidationException of a parameter value DynamoDB refuses.
func invalidParams(msg string) *awsproto.Error {
	return validation("One or more parameter values were invalid: " + msg)
}

// notFound is the ResourceNotFoundException of an item operation on a table that does not exist.
func notFound() *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found")
}

// tableNotFound is DescribeTable's (and the table operations') ResourceNotFoundException.
func tableNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", http.StatusBadRequest, "Requested resource not found: Table: %s not found", name)
}

func resourceInUse(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ResourceInUseException", http.StatusBadRequest, format, args...)
}

func limitExceeded(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("LimitExceededException", http.StatusBadRequest, format, args...)
}

// conditionFailed is ConditionalCheckFailedException, with the item when the request asked for
// it (ReturnValuesOnConditionCheckFailure ALL_OLD).
func conditionFailed(item attr.Item) *awsproto.Error {
	e := awsproto.Errorf("ConditionalCheckFailedException", http.StatusBadRequest, "The conditional request failed")
	if item != nil {
		e.Detail = &ConditionalCheckFailedException{Item: toWireItem(item)}
	}
	return e
}

// accessDenied is DynamoDB's refusal of a call: AccessDeniedException with IAM's message.
func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusBadRequest, "%s", d.Message)
}

// olderWording returns the message of an attribute value refusal as the older operations
// (BatchWriteItem, Scan, the transactions) word it.
func olderWording(err error) error {
	var ve *attr.ValueError
	if errors.As(err, &ve) {
		return validation(ve.Older())
	}
	return err
}
