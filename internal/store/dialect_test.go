package store

import "testing"

func TestRebind(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"numbers placeholders in order", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"leaves question marks in string literals", "SELECT 'why?' WHERE x = ?", "SELECT 'why?' WHERE x = $1"},
		{"handles doubled quotes in literals", "SELECT 'it''s?' , ?", "SELECT 'it''s?' , $1"},
		{"leaves quoted identifiers alone", `SELECT "odd?" FROM t WHERE x = ?`, `SELECT "odd?" FROM t WHERE x = $1`},
		{"leaves line comments alone", "SELECT ? -- what?\n, ?", "SELECT $1 -- what?\n, $2"},
		{"leaves block comments alone", "SELECT /* ? */ ?", "SELECT /* ? */ $1"},
		{"passes queries without placeholders through", "SELECT 1", "SELECT 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialectPostgres.rebind(tc.in); got != tc.want {
				t.Errorf("rebind(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := dialectSQLite.rebind(tc.in); got != tc.in {
				t.Errorf("sqlite rebind changed %q to %q", tc.in, got)
			}
		})
	}
}

func TestMigrationSQL(t *testing.T) {
	tests := []struct {
		name string
		m    Migration
		want string
	}{
		{"rewrites BLOB to BYTEA", Migration{SQL: "CREATE TABLE t (b BLOB, c blob NOT NULL)"}, "CREATE TABLE t (b BYTEA, c BYTEA NOT NULL)"},
		{"keeps words that merely contain blob", Migration{SQL: "CREATE TABLE blobs (blob_id BIGINT, myblob TEXT DEFAULT 'BLOB')"},
			"CREATE TABLE blobs (blob_id BIGINT, myblob TEXT DEFAULT 'BLOB')"},
		{"prefers the PostgreSQL text", Migration{SQL: "x BLOB", Postgres: "y"}, "y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := dialectPostgres.migrationSQL(tc.m); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got := dialectSQLite.migrationSQL(tc.m); got != tc.m.SQL {
				t.Errorf("sqlite got %q, want %q", got, tc.m.SQL)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"hides the password", "postgres://kiri:s3cret@db:5432/kiri", "postgres://kiri:xxxxx@db:5432/kiri"},
		{"keeps DSNs without credentials", "postgres://db/kiri", "postgres://db/kiri"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := redactDSN(tc.in); got != tc.want {
				t.Errorf("redactDSN(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
