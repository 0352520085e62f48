package scheduler

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

func validation(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ValidationException", http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", http.StatusNotFound, format, args...)
}

func conflict(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ConflictException", http.StatusConflict, format, args...)
}

func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusForbidden, "%s", d.Message)
}

// validationError words model-validation failures as Scheduler does: a ValidationException
// with the usual "N validation errors detected" sentence.
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
