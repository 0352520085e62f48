package apigateway

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// Kinds of resource rows.
const (
	kindAPI         = "api"
	kindRoute       = "route"
	kindIntegration = "integration"
	kindStage       = "stage"
	kindDeployment  = "deployment"
	kindAuthorizer  = "authorizer"
)

// scope is the account and region a call acts in.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	c := awsproto.CallFrom(ctx)
	return scope{c.AccountID, c.Region}
}

// rowQuery runs a query returning one row: a transaction's, or the store's for reads.
type rowQuery func(query string, args ...any) *sql.Row

// rowsQuery runs a query returning rows.
type rowsQuery func(query string, args ...any) (*sql.Rows, error)

func storeRow(ctx context.Context, st *store.Store) rowQuery {
	return func(q string, args ...any) *sql.Row { return st.QueryRow(ctx, q, args...) }
}

func storeRows(ctx context.Context, st *store.Store) rowsQuery {
	return func(q string, args ...any) (*sql.Rows, error) { return st.Query(ctx, q, args...) }
}

// getDoc reads one resource into v; it reports false when there is none.
func getDoc(q rowQuery, sc scope, apiID, kind, id string, v any) (bool, error) {
	var doc string
	err := q(`SELECT doc FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ? AND id = ?`,
		sc.account, sc.region, apiID, kind, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return true, json.Unmarshal([]byte(doc), v)
}

// listDocs reads up to limit resources of a kind with ids after after, in id order, calling add
// with each document; it returns the id of the last one read when more follow.
func listDocs(q rowsQuery, sc scope, apiID, kind, after string, limit int, add func(doc []byte) error) (next string, err error) {
	rows, err := q(`SELECT id, doc FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ? AND id > ?
		ORDER BY id LIMIT ?`, sc.account, sc.region, apiID, kind, after, limit+1)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	n, last := 0, ""
	for rows.Next() {
		var id, doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return "", err
		}
		if n == limit {
			next = last
			break
		}
		if err := add([]byte(doc)); err != nil {
			return "", err
		}
		n, last = n+1, id
	}
	return next, rows.Err()
}

// listAll reads every resource of a kind of an API into a slice.
func listAll[T any](q rowsQuery, sc scope, apiID, kind string) ([]T, error) {
	var out []T
	_, err := listDocs(q, sc, apiID, kind, "", 1<<30, func(doc []byte) error {
		var v T
		if err := json.Unmarshal(doc, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

func putDoc(tx *store.Tx, sc scope, apiID, kind, id string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	changed(tx, apiID)
	_, err = tx.Exec(`INSERT INTO apigw_resources (account, region, api_id, kind, id, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, api_id, kind, id) DO UPDATE SET doc = excluded.doc`,
		sc.account, sc.region, apiID, kind, id, string(doc))
	return err
}

func deleteDoc(tx *store.Tx, sc scope, apiID, kind, id string) error {
	changed(tx, apiID)
	_, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ? AND id = ?`,
		sc.account, sc.region, apiID, kind, id)
	return err
}

// newID returns a random identifier of n lower-case letters and digits, as API Gateway's are.
func newID(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// pageSize parses a MaxResults parameter (a string in this API); 0 is the default.
func pageSize(s *string) (int, error) {
	if s == nil {
		return 100, nil
	}
	n, err := strconv.Atoi(*s)
	if err != nil || n < 1 {
		return 0, badRequest("Invalid MaxResults: %s", *s)
	}
	return min(n, 500), nil
}

// requireAPI loads an API, or answers NotFoundException.
func requireAPI(q rowQuery, sc scope, apiID string) (*Api, error) {
	var a Api
	ok, err := getDoc(q, sc, apiID, kindAPI, apiID, &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid API identifier specified %s:%s", sc.account, apiID)
	}
	return &a, nil
}

// requireDoc loads a resource of an existing API, or answers NotFoundException worded as
// API Gateway words it for that kind.
func requireDoc(q rowQuery, sc scope, apiID, kind, id, noun string, v any) error {
	if _, err := requireAPI(q, sc, apiID); err != nil {
		return err
	}
	ok, err := getDoc(q, sc, apiID, kind, id, v)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Invalid %s identifier specified %s:%s:%s", noun, sc.account, apiID, id)
	}
	return nil
}

func wrap(op string, err error) error {
	var ae *awsproto.Error
	if err == nil || errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}
