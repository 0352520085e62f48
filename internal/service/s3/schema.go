package s3

import (
	"regexp"

	"github.com/kiri-run/kiri/internal/store"
)

// Object keys sort as S3 lists them: by UTF-8 bytes. SQLite's default BINARY collation does
// that; PostgreSQL needs COLLATE "C".
//
// Each concern that needs tables of its own adds them as its own migration version:
// 2 bucket configuration (bucket_config.go), 3 objects (object_schema.go), 4 multipart
// (multipart_schema.go), 5 encryption (sse_schema.go), 6 configuration kinds
// (bucket_config.go), 7 object table layout (object_schema.go).
var migrations = []store.Migration{schemaCore, schemaBuckets, schemaObjects, schemaMultipart, schemaSSE, schemaConfigKinds, schemaObjectLayout, schemaPendingBlobs, schemaUploadACL}

var schemaCore = store.Migration{Version: 1, SQL: coreSQL, Postgres: collateKeys(coreSQL)}

// coreSQL is the core schema in portable SQL (the store writes BLOB as BYTEA on PostgreSQL).
const coreSQL = `
CREATE TABLE s3_buckets (
	name        TEXT PRIMARY KEY,
	account     TEXT NOT NULL,
	region      TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	versioning  TEXT NOT NULL DEFAULT '',
	ownership   TEXT NOT NULL DEFAULT ''
);
CREATE TABLE s3_bucket_configs (
	bucket TEXT NOT NULL,
	kind   TEXT NOT NULL,
	body   TEXT NOT NULL,
	PRIMARY KEY (bucket, kind)
);
CREATE TABLE s3_objects (
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
);
CREATE INDEX s3_objects_latest ON s3_objects (bucket, is_latest, okey);
CREATE INDEX s3_objects_seq ON s3_objects (bucket, okey, seq);
CREATE TABLE s3_uploads (
	upload_id   TEXT PRIMARY KEY,
	bucket      TEXT NOT NULL,
	okey        TEXT NOT NULL,
	initiated   BIGINT NOT NULL,
	owner       TEXT NOT NULL,
	headers     TEXT NOT NULL,
	metadata    TEXT NOT NULL,
	tags        TEXT NOT NULL,
	storage_class TEXT NOT NULL,
	checksum_algorithm TEXT NOT NULL,
	checksum_type TEXT NOT NULL
);
CREATE INDEX s3_uploads_key ON s3_uploads (bucket, okey, initiated);
CREATE TABLE s3_parts (
	upload_id   TEXT NOT NULL,
	part_number BIGINT NOT NULL,
	size        BIGINT NOT NULL,
	etag        TEXT NOT NULL,
	last_modified BIGINT NOT NULL,
	checksums   TEXT NOT NULL,
	inline_data BLOB,
	blob_key    TEXT NOT NULL,
	PRIMARY KEY (upload_id, part_number)
);`

// collateKeys gives object key columns PostgreSQL's byte-order collation, so keys list in
// UTF-8 byte order as S3 lists them (SQLite's default collation already does).
func collateKeys(sql string) string {
	return keyColumn.ReplaceAllString(sql, `${1}TEXT COLLATE "C" NOT NULL`)
}

var keyColumn = regexp.MustCompile(`(okey\s+)TEXT NOT NULL`)
