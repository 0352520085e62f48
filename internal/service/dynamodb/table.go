package dynamodb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/arn"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
	"github.com/kiri-run/kiri/internal/service/dynamodb/expr"
	"github.com/kiri-run/kiri/internal/store"
)

// tableKey names a table: tables are per account and region.
type tableKey struct{ Account, Region, Name string }

// arn is the table's ARN.
func (k tableKey) arn() string {
	return "arn:" + arn.Partition(k.Region) + ":dynamodb:" + k.Region + ":" + k.Account + ":table/" + k.Name
}

// Table and index statuses.
const (
	statusCreating = "CREATING"
	statusUpdating = "UPDATING"
	statusDeleting = "DELETING"
	statusActive   = "ACTIVE"
)

// Billing modes.
const (
	billingProvisioned = "PROVISIONED"
	billingOnDemand    = "PAY_PER_REQUEST"
)

// Projection types.
const (
	projectAll      = "ALL"
	projectKeysOnly = "KEYS_ONLY"
	projectInclude  = "INCLUDE"
)

// tableMeta is a table's definition, stored as JSON.
type tableMeta struct {
	TableID            string       `json:"id"`
	Status             string       `json:"status"`
	Attrs              []attrDef    `json:"attrs"`
	Hash               string       `json:"hash"`
	Range              string       `json:"range,omitempty"`
	Billing            string       `json:"billing"`
	Read               int64        `json:"read,omitempty"`
	Write              int64        `json:"write,omitempty"`
	BillingChanged     int64        `json:"billingChanged,omitempty"` // unix ms of the switch to on-demand
	GSIs               []*indexMeta `json:"gsis,omitempty"`
	LSIs               []*indexMeta `json:"lsis,omitempty"`
	TTLAttr            string       `json:"ttlAttr,omitempty"`
	TTLEnabled         bool         `json:"ttl,omitempty"`
	DeletionProtection bool         `json:"deletionProtection,omitempty"`
	TableClass         string       `json:"class,omitempty"`
	Stream             *streamState `json:"stream,omitempty"`
}

// attrDef is an attribute definition: a key attribute of the table or an index and its type.
type attrDef struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// indexMeta is a secondary index's definition.
type indexMeta struct {
	Name     string   `json:"name"`
	Hash     string   `json:"hash"`
	Range    string   `json:"range,omitempty"`
	ProjType string   `json:"proj"`
	NonKey   []string `json:"nonKey,omitempty"`
	Status   string   `json:"status,omitempty"` // GSIs: CREATING while backfilling, ACTIVE
	Read     int64    `json:"read,omitempty"`
	Write    int64    `json:"write,omitempty"`
	Global   bool     `json:"global,omitempty"`
}

// table is a loaded table: its row and definition. Tables are immutable once loaded; a change
// writes a new row and drops the cached one.
type table struct {
	ID      int64
	Key     tableKey
	Created time.Time
	Meta    tableMeta
}

// attrType returns the type an attribute definition gives name (None when undefined).
func (t *table) attrType(name string) attr.Type {
	return defType(t.Meta.Attrs, name)
}

func defType(defs []attrDef, name string) attr.Type {
	for _, d := range defs {
		if d.Name == name {
			ty, _ := attr.TypeNamed(d.Type)
			return ty
		}
	}
	return attr.None
}

// schema is the table's key schema for expr.
func (t *table) schema() expr.KeySchema {
	return expr.KeySchema{Partition: t.Meta.Hash, PartitionType: t.attrType(t.Meta.Hash),
		Sort: t.Meta.Range, SortType: t.attrType(t.Meta.Range)}
}

// indexSchema is an index's key schema for expr.
func (t *table) indexSchema(ix *indexMeta) expr.KeySchema {
	return expr.KeySchema{Partition: ix.Hash, PartitionType: t.attrType(ix.Hash),
		Sort: ix.Range, SortType: t.attrType(ix.Range)}
}

// indexes returns every secondary index, global then local.
func (t *table) indexes() []*indexMeta {
	out := make([]*indexMeta, 0, len(t.Meta.GSIs)+len(t.Meta.LSIs))
	out = append(out, t.Meta.GSIs...)
	return append(out, t.Meta.LSIs...)
}

// index finds a secondary index by name.
func (t *table) index(name string) *indexMeta {
	for _, ix := range t.indexes() {
		if ix.Name == name {
			return ix
		}
	}
	return nil
}

