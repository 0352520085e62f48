package lambda

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/kiri-run/kiri/internal/store"
)

// txExec is a write transaction as the row helpers use it (*store.Tx).
type txExec interface {
	rowQuerier
	Exec(query string, args ...any) (sql.Result, error)
}

// reader adapts the store's read pool to rowQuerier.
type reader struct {
	ctx context.Context
	st  *store.Store
}

func (r reader) QueryRow(query string, args ...any) *sql.Row {
	return r.st.QueryRow(r.ctx, query, args...)
}

func (r reader) Query(query string, args ...any) (*sql.Rows, error) {
	return r.st.Query(r.ctx, query, args...)
}

func (s *Service) reader(ctx context.Context) rowQuerier { return reader{ctx, s.st} }

// fnRow is one row of lambda_functions: what belongs to the function as a whole.
type fnRow struct {
	Created     int64
	LastVersion int64
	Reserved    *int32
	Tags        map[string]string
}

// loadFunction reads a function's row; a missing function is AWS's not-found error.
func loadFunction(q rowQuerier, r funcRef) (*fnRow, error) {
	var row fnRow
	var reserved sql.NullInt64
	var tags string
	err := q.QueryRow(`SELECT created, last_version, reserved_concurrency, tags FROM lambda_functions
		WHERE account = ? AND region = ? AND name = ?`, r.account, r.region, r.name).
		Scan(&row.Created, &row.LastVersion, &reserved, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, functionNotFound(r.unqualifiedARN())
	}
	if err != nil {
		return nil, fmt.Errorf("load function: %w", err)
	}
	if reserved.Valid {
		row.Reserved = ptr(int32(reserved.Int64))
	}
	if err := json.Unmarshal([]byte(tags), &row.Tags); err != nil {
		return nil, fmt.Errorf("decode tags: %w", err)
	}
	return &row, nil
}

func saveFunction(tx txExec, r funcRef, row *fnRow) error {
	tags, err := json.Marshal(row.Tags)
	if err != nil {
		return err
	}
	if row.Tags == nil {
		tags = []byte("{}")
	}
	var reserved any
	if row.Reserved != nil {
		reserved = int64(*row.Reserved)
	}
	_, err = tx.Exec(`INSERT INTO lambda_functions (account, region, name, created, last_version, reserved_concurrency, tags)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name) DO UPDATE SET last_version = excluded.last_version,
		reserved_concurrency = excluded.reserved_concurrency, tags = excluded.tags`,
		r.account, r.region, r.name, row.Created, row.LastVersion, reserved, string(tags))
	if err != nil {
		return fmt.Errorf("save function: %w", err)
	}
	return nil
}

// loadQualified reads the version a reference names: $LATEST when unqualified, a published
// version, or (aliases allowed) the version an alias points at. It returns AWS's not-found
// error with the reference's ARN when the function, version or alias does not exist.
func loadQualified(q rowQuerier, r funcRef, aliases bool) (*fnConfig, *aliasBody, error) {
	if _, err := loadFunction(q, r); err != nil {
		return nil, nil, err
	}
	version := r.qualifier
	var alias *aliasBody
	switch {
	case version == "":
		version = latest
	case version == latest || isVersionNumber(version):
	case aliases:
		a, ok, err := loadAlias(q, r, r.qualifier)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, functionNotFound(r.arn())
		}
		alias, version = a, a.FunctionVersion
	default:
		return nil, nil, functionNotFound(r.arn())
	}
	c, ok, err := loadVersion(q, r, version)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, functionNotFound(r.arn())
	}
	return c, alias, nil
}

// loadJSONRow reads one JSON document column (query selects it by the four key args) into a T;
// ok is false when there is no row. what names the document in errors.
func loadJSONRow[T any](q rowQuerier, what, query string, args ...any) (*T, bool, error) {
	var body string
	err := q.QueryRow(query, args...).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load %s: %w", what, err)
	}
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return nil, false, fmt.Errorf("decode %s: %w", what, err)
	}
	return &v, true, nil
}
