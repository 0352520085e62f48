package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaObjects holds tables this concern adds to the core schema (none yet).
var schemaObjects = store.Migration{Version: 3, SQL: "SELECT 1"}

// schemaObjectLayout makes a new object version cheaper to write: on SQLite the objects table
// becomes a WITHOUT ROWID table clustered on its primary key, so a row is one b-tree entry
// instead of a rowid row plus a primary-key index entry; on both stores the (bucket, okey, seq)
// index goes, as the primary key's (bucket, okey) prefix finds a key's few versions as well.
// A new object now touches two b-trees where it touched four.
var schemaObjectLayout = store.Migration{Version: 7, SQL: `
CREATE TABLE s3_objects_v7 (
	bucket        TEXT NOT NULL,
	okey          TEXT NOT NULL,
	version_id    TEXT NOT NULL,
	seq           BIGINT NOT NULL,
	is_latest     BOOLEAN NOT NULL,
	delete_marker BOOLEAN NOT NULL,
	size          BIGINT NOT NULL,
	etag          TEXT NOT NULL,
	last_modified BIGINT NOT NULL,
	owner         TEXT NOT NULL,
	headers       TEXT NOT NULL,
	metadata      TEXT NOT NULL,
	checksums     TEXT NOT NULL,
	tags          TEXT NOT NULL,
	storage_class TEXT NOT NULL,
	parts         TEXT NOT NULL,
	inline_data   BLOB,
	blob_key      TEXT NOT NULL,
	PRIMARY KEY (bucket, okey, version_id)
) WITHOUT ROWID;
INSERT INTO s3_objects_v7 SELECT bucket, okey, version_id, seq, is_latest, delete_marker, size, etag,
	last_modified, owner, headers, metadata, checksums, tags, storage_class, parts, inline_data, blob_key
	FROM s3_objects;
DROP TABLE s3_objects;
ALTER TABLE s3_objects_v7 RENAME TO s3_objects;
CREATE INDEX s3_objects_latest ON s3_objects (bucket, is_latest, okey);`,
	Postgres: `DROP INDEX s3_objects_seq;`}
