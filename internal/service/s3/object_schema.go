package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaObjects holds tables this concern adds to the core schema (none yet).
var schemaObjects = store.Migration{Version: 3, SQL: "SELECT 1"}

// schemaObjectLayout drops the (bucket, okey, seq) index: the primary key's (bucket, okey)
// prefix finds a key's few versions as well, and a new object version then updates one index
// fewer. (A WITHOUT ROWID objects table was measured too and rejected: with small objects
// stored inline its rows are kilobytes, and searching an index b-tree of such rows reads
// overflow pages, which made a PUT slower, not faster.)
var schemaObjectLayout = store.Migration{Version: 7, SQL: `DROP INDEX s3_objects_seq;`}
