package lambda

import (
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Lambda's error codes, with the HTTP statuses AWS answers them with.
const (
	codeInvalidParameter   = "InvalidParameterValueException"
	codeNotFound           = "ResourceNotFoundException"
	codeConflict           = "ResourceConflictException"
	codePreconditionFailed = "PreconditionFailedException"
	codeValidation         = "ValidationException"
)

// lambdaError builds an error with Lambda's "Type" member (User for the caller's mistakes).
func lambdaError(code string, status int, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...), Fields: map[string]string{"Type": "User"}}
}

func invalidParameter(format string, args ...any) *awsproto.Error {
	return lambdaError(codeInvalidParameter, 400, format, args...)
}

func notFound(format string, args ...any) *awsproto.Error {
	return lambdaError(codeNotFound, 404, format, args...)
}

func conflict(format string, args ...any) *awsproto.Error {
	return lambdaError(codeConflict, 409, format, args...)
}

// functionNotFound is AWS's answer for a function, version or alias that does not exist.
func functionNotFound(arn string) *awsproto.Error {
	return notFound("Function not found: %s", arn)
}

// revisionMismatch is AWS's answer to a RevisionId that is not the current one; api names the
// call that returns the current one ("GetFunction/GetAlias", "GetAlias").
func revisionMismatch(api string) *awsproto.Error {
	return lambdaError(codePreconditionFailed, 412,
		"The Revision Id provided does not match the latest Revision Id. Call the %s API to retrieve the latest Revision Id", api)
}

// validation is a ValidationException worded like the model validator's.
func validation(problem string) *awsproto.Error {
	return &awsproto.Error{Code: codeValidation, Status: 400, Message: "1 validation error detected: " + problem}
}
