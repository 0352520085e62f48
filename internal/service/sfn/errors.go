package sfn

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// apiError is one of Step Functions' errors; every one answers 400.
func apiError(code, format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(code, http.StatusBadRequest, format, args...)
}

func validation(format string, args ...any) *awsproto.Error {
	return apiError("ValidationException", format, args...)
}

func invalidARN(arn string) *awsproto.Error {
	return apiError("InvalidArn", "Invalid Arn: '%s'", arn)
}

func invalidName(name string) *awsproto.Error {
	return apiError("InvalidName", "Invalid Name: '%s'", name)
}

func machineNotFound(arn string) *awsproto.Error {
	return apiError("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
}

func executionNotFound(arn string) *awsproto.Error {
	return apiError("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
}

func activityNotFound(arn string) *awsproto.Error {
	return apiError("ActivityDoesNotExist", "Activity Does Not Exist: '%s'", arn)
}

func resourceNotFound(arn string) *awsproto.Error {
	return apiError("ResourceNotFound", "Resource not found: '%s'", arn)
}

func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusBadRequest, "%s", d.Message)
}

// validationError words model-validation failures as Step Functions does.
func validationError(_ string, problems []string) *awsproto.Error {
	return validation("%s", awsproto.ValidationMessage(problems))
}

// wrap adds context to an internal error and passes API errors through.
func wrap(op string, err error) error {
	var ae *awsproto.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
