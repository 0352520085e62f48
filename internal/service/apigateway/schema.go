package apigateway

import "github.com/kiri-run/kiri/internal/store"

// Every API Gateway resource is one row holding its JSON document: an API (kind "api", id its
// API id), and the routes, integrations, stages and deployments of an API. A deployment's
// document holds the routes and integrations it froze, which is what its stages serve.
const schemaV1 = `
CREATE TABLE apigw_resources (
	account TEXT NOT NULL,
	region  TEXT NOT NULL,
	api_id  TEXT NOT NULL,
	kind    TEXT NOT NULL,
	id      TEXT NOT NULL,
	doc     TEXT NOT NULL,
	PRIMARY KEY (account, region, api_id, kind, id)
);
CREATE INDEX apigw_resources_api ON apigw_resources (api_id, kind);`

var migrations = []store.Migration{{Version: 1, SQL: schemaV1, Postgres: schemaV1}}
