package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkDynamoDB measures the item hot paths through aws-sdk-go-v2 from 16 clients against a
// durable server in this process, as bench/ddbload does: PutItem of new 200-byte items, and
// strongly consistent GetItem of items the puts wrote. Both report items per second.
func BenchmarkDynamoDB(b *testing.B) {
	srv := kiritest.Start(b, kiritest.Options{DataDir: b.TempDir()})
	c := srv.Clients().DynamoDB
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("bench"), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		b.Fatal(err)
	}
	payload := ddbS(fmt.Sprintf("%0200d", 0))
	var written atomic.Int64
	b.Run("PutItem", func(b *testing.B) {
		b.SetParallelism(8) // 16 clients on 2 CPUs
		start := time.Now()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := strconv.FormatInt(written.Add(1), 10)
				if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bench"),
					Item: map[string]ddbtypes.AttributeValue{"pk": ddbS(k), "payload": payload}}); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "items/s")
	})
	b.Run("GetItem", func(b *testing.B) {
		if written.Load() == 0 {
			b.Skip("no items written")
		}
		b.SetParallelism(8)
		start := time.Now()
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				k := strconv.FormatInt(1+rand.Int64N(written.Load()), 10)
				out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("bench"), ConsistentRead: aws.Bool(true),
					Key: map[string]ddbtypes.AttributeValue{"pk": ddbS(k)}})
				if err != nil || out.Item == nil {
					b.Errorf("GetItem %s: %v, item %v", k, err, out != nil && out.Item != nil)
					return
				}
				n.Add(1)
			}
		})
		b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "items/s")
	})
}
