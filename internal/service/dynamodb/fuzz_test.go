package dynamodb

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/store/storetest"
)

// fuzzOps are the operations the request fuzzer sends bodies to.
var fuzzOps = []string{"PutItem", "GetItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem",
	"TransactWriteItems", "TransactGetItems", "ExecuteStatement", "CreateTable", "UpdateTable"}

// FuzzRequests sends arbitrary bodies to the item, read, batch, transaction, statement and
// table operations of a service holding a table with indexes: every answer is an AWS error
// or a success, never an internal failure.
func FuzzRequests(f *testing.F) {
	seeds := []string{
		`{"TableName":"tbl","Item":{"pk":{"S":"a"},"sk":{"N":"1"},"g":{"S":"x"}}}`,
		`{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"UpdateExpression":"SET #a = if_not_exists(#a, :z) + :one","ExpressionAttributeNames":{"#a":"n"},"ExpressionAttributeValues":{":z":{"N":"0"},":one":{"N":"1"}}}`,
		`{"TableName":"tbl","KeyConditionExpression":"pk = :p AND begins_with(sk, :s)","ExpressionAttributeValues":{":p":{"S":"a"},":s":{"S":"x"}},"ExclusiveStartKey":{"pk":{"S":"a"},"sk":{"N":"1"}}}`,
		`{"TableName":"tbl","IndexName":"gsi","Segment":1,"TotalSegments":3,"Limit":2}`,
		`{"RequestItems":{"tbl":{"Keys":[{"pk":{"S":"a"},"sk":{"N":"1"}}]}}}`,
		`{"TransactItems":[{"Put":{"TableName":"tbl","Item":{"pk":{"S":"b"},"sk":{"N":"2"}}}},{"ConditionCheck":{"TableName":"tbl","Key":{"pk":{"S":"a"},"sk":{"N":"1"}},"ConditionExpression":"attribute_exists(pk)"}}]}`,
		`{"Statement":"UPDATE \"tbl\" SET n = n + ? WHERE pk = 'a' AND sk = 1","Parameters":[{"N":"1"}]}`,
		`{"TableName":"tbl","GlobalSecondaryIndexUpdates":[{"Create":{"IndexName":"hhh","KeySchema":[{"AttributeName":"h","KeyType":"HASH"}],"Projection":{"ProjectionType":"ALL"}}}],"AttributeDefinitions":[{"AttributeName":"h","AttributeType":"B"}]}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), s)
	}
	h := newHarness(f, storetest.SQLiteConfig)
	ctx := context.Background()
	setup := []struct{ op, body string }{
		{"CreateTable", `{"TableName":"tbl","BillingMode":"PAY_PER_REQUEST","AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"},{"AttributeName":"sk","AttributeType":"N"},{"AttributeName":"g","AttributeType":"S"}],
			"KeySchema":[{"AttributeName":"pk","KeyType":"HASH"},{"AttributeName":"sk","KeyType":"RANGE"}],
			"GlobalSecondaryIndexes":[{"IndexName":"gsi","KeySchema":[{"AttributeName":"g","KeyType":"HASH"}],"Projection":{"ProjectionType":"KEYS_ONLY"}}]}`},
		{"PutItem", seeds[0]},
	}
	for _, s := range setup {
		if status, body := post(ctx, h.url, s.op, s.body); status != http.StatusOK {
			f.Fatalf("%s: %d %s", s.op, status, body)
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, body string) {
		name := fuzzOps[int(op)%len(fuzzOps)]
		status, resp := post(ctx, h.url, name, body)
		if status >= 500 {
			t.Fatalf("%s %q: %d %s", name, body, status, resp)
		}
		if status != http.StatusOK && !strings.Contains(resp, `"__type"`) {
			t.Fatalf("%s %q: %d without an error type: %s", name, body, status, resp)
		}
	})
}

// fuzzClient bounds each request, so an input that hangs the service fails the fuzz.
var fuzzClient = &http.Client{Timeout: 10 * time.Second}

func post(ctx context.Context, url, op, body string) (int, string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/", strings.NewReader(body))
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=x")
	resp, err := fuzzClient.Do(req)
	if err != nil {
		return 599, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
