package sfn

import "github.com/kiri-run/kiri/internal/store"

// Every resource is a row keyed by its ARN holding its document (the API's fields as they were
// set) as JSON, with the columns listings sort and filter on. A state machine's versions and
// aliases are rows of their own beside it. An execution holds its interpreter state (run), the
// asl package's Run as JSON, rewritten with its new history events and the queue messages of
// what it waits for in the one transaction of each step; pending names the effects (tasks,
// timers) the stored run still waits for, so a message delivered twice changes nothing.
const schemaV1 = `
CREATE TABLE sfn_machines (
	arn      TEXT NOT NULL PRIMARY KEY,
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	name     TEXT NOT NULL,
	created  BIGINT NOT NULL,
	doc      TEXT NOT NULL
);
CREATE INDEX sfn_machines_scope ON sfn_machines (account, region, name);
CREATE TABLE sfn_versions (
	machine  TEXT NOT NULL,
	version  BIGINT NOT NULL,
	created  BIGINT NOT NULL,
	doc      TEXT NOT NULL,
	PRIMARY KEY (machine, version)
);
CREATE TABLE sfn_aliases (
	machine  TEXT NOT NULL,
	name     TEXT NOT NULL,
	created  BIGINT NOT NULL,
	doc      TEXT NOT NULL,
	PRIMARY KEY (machine, name)
);
CREATE TABLE sfn_activities (
	arn      TEXT NOT NULL PRIMARY KEY,
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	name     TEXT NOT NULL,
	created  BIGINT NOT NULL,
	doc      TEXT NOT NULL
);
CREATE INDEX sfn_activities_scope ON sfn_activities (account, region, name);
CREATE TABLE sfn_executions (
	arn      TEXT NOT NULL PRIMARY KEY,
	machine  TEXT NOT NULL,
	status   TEXT NOT NULL,
	started  BIGINT NOT NULL,
	doc      TEXT NOT NULL,
	run      TEXT NOT NULL,
	pending  TEXT NOT NULL
);
CREATE INDEX sfn_executions_machine ON sfn_executions (machine, started);
CREATE TABLE sfn_events (
	execution TEXT NOT NULL,
	id        BIGINT NOT NULL,
	body      TEXT NOT NULL,
	PRIMARY KEY (execution, id)
);
CREATE TABLE sfn_tokens (
	token     TEXT NOT NULL PRIMARY KEY,
	execution TEXT NOT NULL,
	effect    TEXT NOT NULL,
	doc       TEXT NOT NULL
);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1}}
