package pipes

import (
	"strings"

	"github.com/kiri-run/kiri/internal/store"
)

// A pipe is one row; its configuration and state are the JSON body (the pipe struct). {{NAME}}
// is a text column that sorts by bytes, as Pipes lists names.
const schemaV1 = `
CREATE TABLE pipes_pipes (
	account TEXT     NOT NULL,
	region  TEXT     NOT NULL,
	name    {{NAME}} NOT NULL,
	body    TEXT     NOT NULL,
	PRIMARY KEY (account, region, name)
);`

var migrations = []store.Migration{{
	Version:  1,
	SQL:      strings.ReplaceAll(schemaV1, "{{NAME}}", "TEXT"),
	Postgres: strings.ReplaceAll(schemaV1, "{{NAME}}", `TEXT COLLATE "C"`),
}}
