package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaObjects holds tables this concern adds to the core schema (none yet).
var schemaObjects = store.Migration{Version: 3, SQL: "SELECT 1"}
