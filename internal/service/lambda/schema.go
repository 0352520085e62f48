package lambda

import "github.com/kiri-run/kiri/internal/store"

// migrations create Lambda's tables. A function's $LATEST and its published versions are rows
// of lambda_versions (version_num 0 is $LATEST); their configuration is one JSON document, so
// new configuration members need no schema change. Every table is keyed by account, region and
// function name.
var migrations = []store.Migration{{
	Version: 1,
	SQL: `
CREATE TABLE lambda_functions (
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	created BIGINT NOT NULL,
	last_version BIGINT NOT NULL,
	reserved_concurrency BIGINT,
	tags TEXT NOT NULL,
	PRIMARY KEY (account, region, name)
);
CREATE TABLE lambda_versions (
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	version_num BIGINT NOT NULL,
	code_sha TEXT NOT NULL,
	code_size BIGINT NOT NULL,
	config TEXT NOT NULL,
	PRIMARY KEY (account, region, name, version_num)
);
CREATE INDEX lambda_versions_code ON lambda_versions (code_sha);
CREATE TABLE lambda_aliases (
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	alias TEXT NOT NULL,
	body TEXT NOT NULL,
	PRIMARY KEY (account, region, name, alias)
);
CREATE TABLE lambda_policies (
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	qualifier TEXT NOT NULL,
	statements TEXT NOT NULL,
	PRIMARY KEY (account, region, name, qualifier)
);
CREATE TABLE lambda_invoke_configs (
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	qualifier TEXT NOT NULL,
	body TEXT NOT NULL,
	PRIMARY KEY (account, region, name, qualifier)
);
CREATE TABLE lambda_urls (
	url_id TEXT PRIMARY KEY,
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	name TEXT NOT NULL,
	qualifier TEXT NOT NULL,
	body TEXT NOT NULL,
	UNIQUE (account, region, name, qualifier)
);
CREATE TABLE lambda_code (
	sha TEXT PRIMARY KEY,
	size BIGINT NOT NULL,
	unzipped_size BIGINT NOT NULL,
	pinned_until BIGINT NOT NULL,
	deleting BOOLEAN NOT NULL
);`,
}, {
	// Event source mappings: one row per mapping, its configuration and state one JSON
	// document. A function and a source are mapped at most once.
	Version: 2,
	SQL: `
CREATE TABLE lambda_event_source_mappings (
	uuid TEXT PRIMARY KEY,
	account TEXT NOT NULL,
	region TEXT NOT NULL,
	function_name TEXT NOT NULL,
	function_arn TEXT NOT NULL,
	source_arn TEXT NOT NULL,
	body TEXT NOT NULL
);
CREATE UNIQUE INDEX lambda_esm_pair ON lambda_event_source_mappings (account, region, function_arn, source_arn);
CREATE INDEX lambda_esm_function ON lambda_event_source_mappings (account, region, function_name);`,
}}
