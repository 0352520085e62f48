package sfn

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/kiri-run/kiri/internal/store"
)

// rowQuery runs a query returning one row: a transaction's, or the store's for reads.
type rowQuery func(query string, args ...any) *sql.Row

func (s *Service) reader(ctx context.Context) rowQuery {
	return func(q string, args ...any) *sql.Row { return s.st.QueryRow(ctx, q, args...) }
}

// loadDoc reads the JSON document of the one row query finds into v; found is false when
// there is none.
func loadDoc(q rowQuery, v any, query string, args ...any) (found bool, err error) {
	var doc string
	err = q(query, args...).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(doc), v)
}

// decode reads a document column into v.
func decode(doc string, v any) error { return json.Unmarshal([]byte(doc), v) }

// encode is v as a document column.
func encode(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // documents are plain data
	}
	return string(b)
}

// queryDocs reads the documents of every row query finds, in order.
func queryDocs[T any](ctx context.Context, st *store.Store, query string, args ...any) ([]T, error) {
	rows, err := st.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var v T
		if err := json.Unmarshal([]byte(doc), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func jsonValid(b []byte) bool { return json.Valid(b) }
