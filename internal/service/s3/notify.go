package s3

import (
	"context"

	"github.com/kiri-run/kiri/internal/store"
)

// Notifier delivers S3 event notifications to their destinations. Services that can be
// destinations (Lambda, SQS, SNS, EventBridge) implement it as they land.
type Notifier interface {
	// DestinationExists reports whether a notification destination ARN names a resource that
	// exists and that S3 may deliver to.
	DestinationExists(ctx context.Context, arn string) (bool, error)
	// Deliver sends one event (the AWS S3 event JSON) to the destination ARN.
	Deliver(ctx context.Context, arn string, event []byte) error
}

// emit writes the event notifications an object change causes into the outbox, in the
// change's transaction. eventName is e.g. "ObjectCreated:Put".
func (s *Service) emit(tx *store.Tx, b bucket, eventName string, o *object) error {
	return nil
}
