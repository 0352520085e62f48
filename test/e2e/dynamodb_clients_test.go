package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// ddbBoto3Script drives DynamoDB through boto3's resource layer (Table, batch_writer,
// conditions, Decimal numbers, waiters, paginators) and its client's modeled exceptions.
const ddbBoto3Script = `
import sys, boto3, decimal
from boto3.dynamodb.conditions import Key, Attr
url, name = sys.argv[1], sys.argv[2]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key="x")
ddb = boto3.resource("dynamodb", **kw)
client = boto3.client("dynamodb", **kw)
t = ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}])
t.wait_until_exists()
with t.batch_writer() as bw:
    for i in range(60):
        bw.put_item(Item={"pk": "p", "sk": i, "price": decimal.Decimal("1.5") * i, "tags": {"a", "b"}, "blob": b"\x00\x01"})
r = t.query(KeyConditionExpression=Key("pk").eq("p") & Key("sk").between(10, 19), FilterExpression=Attr("price").gt(20))
assert [int(i["sk"]) for i in r["Items"]] == list(range(14, 20)), r["Items"]
assert r["Items"][0]["price"] == decimal.Decimal("21"), r["Items"][0]
assert r["Items"][0]["tags"] == {"a", "b"} and bytes(r["Items"][0]["blob"].value) == b"\x00\x01"
t.update_item(Key={"pk": "p", "sk": 1}, UpdateExpression="SET price = price + :d", ExpressionAttributeValues={":d": decimal.Decimal("0.25")})
assert t.get_item(Key={"pk": "p", "sk": 1})["Item"]["price"] == decimal.Decimal("1.75")
try:
    t.put_item(Item={"pk": "p", "sk": 1}, ConditionExpression="attribute_not_exists(pk)")
    raise SystemExit("conditional put succeeded")
except client.exceptions.ConditionalCheckFailedException as e:
    assert e.response["Error"]["Message"] == "The conditional request failed", e.response
try:
    client.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": name, "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}}, "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Put": {"TableName": name, "Item": {"pk": {"S": "q"}, "sk": {"N": "1"}}}}])
    raise SystemExit("transaction succeeded")
except client.exceptions.TransactionCanceledException as e:
    codes = [r["Code"] for r in e.response["CancellationReasons"]]
    assert codes == ["ConditionalCheckFailed", "None"], e.response
n = 0
for page in client.get_paginator("scan").paginate(TableName=name, PaginationConfig={"PageSize": 7}):
    n += len(page["Items"])
assert n == 60, n
t.delete()
t.wait_until_not_exists()
print("ok")
`

func TestDynamoDBBoto3(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	for i, b := range boto3Clients(t) {
		t.Run("boto3 "+b.Version, func(t *testing.T) {
			if out := b.run(t, ddbBoto3Script, srv.URL, "boto-"+strconv.Itoa(i)); strings.TrimSpace(out) != "ok" {
				t.Fatalf("script output %q", out)
			}
		})
	}
}

// TestDynamoDBAWSCLI drives DynamoDB through the AWS CLI: its waiter, shorthand and JSON
// arguments, and the pagination it does itself.
func TestDynamoDBAWSCLI(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{Strict: true})
	mustAWS(t, srv, "dynamodb", "create-table", "--table-name", "cli", "--billing-mode", "PAY_PER_REQUEST",
		"--attribute-definitions", "AttributeName=pk,AttributeType=S", "AttributeName=sk,AttributeType=N",
		"--key-schema", "AttributeName=pk,KeyType=HASH", "AttributeName=sk,KeyType=RANGE")
	mustAWS(t, srv, "dynamodb", "wait", "table-exists", "--table-name", "cli")
	var puts []string
	for i := range 12 {
		puts = append(puts, `{"PutRequest":{"Item":{"pk":{"S":"p"},"sk":{"N":"`+strconv.Itoa(i)+`"},"v":{"L":[{"S":"x"},{"BOOL":true}]}}}}`)
	}
	mustAWS(t, srv, "dynamodb", "batch-write-item", "--request-items", `{"cli":[`+strings.Join(puts, ",")+`]}`)
	var q struct {
		Items []map[string]map[string]any
		Count int
	}
	mustAWSJSON(t, srv, &q, "dynamodb", "query", "--table-name", "cli", "--key-condition-expression", "pk = :p AND sk >= :s",
		"--expression-attribute-values", `{":p":{"S":"p"},":s":{"N":"3"}}`, "--page-size", "4")
	if q.Count != 9 || len(q.Items) != 9 || q.Items[0]["sk"]["N"] != "3" {
		t.Fatalf("aws dynamodb query: %+v", q)
	}
	out, err := runAWS(t, srv, "dynamodb", "put-item", "--table-name", "cli", "--item", `{"pk":{"S":"p"},"sk":{"N":"1"}}`,
		"--condition-expression", "attribute_not_exists(pk)")
	if err == nil || !strings.Contains(out, "ConditionalCheckFailedException") {
		t.Fatalf("conditional put: %v\n%s", err, out)
	}
	var d struct {
		Table struct {
			TableStatus string
			ItemCount   int
		}
	}
	mustAWSJSON(t, srv, &d, "dynamodb", "describe-table", "--table-name", "cli")
	if d.Table.TableStatus != "ACTIVE" || d.Table.ItemCount != 12 {
		t.Fatalf("describe-table: %+v", d)
	}
	raw := mustAWS(t, srv, "dynamodb", "execute-statement", "--statement", `SELECT sk FROM "cli" WHERE pk = 'p' AND sk = 5`)
	var st struct{ Items []json.RawMessage }
	if err := json.Unmarshal([]byte(raw), &st); err != nil || len(st.Items) != 1 {
		t.Fatalf("execute-statement: %s", raw)
	}
	mustAWS(t, srv, "dynamodb", "delete-table", "--table-name", "cli")
	mustAWS(t, srv, "dynamodb", "wait", "table-not-exists", "--table-name", "cli")
}
