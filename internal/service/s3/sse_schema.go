package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaSSE gives each uploaded part the SSE-C counter block its bytes were encrypted from
// (NULL: plaintext), as every part of an SSE-C upload is encrypted under its own IV.
var schemaSSE = store.Migration{Version: 5, SQL: `ALTER TABLE s3_parts ADD COLUMN sse_iv BLOB`}
