package dynamodb

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
	"github.com/kiri-run/kiri/internal/service/servicetest"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/store/storetest"
	"github.com/kiri-run/kiri/internal/telemetry"
	"github.com/kiri-run/kiri/test/sdkretry"
)

// harness is the DynamoDB service behind a real edge on an httptest server. Its queue engine
// is not running: tests call the background work (sweeps, backfills) themselves.
type harness struct {
	svc    *Service
	url    string
	client *dynamodb.Client
}

func newHarness(t testing.TB, cfg func(testing.TB) store.Config) *harness {
	t.Helper()
	st := storetest.Open(t, cfg(t))
	d := servicetest.DepsOn(t, st)
	svc, err := New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	e := edge.New(edge.Config{
		Router:  awsproto.NewRouter(svc.API()),
		Auth:    auth.New(auth.Config{Mode: auth.Dev}),
		Metrics: telemetry.NewMetrics(),
		Logger:  d.Logger,
	})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIAIOSFODNN7EXAMPLE", "secret", ""),
		BaseEndpoint: aws.String(srv.URL),
		Retryer:      sdkretry.New(),
	})
	return &harness{svc: svc, url: srv.URL, client: client}
}

func (h *harness) createTable(t testing.TB, name string) {
	t.Helper()
	_, err := h.client.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTimeToLiveRemovesExpiredItems enables TTL on a table holding items that expire at
// different times; each sweep removes exactly the items past their time.
func TestTimeToLiveRemovesExpiredItems(t *testing.T) {
	t.Parallel()
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, b.Config)
			ctx := context.Background()
			now := time.Unix(1_700_000_000, 0)
			h.svc.now = func() time.Time { return now }
			h.createTable(t, "ttl")
			put := func(pk string, exp ddbtypes.AttributeValue) {
				item := map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: pk}}
				if exp != nil {
					item["exp"] = exp
				}
				if _, err := h.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("ttl"), Item: item}); err != nil {
					t.Fatal(err)
				}
			}
			at := func(d time.Duration) ddbtypes.AttributeValue {
				return &ddbtypes.AttributeValueMemberN{Value: awsNum(now.Add(d).Unix())}
			}
			put("before-enable", at(10*time.Second)) // written before TTL is on: indexed when it is turned on
			if _, err := h.client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("ttl"),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}}); err != nil {
				t.Fatal(err)
			}
			put("soon", at(20*time.Second))
			put("later", at(time.Hour))
			put("never", nil)
			put("not-a-number", &ddbtypes.AttributeValueMemberS{Value: "1"})
			count := func() int32 {
				out, err := h.client.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("ttl"), Select: ddbtypes.SelectCount})
				if err != nil {
					t.Fatal(err)
				}
				return out.Count
			}
			for _, step := range []struct {
				after time.Duration
				want  int32
			}{{5 * time.Second, 5}, {15 * time.Second, 4}, {25 * time.Second, 3}, {2 * time.Hour, 2}} {
				now = time.Unix(1_700_000_000, 0).Add(step.after)
				if err := h.svc.sweepExpired(ctx); err != nil {
					t.Fatal(err)
				}
				if got := count(); got != step.want {
					t.Fatalf("after %v: %d items, want %d", step.after, got, step.want)
				}
			}
		})
	}
}

func awsNum(n int64) string { return strconv.FormatInt(n, 10) }
