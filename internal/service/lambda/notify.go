package lambda

import (
	"context"
	"errors"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// DestinationExists reports whether a function ARN names a function S3 may send events to.
func (s *Service) DestinationExists(ctx context.Context, arn string) (bool, error) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[2] != "lambda" {
		return false, nil
	}
	_, err := s.resolve(ctx, parts[4], parts[3], arn, "")
	var apiErr *awsproto.Error
	if errors.As(err, &apiErr) {
		return false, nil
	}
	return err == nil, err
}

// Deliver invokes the function an ARN names asynchronously with an S3 event, as S3 does.
func (s *Service) Deliver(ctx context.Context, arn string, event []byte) error {
	return s.invokeARNAsync(ctx, arn, event)
}
