package events

import (
	"strings"

	"github.com/kiri-run/kiri/internal/store"
)

// schemaV1 is written once for both backends: {{ID}} is an auto-increment key and {{NAME}} a
// text column that sorts by bytes (the List operations page in name order).
//
// events_buses holds the custom buses, and the default bus of an account and region once
// something is stored for it (a rule, a policy); until then the default bus exists without a
// row. version counts the changes of a bus's rules and targets: a process keeps the bus's
// compiled routes until it changes. events_rules holds the rules of a bus, events_targets each
// rule's targets as the Target shape in JSON (spec), events_tags the tags of buses and rules by
// ARN. events_archives holds archives of buses' events, events_archived the events they keep
// (by ingestion time), events_replays the replays of archives. A scheduled rule's timer is the token of its pending fire timer on the queue engine
// ("" for none): a timer whose token no longer matches was retired by a change of the rule.
const schemaV1 = `
CREATE TABLE events_buses (
	id          {{ID}},
	account     TEXT   NOT NULL,
	region      TEXT   NOT NULL,
	name        {{NAME}} NOT NULL,
	description TEXT   NOT NULL DEFAULT '',
	dead_letter TEXT   NOT NULL DEFAULT '',
	policy      TEXT   NOT NULL DEFAULT '',
	version     BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	modified_at BIGINT NOT NULL,
	UNIQUE (account, region, name)
);
CREATE TABLE events_rules (
	id          {{ID}},
	bus_id      BIGINT NOT NULL,
	name        {{NAME}} NOT NULL,
	pattern     TEXT   NOT NULL DEFAULT '',
	schedule    TEXT   NOT NULL DEFAULT '',
	state       TEXT   NOT NULL,
	description TEXT   NOT NULL DEFAULT '',
	role_arn    TEXT   NOT NULL DEFAULT '',
	timer       TEXT   NOT NULL DEFAULT '',
	created_at  BIGINT NOT NULL,
	UNIQUE (bus_id, name)
);
CREATE TABLE events_targets (
	rule_id   BIGINT NOT NULL,
	target_id TEXT   NOT NULL,
	arn       TEXT   NOT NULL,
	spec      TEXT   NOT NULL,
	PRIMARY KEY (rule_id, target_id)
);
CREATE INDEX events_targets_arn ON events_targets (arn);
CREATE TABLE events_archives (
	id          {{ID}},
	account     TEXT   NOT NULL,
	region      TEXT   NOT NULL,
	name        {{NAME}} NOT NULL,
	bus_id      BIGINT NOT NULL,
	description TEXT   NOT NULL DEFAULT '',
	pattern     TEXT   NOT NULL DEFAULT '',
	retention   INTEGER NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	UNIQUE (account, region, name)
);
CREATE TABLE events_archived (
	id          {{ID}},
	archive_id  BIGINT NOT NULL,
	ingested_at BIGINT NOT NULL,
	event       TEXT   NOT NULL
);
CREATE INDEX events_archived_time ON events_archived (archive_id, ingested_at, id);
CREATE TABLE events_replays (
	id           {{ID}},
	account      TEXT   NOT NULL,
	region       TEXT   NOT NULL,
	name         {{NAME}} NOT NULL,
	archive_id   BIGINT NOT NULL,
	archive_arn  TEXT   NOT NULL,
	description  TEXT   NOT NULL DEFAULT '',
	destination  TEXT   NOT NULL,
	filter_arns  TEXT   NOT NULL DEFAULT '',
	start_time   BIGINT NOT NULL,
	end_time     BIGINT NOT NULL,
	state        TEXT   NOT NULL,
	reason       TEXT   NOT NULL DEFAULT '',
	last_time    BIGINT NOT NULL DEFAULT 0,
	started_at   BIGINT NOT NULL,
	ended_at     BIGINT NOT NULL DEFAULT 0,
	UNIQUE (account, region, name)
);
CREATE TABLE events_tags (
	arn     TEXT NOT NULL,
	tag_key TEXT NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (arn, tag_key)
);`

// schemaV2 holds connections and API destinations. A connection's auth is its authorization
// with its secrets (apidest.Connection in JSON); version counts its changes, so that an
// authorization started for an older version does not record its outcome. secret is the
// suffix of its secret's ARN.
const schemaV2 = `
CREATE TABLE events_connections (
	id            {{ID}},
	account       TEXT   NOT NULL,
	region        TEXT   NOT NULL,
	name          {{NAME}} NOT NULL,
	uuid          TEXT   NOT NULL,
	auth_type     TEXT   NOT NULL,
	description   TEXT   NOT NULL DEFAULT '',
	state         TEXT   NOT NULL,
	reason        TEXT   NOT NULL DEFAULT '',
	secret        TEXT   NOT NULL,
	version       BIGINT NOT NULL,
	auth          TEXT   NOT NULL,
	created_at    BIGINT NOT NULL,
	modified_at   BIGINT NOT NULL,
	authorized_at BIGINT NOT NULL DEFAULT 0,
	UNIQUE (account, region, name)
);
CREATE TABLE events_api_destinations (
	id             {{ID}},
	account        TEXT   NOT NULL,
	region         TEXT   NOT NULL,
	name           {{NAME}} NOT NULL,
	uuid           TEXT   NOT NULL,
	connection_arn TEXT   NOT NULL,
	endpoint       TEXT   NOT NULL,
	method         TEXT   NOT NULL,
	rate           INTEGER NOT NULL DEFAULT 0,
	description    TEXT   NOT NULL DEFAULT '',
	created_at     BIGINT NOT NULL,
	modified_at    BIGINT NOT NULL,
	UNIQUE (account, region, name)
);
CREATE INDEX events_api_destinations_connection ON events_api_destinations (connection_arn);`

var sqliteNames = strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{NAME}}", "TEXT")

var postgresNames = strings.NewReplacer("{{ID}}", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "{{NAME}}", `TEXT COLLATE "C"`)

var migrations = []store.Migration{{
	Version:  1,
	SQL:      sqliteNames.Replace(schemaV1),
	Postgres: postgresNames.Replace(schemaV1),
}, {
	Version:  2,
	SQL:      sqliteNames.Replace(schemaV2),
	Postgres: postgresNames.Replace(schemaV2),
}}