// isKey reports whether name is a key attribute of the table.
func (t *table) isKey(name string) bool { return name == t.Meta.Hash || name == t.Meta.Range }

// itemKey is the encoded primary key of an item.
type itemKey struct{ hk, rk []byte }

// encodeKey encodes the key attributes of item, which must be present and of their types.
func encodeKey(item attr.Item, hash, rng string) itemKey {
	k := itemKey{hk: attr.AppendKey(nil, item[hash]), rk: []byte{}}
	if rng != "" {
		k.rk = attr.AppendKey(nil, item[rng])
	}
	return k
}

func (t *table) keyOf(item attr.Item) itemKey { return encodeKey(item, t.Meta.Hash, t.Meta.Range) }

// keyItem returns only the primary key attributes of item.
func (t *table) keyItem(item attr.Item) attr.Item {
	k := attr.Item{t.Meta.Hash: item[t.Meta.Hash]}
	if t.Meta.Range != "" {
		k[t.Meta.Range] = item[t.Meta.Range]
	}
	return k
}

// segment is the 16-bit hash of an encoded partition key that orders Scan and splits it into
// segments.
func segment(hk []byte) int {
	h := fnv.New32a()
	_, _ = h.Write(hk)
	v := h.Sum32()
	return int((v >> 16) ^ (v & 0xFFFF))
}

// Key size limits.
const (
	maxHashKeySize  = 2048
	maxRangeKeySize = 1024
)

// checkKey refuses a Key parameter that is not exactly the table's primary key, as DynamoDB does.
func (t *table) checkKey(key attr.Item) error {
	want := 1
	if t.Meta.Range != "" {
		want = 2
	}
	if len(key) != want {
		return validation("The provided key element does not match the schema")
	}
	for _, name := range []string{t.Meta.Hash, t.Meta.Range} {
		if name == "" {
			continue
		}
		v, ok := key[name]
		if !ok || v.Type() != t.attrType(name) {
			return validation("The provided key element does not match the schema")
		}
	}
	return t.checkKeyValues(key, false)
}

// checkKeyValues refuses empty and oversized key values.
func (t *table) checkKeyValues(item attr.Item, put bool) error {
	for _, name := range []string{t.Meta.Hash, t.Meta.Range} {
		if name == "" {
			continue
		}
		v := item[name]
		if (v.Type() == attr.S || v.Type() == attr.B) && v.Len() == 0 {
			if put {
				return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty " + emptyWord(v) + " value. Key: " + name)
			}
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty " + emptyWord(v) + " value. Key: " + name)
		}
		size := len(attr.AppendKey(nil, v))
		if v.Type() != attr.N {
			size = v.Len()
		}
		if name == t.Meta.Hash && size > maxHashKeySize {
			return invalidParams("Size of hashkey has exceeded the maximum size limit of2048 bytes")
		}
		if name == t.Meta.Range && size > maxRangeKeySize {
			return invalidParams("Aggregated size of all range keys has exceeded the size limit of 1024 bytes")
		}
	}
	return nil
}

func emptyWord(v attr.Value) string {
	if v.Type() == attr.B {
		return "binary"
	}
	return "string"
}

// checkItem refuses an item written whole that lacks a key attribute or holds one, or an index
// key attribute, of the wrong type, as DynamoDB does.
func (t *table) checkItem(item attr.Item) error {
	for _, name := range []string{t.Meta.Hash, t.Meta.Range} {
		if name == "" {
			continue
		}
		v, ok := item[name]
		if !ok {
			return invalidParams("Missing the key " + name + " in the item")
		}
		if want := t.attrType(name); v.Type() != want {
			return invalidParams("Type mismatch for key " + name + " expected: " + want.String() + " actual: " + v.Type().String())
		}
	}
	if err := t.checkKeyValues(item, true); err != nil {
		return err
	}
	return t.checkIndexKeys(item)
}

// checkIndexKeys refuses an item whose index key attributes have the wrong type or are empty.
func (t *table) checkIndexKeys(item attr.Item) error {
	for _, ix := range t.indexes() {
		for _, name := range []string{ix.Hash, ix.Range} {
			if name == "" || t.isKey(name) {
				continue
			}
			v, ok := item[name]
			if !ok {
				continue
			}
			if want := t.attrType(name); v.Type() != want {
				return invalidParams("Type mismatch for Index Key " + name + " Expected: " + want.String() +
					" Actual: " + v.Type().String() + " IndexName: " + ix.Name)
			}
			if (v.Type() == attr.S || v.Type() == attr.B) && v.Len() == 0 {
				return validation("One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty " +
					emptyWord(v) + " value. IndexName: " + ix.Name + ", IndexKey: " + name)
			}
		}
	}
	return nil
}

