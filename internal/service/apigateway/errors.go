package apigateway

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

func badRequest(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("BadRequestException", http.StatusBadRequest, format, args...)
}

func notFound(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("NotFoundException", http.StatusNotFound, format, args...)
}

func conflict(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ConflictException", http.StatusConflict, format, args...)
}

func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", http.StatusForbidden, "%s", d.Message)
}
