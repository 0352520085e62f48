package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaMultipart holds tables this concern adds to the core schema (none yet).
var schemaMultipart = store.Migration{Version: 4, SQL: "SELECT 1"}
