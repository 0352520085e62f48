package iam

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// entity is a user, group or role.
type entity struct {
	id, account, kind, name, path string
	created                       time.Time
	description, trust            string
	maxSession                    int32
	boundary                      string
	lastUsed                      int64
	lastRegion                    string
}

func (e *entity) arn() string { return arnOf(e.account, e.kind, e.path, e.name) }

const entityColumns = `id, account, kind, name, path, created_at, description, trust, max_session, boundary, last_used, last_region`

func scanEntity(row interface{ Scan(...any) error }) (*entity, error) {
	e := &entity{}
	var created int64
	var maxSession int64
	err := row.Scan(&e.id, &e.account, &e.kind, &e.name, &e.path, &created, &e.description, &e.trust, &maxSession,
		&e.boundary, &e.lastUsed, &e.lastRegion)
	if err != nil {
		return nil, err
	}
	e.created = time.UnixMilli(created).UTC()
	e.maxSession = int32(maxSession)
	return e, nil
}

// db is what reads need of a store or of a write's transaction.
type db interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
}

// reader reads from the store outside a write.
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

func (s *Service) read(ctx context.Context) db { return reader{ctx, s.st} }

// findEntity loads the entity of kind named name, or nil when there is none.
func findEntity(q db, account, kind, name string) (*entity, error) {
	e, err := scanEntity(q.QueryRow(`SELECT `+entityColumns+` FROM iam_entities WHERE account = ? AND kind = ? AND name_key = ?`,
		account, kind, strings.ToLower(name)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s %q: %w", kind, name, err)
	}
	return e, nil
}

// entityByID loads an entity by its unique id, or nil.
func entityByID(q db, id string) (*entity, error) {
	e, err := scanEntity(q.QueryRow(`SELECT `+entityColumns+` FROM iam_entities WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load entity %s: %w", id, err)
	}
	return e, nil
}

// mustEntity is findEntity answering NoSuchEntity when there is none.
func mustEntity(q db, account, kind, name string) (*entity, error) {
	e, err := findEntity(q, account, kind, name)
	if err == nil && e == nil {
		err = noSuchEntity(kind, name)
	}
	return e, err
}

// listEntities loads the account's entities of kind whose path starts with prefix, by name.
func listEntities(q db, account, kind, prefix string) ([]*entity, error) {
	rows, err := q.Query(`SELECT `+entityColumns+` FROM iam_entities WHERE account = ? AND kind = ?`, account, kind)
	if err != nil {
		return nil, fmt.Errorf("list %ss: %w", kind, err)
	}
	defer rows.Close()
	var out []*entity
	for rows.Next() {
		e, err := scanEntity(rows)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(e.path, prefix) {
			out = append(out, e)
		}
	}
	sortEntities(out)
	return out, rows.Err()
}

// insertEntity stores a new entity, refusing a name its kind already has in the account.
func insertEntity(tx *store.Tx, e *entity) error {
	existing, err := findEntity(tx, e.account, e.kind, e.name)
	if err != nil {
		return err
	}
	if existing != nil {
		return alreadyExists(e.kind, e.name)
	}
	_, err = tx.Exec(`INSERT INTO iam_entities (id, account, kind, name_key, name, path, created_at, description, trust, max_session, boundary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.id, e.account, e.kind, strings.ToLower(e.name), e.name, e.path, e.created.UnixMilli(), e.description, e.trust,
		int64(e.maxSession), e.boundary)
	return err
}

// deleteEntity removes an entity and what hangs off it that IAM deletes with it.
func deleteEntity(tx *store.Tx, e *entity) error {
	for _, q := range []string{
		`DELETE FROM iam_entities WHERE id = ?`,
		`DELETE FROM iam_tags WHERE owner = ?`,
	} {
		if _, err := tx.Exec(q, e.id); err != nil {
			return err
		}
	}
	return nil
}

// count answers a SELECT COUNT(*).
func count(q db, query string, args ...any) (int, error) {
	var n int
	err := q.QueryRow(query, args...).Scan(&n)
	return n, err
}

// kindNoun is how IAM's messages name a kind.
func kindNoun(kind string) string {
	switch kind {
	case kindUser:
		return "user"
	case kindGroup:
		return "group"
	case kindRole:
		return "role"
	}
	return kind
}

func noSuchEntity(kind, name string) *awsproto.Error {
	return awsproto.Errorf("NoSuchEntity", 404, "The %s with name %s cannot be found.", kindNoun(kind), name)
}

func alreadyExists(kind, name string) *awsproto.Error {
	noun := strings.ToUpper(kind[:1]) + kind[1:]
	return awsproto.Errorf("EntityAlreadyExists", 409, "%s with name %s already exists.", noun, name)
}

func deleteConflict(msg string) *awsproto.Error {
	return awsproto.Errorf("DeleteConflict", 409, "%s", msg)
}

func limitExceeded(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("LimitExceeded", 409, format, args...)
}

func invalidInput(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("InvalidInput", 400, format, args...)
}

func validationError(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf("ValidationError", 400, format, args...)
}

// Patterns of the IAM model that the codec does not check.
var (
	namePattern    = regexp.MustCompile(`^[\w+=,.@-]+$`)
	pathPattern    = regexp.MustCompile(`^(/|/[\x21-\x7E]+/)$`)
	prefixPattern  = regexp.MustCompile(`^/[\x21-\x7E]*$`)
	policyNameChar = regexp.MustCompile(`^[\w+=,.@-]+$`)
)

// checkPattern answers the codec's wording for a member that breaks its model pattern.
func checkPattern(member, value string, re *regexp.Regexp, pattern string) error {
	if re.MatchString(value) {
		return nil
	}
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
		value, member, pattern)
}

func checkName(member, name string) error {
	return checkPattern(member, name, namePattern, `[\w+=,.@-]+`)
}

// checkPath validates a Path and returns it, "/" when absent.
func checkPath(p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	return *p, checkPattern("path", *p, pathPattern, `(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`)
}

// checkPrefix validates a PathPrefix and returns it, "/" when absent.
func checkPrefix(p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	return *p, checkPattern("pathPrefix", *p, prefixPattern, `\u002F[\u0021-\u007F]*`)
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns an IAM unique id: a prefix naming its kind (AIDA user, AGPA group, AROA role,
// ANPA policy, AIPA instance profile) and 17 random base32 characters, as AWS shapes them.
func newID(prefix string) string {
	return prefix + randomBase32(17)
}

func randomBase32(n int) string {
	b := make([]byte, (n*5+7)/8)
	rand.Read(b)
	return idEncoding.EncodeToString(b)[:n]
}

func idPrefix(kind string) string {
	switch kind {
	case kindUser:
		return "AIDA"
	case kindGroup:
		return "AGPA"
	}
	return "AROA"
}

// page cuts items (sorted by key) at Marker and MaxItems, as IAM's list operations page: the
// marker names the first item of the next page.
func page[T any](items []T, key func(T) string, marker *string, maxItems *int32) ([]T, bool, *string, error) {
	start := 0
	if marker != nil {
		m, err := idEncoding.DecodeString(*marker)
		if err != nil {
			return nil, false, nil, validationError("Invalid Marker.")
		}
		start, _ = slices.BinarySearchFunc(items, string(m), func(it T, k string) int { return strings.Compare(key(it), k) })
	}
	n := 100
	if maxItems != nil {
		n = int(*maxItems)
	}
	items = items[start:]
	if len(items) <= n {
		return items, false, nil, nil
	}
	next := idEncoding.EncodeToString([]byte(key(items[n])))
	return items[:n], true, &next, nil
}

// sortEntities sorts entities by name, as IAM lists them.
func sortEntities(es []*entity) {
	slices.SortFunc(es, func(a, b *entity) int { return strings.Compare(nameKey(a), nameKey(b)) })
}

// nameKey is the sort key of list answers: IAM lists names ignoring case.
func nameKey(e *entity) string { return strings.ToLower(e.name) }

// sortBy sorts xs by key.
func sortBy[T any](xs []T, key func(T) string) {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}
