package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/schemas"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestSchemasSurviveKill checks that schemas and a started discoverer survive kill -9: after
// the restart the schema is there and the discoverer still sees what its bus accepts.
func TestSchemasSurviveKill(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	p := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	cl := p.Server.Clients()
	sc := schemas.NewFromConfig(cl.Config)
	if _, err := sc.CreateRegistry(ctx, &schemas.CreateRegistryInput{RegistryName: aws.String("kept")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.CreateSchema(ctx, &schemas.CreateSchemaInput{RegistryName: aws.String("kept"), SchemaName: aws.String("S"),
		Type: "JSONSchemaDraft4", Content: aws.String(`{"type":"object"}`)}); err != nil {
		t.Fatal(err)
	}
	bus, err := cl.Events.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("watched")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.CreateDiscoverer(ctx, &schemas.CreateDiscovererInput{SourceArn: bus.EventBusArn}); err != nil {
		t.Fatal(err)
	}
	p.Kill()

	p2 := kiritest.StartProcess(t, kiritest.Options{DataDir: dir})
	cl = p2.Server.Clients()
	sc = schemas.NewFromConfig(cl.Config)
	d, err := sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("kept"), SchemaName: aws.String("S")})
	if err != nil || aws.ToString(d.Content) != `{"type":"object"}` {
		t.Fatalf("DescribeSchema after restart = %+v, %v", d, err)
	}
	if _, err := cl.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String("watched"), Source: aws.String("app"), DetailType: aws.String("Thing Happened"), Detail: aws.String(`{"a":1}`)}}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := sc.DescribeSchema(ctx, &schemas.DescribeSchemaInput{RegistryName: aws.String("discovered-schemas"), SchemaName: aws.String("app@ThingHappened")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing discovered after the restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
