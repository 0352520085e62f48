package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/pipes"
	ptypes "github.com/aws/aws-sdk-go-v2/service/pipes/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestPipeAPIDestinationEnrichmentAndTarget runs a pipe from a queue through an API
// destination enrichment (its answer is the enriched event) to an API destination target,
// each with its HttpParameters (dynamic values read from the event).
func TestPipeAPIDestinationEnrichmentAndTarget(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, func(c endpointCall, n int) (int, string) {
		if strings.HasPrefix(c.Path, "/enrich/") {
			var rec struct{ Body string }
			json.Unmarshal([]byte(c.Body), &rec)
			return 200, fmt.Sprintf(`{"order":%q,"customer":"c-9"}`, rec.Body)
		}
		return 200, "{}"
	})
	cl := kiritest.Start(t, kiritest.Options{}).Clients()
	c := cl.Events
	conn := createConnection(t, c, basicConnection("b", "pipe", "pw"))
	enrich := createDestination(t, c, "enrich", conn, ep.URL+"/enrich/*", ebtypes.ApiDestinationHttpMethodPost, 0)
	target := createDestination(t, c, "target", conn, ep.URL+"/target", ebtypes.ApiDestinationHttpMethodPost, 0)
	src := sqsQueue(t, cl.SQS, "p-src", nil)
	createPipe(t, cl.Pipes, &pipes.CreatePipeInput{Name: aws.String("http"), Source: aws.String(queueARN("p-src")), Enrichment: aws.String(enrich),
		EnrichmentParameters: &ptypes.PipeEnrichmentParameters{HttpParameters: &ptypes.PipeEnrichmentHttpParameters{
			PathParameterValues: []string{"$.messageId"}, HeaderParameters: map[string]string{"X-Step": "enrich"}}},
		Target: aws.String(target),
		TargetParameters: &ptypes.PipeTargetParameters{InputTemplate: aws.String(`{"who": <$.customer>, "what": <$.order>}`),
			HttpParameters: &ptypes.PipeTargetHttpParameters{QueryStringParameters: map[string]string{"customer": "$.customer"}}}})
	sendBodies(t, cl.SQS, src, "o-42")
	call := ep.waitCalls(t, "/target", 1, 15*time.Second)[0]
	if call.Body != `{"who": "c-9", "what": "o-42"}` || call.Query["customer"][0] != "c-9" || call.Header.Get("Authorization") == "" {
		t.Fatalf("target call: body %s, query %v, headers %v", call.Body, call.Query, call.Header)
	}
	ep.mu.Lock()
	defer ep.mu.Unlock()
	var enriched []endpointCall
	for _, c := range ep.calls {
		if strings.HasPrefix(c.Path, "/enrich/") {
			enriched = append(enriched, c)
		}
	}
	// The path parameter is the record's messageId, read from the event.
	if len(enriched) != 1 || len(strings.TrimPrefix(enriched[0].Path, "/enrich/")) != 36 || enriched[0].Header.Get("X-Step") != "enrich" {
		t.Fatalf("enrichment calls %+v", enriched)
	}
}
