// Package blob stores byte streams (object bodies, function code) durably. Metadata that points
// at a blob is committed to the store only after Put has returned, so a crash never leaves
// metadata naming bytes that are not there. The converse, a blob a crash left that no metadata
// names, is the caller's to collect: callers record a blob in the store before they write it
// (S3's pending keys, Lambda's code pins) and collect those whose write never committed.
package blob

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is returned for a key that holds no blob.
var ErrNotFound = errors.New("blob not found")

// Store is a durable home for byte streams, addressed by opaque keys the caller chooses.
type Store interface {
	// Put streams r into the blob at key, replacing any blob there. When Put returns nil the
	// bytes are durable; a failed or cancelled Put leaves no trace. It returns the size written.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open streams length bytes of the blob from offset (length < 0: to the end).
	Open(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Size reports the blob's length in bytes.
	Size(ctx context.Context, key string) (int64, error)
	// Delete removes the blob; deleting a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}
