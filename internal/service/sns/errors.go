package sns

import (
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// The errors below carry SNS's codes and its messages, most of the form "Invalid parameter:
// <name>[ Reason: <why>]".

// invalidParameter is SNS's InvalidParameter with "Invalid parameter: " before what.
func invalidParameter(what string) *awsproto.Error {
	return awsproto.Errorf("InvalidParameter", 400, "Invalid parameter: %s", what)
}

// invalidReason is InvalidParameter for one parameter, with SNS's "Reason:".
func invalidReason(param, reason string) *awsproto.Error {
	return invalidParameter(param + " Reason: " + reason)
}

// invalidValue is SNS's ParameterValueInvalid, the code of message attribute errors.
func invalidValue(msg string) *awsproto.Error {
	return awsproto.Errorf("ParameterValueInvalid", 400, "%s", msg)
}

func notFound(msg string) *awsproto.Error {
	return awsproto.Errorf("NotFound", 404, "%s", msg)
}

func topicNotFound() *awsproto.Error { return notFound("Topic does not exist") }

func subscriptionNotFound() *awsproto.Error { return notFound("Subscription does not exist") }

// notAuthorized is SNS's AuthorizationError for an action on a resource of another account,
// which only a resource policy could allow (Kiri evaluates none).
func notAuthorized(principal, action, resource string) *awsproto.Error {
	return awsproto.Errorf("AuthorizationError", 403,
		"User: %s is not authorized to perform: SNS:%s on resource: %s because no resource-based policy allows the SNS:%s action",
		principal, action, resource, action)
}

// shortARN is SNS's refusal of an ARN with too few parts.
func shortARN(param, arn string) *awsproto.Error {
	return invalidReason(param, "An ARN must have at least 6 elements, not "+strconv.Itoa(len(strings.Split(arn, ":"))))
}

// validationError words the codec's model-validation failures as SNS does: a missing top-level
// parameter is "Invalid parameter: <Name> Reason: no value for required parameter", a batch
// without entries EmptyBatchRequest; anything else keeps the codec's ValidationError.
func validationError(op string, problems []string) *awsproto.Error {
	for _, p := range problems {
		if !strings.HasSuffix(p, "Member must not be null") {
			continue
		}
		_, path, _ := strings.Cut(p, "'")
		path, _, _ = strings.Cut(path, "'")
		if strings.Contains(path, ".") || path == "" {
			return nil
		}
		if op == "PublishBatch" && path == "publishBatchRequestEntries" {
			return awsproto.Errorf("EmptyBatchRequest", 400, "The batch request doesn't contain any entries.")
		}
		return invalidReason(strings.ToUpper(path[:1])+path[1:], "no value for required parameter")
	}
	return nil
}
