package s3

import "github.com/kiri-run/kiri/internal/store"

// schemaMultipart holds tables this concern adds to the core schema (none yet).
var schemaMultipart = store.Migration{Version: 4, SQL: "SELECT 1"}

// schemaUploadACL gives uploads the ACL their CreateMultipartUpload asked for, applied when they
// complete, and their initiator, who is not their owner when the bucket owns what is written.
var schemaUploadACL = store.Migration{Version: 9, SQL: `
ALTER TABLE s3_uploads ADD COLUMN acl TEXT NOT NULL DEFAULT '';
ALTER TABLE s3_uploads ADD COLUMN initiator TEXT NOT NULL DEFAULT '';`}
