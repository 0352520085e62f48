package scheduler

import "github.com/kiri-run/kiri/internal/store"

// A schedule group is a row; the default group of an account and region is implicit until a
// write names it. A schedule is a row holding its document (the API's fields as they were set),
// its state, the ClientToken that created it, and timer: the token of the one fire timer that
// may still fire it, so a timer left behind by an update, or delivered twice, fires nothing.
const schemaV1 = `
CREATE TABLE scheduler_groups (
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	name     TEXT NOT NULL,
	created  BIGINT NOT NULL,
	modified BIGINT NOT NULL,
	tags     TEXT NOT NULL,
	token    TEXT NOT NULL,
	PRIMARY KEY (account, region, name)
);
CREATE TABLE scheduler_schedules (
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	grp     TEXT NOT NULL,
	name    TEXT NOT NULL,
	state   TEXT NOT NULL,
	doc     TEXT NOT NULL,
	token   TEXT NOT NULL,
	timer   TEXT NOT NULL,
	PRIMARY KEY (account, region, grp, name)
);
CREATE INDEX scheduler_schedules_name ON scheduler_schedules (account, region, name);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1}}