// callerScope is the account and region a call acts in.
func callerScope(ctx context.Context) (account, region string) {
	return awsproto.CallFrom(ctx).Scope()
}

// tableKeyOf resolves a TableName parameter, a name or a table ARN, in the caller's scope.
func tableKeyOf(ctx context.Context, nameOrARN string) tableKey {
	account, region := callerScope(ctx)
	if a, r, n, ok := parseTableARN(nameOrARN); ok {
		return tableKey{Account: a, Region: r, Name: n}
	}
	return tableKey{Account: account, Region: region, Name: nameOrARN}
}

// parseTableARN reads arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME (an index ARN's table
// too).
func parseTableARN(s string) (account, region, name string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "dynamodb" {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "table/")
	if !found || rest == "" {
		return "", "", "", false
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return parts[4], parts[3], rest, true
}

// loadTable reads a table, nil when it does not exist. Another account's table does not exist
// for a caller unless enforce mode let the call through (its policy decided).
func (s *Service) loadTable(ctx context.Context, k tableKey) (*table, error) {
	if caller, _ := callerScope(ctx); caller != k.Account && !s.enforcing() {
		return nil, nil
	}
	if t, gen, ok := s.tables.Get(k); ok {
		return t, nil
	} else {
		t, err := s.readTable(ctx, k)
		if err != nil || t == nil {
			return t, err
		}
		s.tables.Put(k, t, gen)
		return t, nil
	}
}

func (s *Service) readTable(ctx context.Context, k tableKey) (*table, error) {
	row := s.st.QueryRow(ctx, "SELECT id, created_at, meta FROM ddb_tables WHERE account = ? AND region = ? AND name = ?", k.Account, k.Region, k.Name)
	return scanTable(row, k)
}

// readTableTx reads a table inside a write, nil when it does not exist.
func readTableTx(tx *store.Tx, k tableKey) (*table, error) {
	row := tx.QueryRow("SELECT id, created_at, meta FROM ddb_tables WHERE account = ? AND region = ? AND name = ?", k.Account, k.Region, k.Name)
	return scanTable(row, k)
}

func scanTable(row *sql.Row, k tableKey) (*table, error) {
	t := &table{Key: k}
	var created int64
	var meta string
	if err := row.Scan(&t.ID, &created, &meta); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		return nil, fmt.Errorf("read table %s: %w", k.Name, err)
	}
	t.Created = time.UnixMilli(created)
	if err := json.Unmarshal([]byte(meta), &t.Meta); err != nil {
		return nil, fmt.Errorf("read table %s: %w", k.Name, err)
	}
	return t, nil
}

// saveMeta writes a table's definition in tx.
func (s *Service) saveMeta(tx *store.Tx, t *table) error {
	b, err := json.Marshal(&t.Meta)
	if err != nil {
		return err
	}
	s.tables.Changed(tx, t.Key)
	if _, err := tx.Exec("UPDATE ddb_tables SET meta = ? WHERE id = ?", string(b), t.ID); err != nil {
		return fmt.Errorf("save table %s: %w", t.Key.Name, err)
	}
	return nil
}

// tableFor resolves and loads the table a request names, refused with ResourceNotFoundException
// when it does not exist.
func (s *Service) tableFor(ctx context.Context, name *string) (*table, error) {
	t, err := s.loadTable(ctx, tableKeyOf(ctx, awsproto.Value(name)))
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, notFound()
	}
	return t, nil
}

// liveTx re-reads a table inside a write, so a write never lands in a table deleted or changed
// since the request loaded it.
func (s *Service) liveTx(tx *store.Tx, t *table) (*table, error) {
	if cur, _, ok := s.tables.Get(t.Key); ok {
		if cur.ID != t.ID {
			return nil, notFound()
		}
		return cur, nil
	}
	cur, err := readTableTx(tx, t.Key)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.ID != t.ID {
		return nil, notFound()
	}
	return cur, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// currentTable re-reads a table inside a write for a table operation, refused with the
// table-level ResourceNotFoundException when it is gone or replaced.
func currentTable(tx *store.Tx, t *table) (*table, error) {
	cur, err := readTableTx(tx, t.Key)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.ID != t.ID {
		return nil, tableNotFound(t.Key.Name)
	}
	return cur, nil
}
