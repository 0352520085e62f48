package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaBuckets holds tables this concern adds to the core schema (none yet).
var schemaBuckets = store.Migration{Version: 2, SQL: "SELECT 1"}
