package dynamodb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Limits DynamoDB sets on tables.
const (
	maxGSIs = 20
	maxLSIs = 5
	// maxProjected is the most NonKeyAttributes all of a table's indexes may project.
	maxProjected = 100
)

// maxCapacityUnits is the most read or write capacity units DynamoDB takes.
const maxCapacityUnits = 1_000_000_000_000

// throughputBounds refuses capacity units beyond what DynamoDB takes, before anything else
// about the table is checked.
func throughputBounds(pt *ProvisionedThroughput) error {
	if pt == nil {
		return nil
	}
	if v := awsproto.Value(pt.ReadCapacityUnits); v > maxCapacityUnits {
		return validation(fmt.Sprintf("Given value %d for ReadCapacityUnits is out of bounds", v))
	}
	if v := awsproto.Value(pt.WriteCapacityUnits); v > maxCapacityUnits {
		return validation(fmt.Sprintf("Given value %d for WriteCapacityUnits is out of bounds", v))
	}
	return nil
}

// keySchema checks a KeySchema (of the table or an index) and returns its hash and range names.
func keySchema(ks []KeySchemaElement) (hash, rng string, err error) {
	if len(ks) == 0 {
		return "", "", validation("1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null")
	}
	if awsproto.Value(ks[0].KeyType) != "HASH" {
		return "", "", validation("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
	}
	hash = awsproto.Value(ks[0].AttributeName)
	if len(ks) > 1 {
		if awsproto.Value(ks[1].KeyType) != "RANGE" {
			return "", "", validation("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type")
		}
		rng = awsproto.Value(ks[1].AttributeName)
		if rng == hash {
			return "", "", validation("Both the Hash Key and the Range Key element in the KeySchema have the same name")
		}
	}
	return hash, rng, nil
}

// projection checks an index's Projection.
func projection(p *Projection) (typ string, nonKey []string, err error) {
	if p == nil {
		return "", nil, validation("1 validation error detected: Value null at 'projection' failed to satisfy constraint: Member must not be null")
	}
	typ = awsproto.Value(p.ProjectionType)
	switch typ {
	case projectAll, projectKeysOnly:
		if p.NonKeyAttributes != nil {
			return "", nil, invalidParams("ProjectionType is " + typ + ", but NonKeyAttributes is specified")
		}
	case projectInclude:
		if len(p.NonKeyAttributes) == 0 {
			return "", nil, invalidParams("ProjectionType is INCLUDE, but NonKeyAttributes is not specified")
		}
		seen := map[string]bool{}
		for _, n := range p.NonKeyAttributes {
			if seen[n] {
				return "", nil, invalidParams("Duplicate attribute name in NonKeyAttributes: " + n)
			}
			seen[n] = true
		}
	case "":
		return "", nil, invalidParams("Unknown ProjectionType: null")
	default:
		return "", nil, invalidParams("Unknown ProjectionType: " + typ)
	}
	return typ, slices.Clone(p.NonKeyAttributes), nil
}

// throughput checks ProvisionedThroughput against the billing mode; what describes an index
// names it.
func throughput(billing string, pt *ProvisionedThroughput, index string) (read, write int64, err error) {
	if billing == billingOnDemand {
		if pt != nil {
			if index != "" {
				return 0, 0, invalidParams("ProvisionedThroughput should not be specified for index: " + index + " when BillingMode is PAY_PER_REQUEST")
			}
			return 0, 0, invalidParams("Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST")
		}
		return 0, 0, nil
	}
	if pt == nil || pt.ReadCapacityUnits == nil || pt.WriteCapacityUnits == nil {
		if index != "" {
			return 0, 0, invalidParams("ProvisionedThroughput must be specified for index: " + index)
		}
		return 0, 0, invalidParams("ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED")
	}
	return *pt.ReadCapacityUnits, *pt.WriteCapacityUnits, nil
}

// indexDef checks one secondary index of CreateTable or UpdateTable.
func indexDef(name *string, ks []KeySchemaElement, p *Projection, global bool) (*indexMeta, error) {
	hash, rng, err := keySchema(ks)
	if err != nil {
		return nil, err
	}
	typ, nonKey, err := projection(p)
	if err != nil {
		return nil, err
	}
	return &indexMeta{Name: awsproto.Value(name), Hash: hash, Range: rng, ProjType: typ, NonKey: nonKey, Global: global, Status: statusActive}, nil
}

// checkDefinitions refuses attribute definitions that do not match the key attributes of the
// table and its indexes exactly.
func checkDefinitions(defs []attrDef, m *tableMeta) error {
	used := map[string]bool{m.Hash: true}
	if m.Range != "" {
		used[m.Range] = true
	}
	for _, ix := range append(slices.Clone(m.GSIs), m.LSIs...) {
		used[ix.Hash] = true
		if ix.Range != "" {
			used[ix.Range] = true
		}
	}
	defined := map[string]bool{}
	var names []string
	for _, d := range defs {
		if defined[d.Name] {
			return invalidParams("Duplicate AttributeName: " + d.Name)
		}
		defined[d.Name] = true
		names = append(names, d.Name)
	}
	var missing []string
	for _, k := range keyNames(m) {
		if !defined[k] && !slices.Contains(missing, k) {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return invalidParams("Some index key attributes are not defined in AttributeDefinitions. Keys: [" +
			strings.Join(missing, ", ") + "], AttributeDefinitions: [" + strings.Join(names, ", ") + "]")
	}
	if len(defs) != len(used) {
		return invalidParams("Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

// keyNames lists the key attributes of the table and its indexes, in schema order.
func keyNames(m *tableMeta) []string {
	out := []string{m.Hash}
	if m.Range != "" {
		out = append(out, m.Range)
	}
	for _, ix := range append(slices.Clone(m.GSIs), m.LSIs...) {
		out = append(out, ix.Hash)
		if ix.Range != "" {
			out = append(out, ix.Range)
		}
	}
	return out
}

func attrDefs(in []AttributeDefinition) []attrDef {
	out := make([]attrDef, len(in))
	for i, d := range in {
		out[i] = attrDef{Name: awsproto.Value(d.AttributeName), Type: awsproto.Value(d.AttributeType)}
	}
	return out
}

// checkIndexes refuses index definitions DynamoDB refuses: repeated names, limits, local
// indexes without the table's hash key or a range key, projections over the limit.
func checkIndexes(m *tableMeta) error {
	if len(m.GSIs) > maxGSIs {
		return limitExceeded("One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of %d", maxGSIs)
	}
	if len(m.LSIs) > maxLSIs {
		return invalidParams("Number of LocalSecondaryIndexes exceeds per-table limit of " + strconv.Itoa(maxLSIs))
	}
	seen := map[string]bool{}
	projected := map[string]bool{}
	for _, ix := range append(slices.Clone(m.GSIs), m.LSIs...) {
		if seen[ix.Name] {
			return invalidParams("Duplicate index name: " + ix.Name)
		}
		seen[ix.Name] = true
		for _, n := range ix.NonKey {
			projected[n] = true
		}
	}
	if len(projected) > maxProjected {
		return invalidParams("The number of attributes in key schema and NonKeyAttributes of all indexes exceeds the per-table limit of " + strconv.Itoa(maxProjected))
	}
	for _, ix := range m.LSIs {
		if m.Range == "" {
			return invalidParams("Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex")
		}
		if ix.Hash != m.Hash {
			return invalidParams("Index KeySchema does not have the same leading hash key as table KeySchema for index: " +
				ix.Name + ". index hash key: " + ix.Hash + ", table hash key: " + m.Hash)
		}
		if ix.Range == "" {
			return invalidParams("Index KeySchema does not have a range key for index: " + ix.Name)
		}
	}
	return nil
}

// unsupported refuses settings Kiri does not provide, rather than accept and drop them.
func unsupported(sse *SSESpecification) error {
	if sse != nil && awsproto.Value(sse.Enabled) {
		return validation("Kiri does not provide server-side encryption with KMS keys: SSESpecification.Enabled must be false")
	}
	return nil
}

func (s *Service) createTable(ctx context.Context, in *CreateTableInput) (*CreateTableOutput, error) {
	if len(in.KeySchema) > 2 {
		// The model no longer bounds KeySchema; DynamoDB's front end still does, and echoes
		// the elements as its Java classes print them.
		shown := make([]string, len(in.KeySchema))
		for i, e := range in.KeySchema {
			shown[i] = "KeySchemaElement(attributeName=" + awsproto.Value(e.AttributeName) + ", keyType=" + awsproto.Value(e.KeyType) + ")"
		}
		return nil, validation("1 validation error detected: Value '[" + strings.Join(shown, ", ") +
			"]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2")
	}
	if err := throughputBounds(in.ProvisionedThroughput); err != nil {
		return nil, err
	}
	if len(in.KeySchema) > len(in.AttributeDefinitions) {
		// DynamoDB counts before it looks at the elements: [pk HASH, pk RANGE] with pk alone
		// defined is refused so, not for its repeated name.
		return nil, validation("Invalid KeySchema: Some index key attribute have no definition")
	}
	hash, rng, err := keySchema(in.KeySchema)
	if err != nil {
		return nil, err
	}
	billing := awsproto.Value(in.BillingMode)
	if billing == "" {
		billing = billingProvisioned
	}
	m := tableMeta{TableID: uuid.New(), Status: statusActive, Attrs: attrDefs(in.AttributeDefinitions), Hash: hash, Range: rng,
		Billing: billing, DeletionProtection: awsproto.Value(in.DeletionProtectionEnabled), TableClass: awsproto.Value(in.TableClass)}
	if m.Read, m.Write, err = throughput(billing, in.ProvisionedThroughput, ""); err != nil {
		return nil, err
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ix, err := indexDef(g.IndexName, g.KeySchema, g.Projection, true)
		if err != nil {
			return nil, err
		}
		if ix.Read, ix.Write, err = throughput(billing, g.ProvisionedThroughput, ix.Name); err != nil {
			return nil, err
		}
		m.GSIs = append(m.GSIs, ix)
	}
	for _, l := range in.LocalSecondaryIndexes {
		ix, err := indexDef(l.IndexName, l.KeySchema, l.Projection, false)
		if err != nil {
			return nil, err
		}
		m.LSIs = append(m.LSIs, ix)
	}
	if err := checkIndexes(&m); err != nil {
		return nil, err
	}
	if err := checkDefinitions(m.Attrs, &m); err != nil {
		return nil, err
	}
	if err := unsupported(in.SSESpecification); err != nil {
		return nil, err
	}
	if in.StreamSpecification != nil {
		if _, _, err := streamSpec(in.StreamSpecification); err != nil {
			return nil, err
		}
	}
	if in.ResourcePolicy != nil {
		return nil, validation("Kiri does not provide DynamoDB resource policies: ResourcePolicy cannot be set")
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	k := tableKeyOf(ctx, awsproto.Value(in.TableName))
	if caller, region := callerScope(ctx); k.Account != caller || k.Region != region {
		return nil, validation("Kiri creates tables only in the caller's account and region")
	}
	t := &table{Key: k, Created: s.now().Truncate(time.Millisecond), Meta: m}
	metaJSON, err := json.Marshal(&t.Meta)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := readTableTx(tx, k)
		if err != nil {
			return err
		}
		if existing != nil {
			return resourceInUse("Table already exists: %s", k.Name)
		}
		s.tables.Changed(tx, k)
		if err := tx.QueryRow("INSERT INTO ddb_tables (account, region, name, created_at, meta) VALUES (?, ?, ?, ?, ?) RETURNING id",
			k.Account, k.Region, k.Name, t.Created.UnixMilli(), string(metaJSON)).Scan(&t.ID); err != nil {
			return fmt.Errorf("create table %s: %w", k.Name, err)
		}
		if in.StreamSpecification != nil && awsproto.Value(in.StreamSpecification.StreamEnabled) {
			if err := s.changeStream(tx, t, in.StreamSpecification); err != nil {
				return err
			}
			if err := s.saveMeta(tx, t); err != nil {
				return err
			}
		}
		return writeTags(tx, t.ID, tags)
	})
	if err != nil {
		return nil, err
	}
	d := s.description(t, 0, 0)
	d.TableStatus = awsproto.Ptr(statusCreating)
	for i := range d.GlobalSecondaryIndexes {
		d.GlobalSecondaryIndexes[i].IndexStatus = awsproto.Ptr(statusCreating)
	}
	return &CreateTableOutput{TableDescription: d}, nil
}

// description is a table's TableDescription with the given item count and size.
func (s *Service) description(t *table, count, size int64) *TableDescription {
	m := &t.Meta
	d := &TableDescription{
		TableName:                 awsproto.Ptr(t.Key.Name),
		TableArn:                  awsproto.Ptr(t.Key.arn()),
		TableId:                   awsproto.Ptr(m.TableID),
		TableStatus:               awsproto.Ptr(m.Status),
		CreationDateTime:          awsproto.Ptr(t.Created),
		ItemCount:                 awsproto.Ptr(count),
		TableSizeBytes:            awsproto.Ptr(size),
		KeySchema:                 schemaElems(m.Hash, m.Range),
		DeletionProtectionEnabled: awsproto.Ptr(m.DeletionProtection),
		ProvisionedThroughput: &ProvisionedThroughputDescription{ReadCapacityUnits: awsproto.Ptr(m.Read),
			WriteCapacityUnits: awsproto.Ptr(m.Write), NumberOfDecreasesToday: awsproto.Ptr(int64(0))},
	}
	for _, a := range m.Attrs {
		d.AttributeDefinitions = append(d.AttributeDefinitions, AttributeDefinition{AttributeName: awsproto.Ptr(a.Name), AttributeType: awsproto.Ptr(a.Type)})
	}
	if m.Billing == billingOnDemand {
		d.BillingModeSummary = &BillingModeSummary{BillingMode: awsproto.Ptr(billingOnDemand)}
		if m.BillingChanged != 0 {
			d.BillingModeSummary.LastUpdateToPayPerRequestDateTime = awsproto.Ptr(time.UnixMilli(m.BillingChanged))
		} else {
			d.BillingModeSummary.LastUpdateToPayPerRequestDateTime = awsproto.Ptr(t.Created)
		}
	} else if m.BillingChanged != 0 {
		d.BillingModeSummary = &BillingModeSummary{BillingMode: awsproto.Ptr(billingProvisioned)}
	}
	describeStream(d, t)
	if m.TableClass != "" {
		d.TableClassSummary = &TableClassSummary{TableClass: awsproto.Ptr(m.TableClass)}
	}
	for _, ix := range m.GSIs {
		gd := GlobalSecondaryIndexDescription{
			IndexName: awsproto.Ptr(ix.Name), IndexArn: awsproto.Ptr(t.Key.arn() + "/index/" + ix.Name),
			IndexStatus: awsproto.Ptr(ix.Status), KeySchema: schemaElems(ix.Hash, ix.Range),
			Projection: projectionOf(ix), ItemCount: awsproto.Ptr(int64(0)), IndexSizeBytes: awsproto.Ptr(int64(0)),
			ProvisionedThroughput: &ProvisionedThroughputDescription{ReadCapacityUnits: awsproto.Ptr(ix.Read),
				WriteCapacityUnits: awsproto.Ptr(ix.Write), NumberOfDecreasesToday: awsproto.Ptr(int64(0))},
		}
		if ix.Status == statusCreating {
			gd.Backfilling = awsproto.Ptr(true)
		}
		d.GlobalSecondaryIndexes = append(d.GlobalSecondaryIndexes, gd)
	}
	for _, ix := range m.LSIs {
		d.LocalSecondaryIndexes = append(d.LocalSecondaryIndexes, LocalSecondaryIndexDescription{
			IndexName: awsproto.Ptr(ix.Name), IndexArn: awsproto.Ptr(t.Key.arn() + "/index/" + ix.Name),
			KeySchema: schemaElems(ix.Hash, ix.Range), Projection: projectionOf(ix),
			ItemCount: awsproto.Ptr(int64(0)), IndexSizeBytes: awsproto.Ptr(int64(0)),
		})
	}
	return d
}

func schemaElems(hash, rng string) []KeySchemaElement {
	out := []KeySchemaElement{{AttributeName: awsproto.Ptr(hash), KeyType: awsproto.Ptr("HASH")}}
	if rng != "" {
		out = append(out, KeySchemaElement{AttributeName: awsproto.Ptr(rng), KeyType: awsproto.Ptr("RANGE")})
	}
	return out
}

func projectionOf(ix *indexMeta) *Projection {
	return &Projection{ProjectionType: awsproto.Ptr(ix.ProjType), NonKeyAttributes: ix.NonKey}
}

// describe is a table's description with its current item count and size, and its indexes'.
func (s *Service) describe(ctx context.Context, t *table) (*TableDescription, error) {
	var count, size int64
	if err := s.st.QueryRow(ctx, "SELECT COUNT(*), COALESCE(SUM(size), 0) FROM ddb_items WHERE table_id = ?", t.ID).Scan(&count, &size); err != nil {
		return nil, fmt.Errorf("count items of %s: %w", t.Key.Name, err)
	}
	d := s.description(t, count, size)
	rows, err := s.st.Query(ctx, "SELECT idx, COUNT(*), COALESCE(SUM(size), 0) FROM ddb_index_items WHERE table_id = ? GROUP BY idx", t.ID)
	if err != nil {
		return nil, fmt.Errorf("count index items of %s: %w", t.Key.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n, sz int64
		if err := rows.Scan(&name, &n, &sz); err != nil {
			return nil, err
		}
		for i := range d.GlobalSecondaryIndexes {
			if *d.GlobalSecondaryIndexes[i].IndexName == name {
				d.GlobalSecondaryIndexes[i].ItemCount, d.GlobalSecondaryIndexes[i].IndexSizeBytes = &n, &sz
			}
		}
		for i := range d.LocalSecondaryIndexes {
			if *d.LocalSecondaryIndexes[i].IndexName == name {
				d.LocalSecondaryIndexes[i].ItemCount, d.LocalSecondaryIndexes[i].IndexSizeBytes = &n, &sz
			}
		}
	}
	return d, rows.Err()
}

// existingTable loads the table a table operation names, refused with the table-level
// ResourceNotFoundException.
func (s *Service) existingTable(ctx context.Context, name *string) (*table, error) {
	k := tableKeyOf(ctx, awsproto.Value(name))
	t, err := s.loadTable(ctx, k)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, tableNotFound(k.Name)
	}
	return t, nil
}

func (s *Service) describeTable(ctx context.Context, in *DescribeTableInput) (*DescribeTableOutput, error) {
	t, err := s.existingTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return nil, err
	}
	return &DescribeTableOutput{Table: d}, nil
}

func (s *Service) deleteTable(ctx context.Context, in *DeleteTableInput) (*DeleteTableOutput, error) {
	t, err := s.existingTable(ctx, in.TableName)
	if err != nil {
		return nil, err
	}
	d, err := s.describe(ctx, t)
	if err != nil {
		return nil, err
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := currentTable(tx, t)
		if err != nil {
			return err
		}
		if cur.Meta.DeletionProtection {
			return resourceInUse("Table %s can't be deleted while DeletionProtectionEnabled is set to True", t.Key.arn())
		}
		if cur.Meta.Status != statusActive {
			return resourceInUse("Attempt to change a resource which is still in use: Table is being updated: %s", t.Key.Name)
		}
		s.tables.Changed(tx, t.Key)
		if _, err := tx.Exec("DELETE FROM ddb_tables WHERE id = ?", t.ID); err != nil {
			return fmt.Errorf("delete table %s: %w", t.Key.Name, err)
		}
		if _, err := tx.Exec("DELETE FROM ddb_tags WHERE table_id = ?", t.ID); err != nil {
			return fmt.Errorf("delete table %s: %w", t.Key.Name, err)
		}
		if err := s.closeTableStream(tx, cur); err != nil {
			return err
		}
		return s.enqueuePurge(tx, purgeJob{TableID: t.ID})
	})
	if err != nil {
		return nil, err
	}
	d.TableStatus = awsproto.Ptr(statusDeleting)
	return &DeleteTableOutput{TableDescription: d}, nil
}

// purgeJob deletes the rows of a deleted table, or of one deleted index when Index is set.
type purgeJob struct {
	TableID int64  `json:"table"`
	Index   string `json:"index,omitempty"`
}

func (s *Service) enqueuePurge(tx *store.Tx, j purgeJob) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	_, err = s.eng.Send(tx, topicPurge, queue.Outgoing{Body: b})
	return err
}

// purgeBatch bounds the rows one purge write deletes, so other writes interleave.
const purgeBatch = 500

// purge deletes a deleted table's (or index's) rows, a batch per write.
func (s *Service) purge(ctx context.Context, m queue.Message) error {
	var j purgeJob
	if err := json.Unmarshal(m.Body, &j); err != nil {
		return nil // not ours to retry
	}
	for {
		var n int64
		err := s.st.Write(ctx, func(tx *store.Tx) error {
			var res interface{ RowsAffected() (int64, error) }
			var err error
			if j.Index != "" {
				res, err = tx.Exec(`DELETE FROM ddb_index_items WHERE table_id = ? AND idx = ? AND hk IN
					(SELECT hk FROM ddb_index_items WHERE table_id = ? AND idx = ? LIMIT ?)`, j.TableID, j.Index, j.TableID, j.Index, purgeBatch)
			} else {
				res, err = tx.Exec(`DELETE FROM ddb_items WHERE table_id = ? AND (seg, hk) IN
					(SELECT seg, hk FROM ddb_items WHERE table_id = ? LIMIT ?)`, j.TableID, j.TableID, purgeBatch)
				if err == nil {
					var r2 interface{ RowsAffected() (int64, error) }
					r2, err = tx.Exec(`DELETE FROM ddb_index_items WHERE table_id = ? AND hk IN
						(SELECT hk FROM ddb_index_items WHERE table_id = ? LIMIT ?)`, j.TableID, j.TableID, purgeBatch)
					if err == nil {
						m, _ := r2.RowsAffected()
						n += m
					}
				}
			}
			if err != nil {
				return fmt.Errorf("purge table %d: %w", j.TableID, err)
			}
			c, _ := res.RowsAffected()
			n += c
			return nil
		})
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		n = 0
	}
}

func (s *Service) listTables(ctx context.Context, in *ListTablesInput) (*ListTablesOutput, error) {
	limit := 100
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	account, region := callerScope(ctx)
	names, err := storeStrings(s.st.Query(ctx, "SELECT name FROM ddb_tables WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
		account, region, awsproto.Value(in.ExclusiveStartTableName), limit+1))
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	out := &ListTablesOutput{TableNames: names}
	if len(names) > limit {
		out.TableNames = names[:limit]
		out.LastEvaluatedTableName = awsproto.Ptr(names[limit-1])
	}
	if out.TableNames == nil {
		out.TableNames = []string{}
	}
	return out, nil
}

var storeStrings = store.Strings

func (s *Service) describeEndpoints(ctx context.Context, in *DescribeEndpointsRequest) (*DescribeEndpointsResponse, error) {
	_, region := callerScope(ctx)
	addr := "dynamodb." + region + ".amazonaws.com"
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil && c.Request.Host != "" {
		addr = c.Request.Host
	}
	return &DescribeEndpointsResponse{Endpoints: []Endpoint{{Address: awsproto.Ptr(addr), CachePeriodInMinutes: awsproto.Ptr(int64(1440))}}}, nil
}

func (s *Service) describeLimits(ctx context.Context, in *DescribeLimitsInput) (*DescribeLimitsOutput, error) {
	return &DescribeLimitsOutput{
		AccountMaxReadCapacityUnits: awsproto.Ptr(int64(80000)), AccountMaxWriteCapacityUnits: awsproto.Ptr(int64(80000)),
		TableMaxReadCapacityUnits: awsproto.Ptr(int64(40000)), TableMaxWriteCapacityUnits: awsproto.Ptr(int64(40000)),
	}, nil
}
