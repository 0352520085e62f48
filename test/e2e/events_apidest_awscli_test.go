package e2e

import (
	"strings"
	"testing"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestAWSCLIConnectionsAndAPIDestinations drives connections and API destinations with the AWS
// CLI v2.9, whose model predates private connectivity: an OAuth connection described without its
// secret, an API destination on it, and the CLI's rendering of a refusal.
func TestAWSCLIConnectionsAndAPIDestinations(t *testing.T) {
	t.Parallel()
	srv := kiritest.Start(t, kiritest.Options{})
	token := newOAuthServer(t)
	auth := `{"OAuthParameters":{"ClientParameters":{"ClientID":"cli-client","ClientSecret":"cli-secret"},` +
		`"AuthorizationEndpoint":"` + token.URL + `/token","HttpMethod":"POST",` +
		`"OAuthHttpParameters":{"BodyParameters":[{"Key":"grant_type","Value":"client_credentials"}]}}}`
	var created struct{ ConnectionArn, ConnectionState string }
	mustAWSJSON(t, srv, &created, "events", "create-connection", "--name", "cli-oauth", "--authorization-type", "OAUTH_CLIENT_CREDENTIALS",
		"--auth-parameters", auth)
	if created.ConnectionState != "AUTHORIZING" || !strings.Contains(created.ConnectionArn, ":connection/cli-oauth/") {
		t.Fatalf("create-connection: %+v", created)
	}
	out := mustAWS(t, srv, "events", "describe-connection", "--name", "cli-oauth")
	if strings.Contains(out, "cli-secret") || !strings.Contains(out, "cli-client") || !strings.Contains(out, "events!connection/cli-oauth/") {
		t.Fatalf("describe-connection:\n%s", out)
	}
	var dest struct{ ApiDestinationArn, ApiDestinationState string }
	mustAWSJSON(t, srv, &dest, "events", "create-api-destination", "--name", "cli-dest", "--connection-arn", created.ConnectionArn,
		"--invocation-endpoint", "https://api.example.com/*", "--http-method", "POST", "--invocation-rate-limit-per-second", "10")
	if !strings.Contains(dest.ApiDestinationArn, ":api-destination/cli-dest/") {
		t.Fatalf("create-api-destination: %+v", dest)
	}
	var list struct{ ApiDestinations []struct{ Name string } }
	mustAWSJSON(t, srv, &list, "events", "list-api-destinations", "--connection-arn", created.ConnectionArn)
	if len(list.ApiDestinations) != 1 || list.ApiDestinations[0].Name != "cli-dest" {
		t.Fatalf("list-api-destinations: %+v", list)
	}
	got, err := runAWS(t, srv, "events", "delete-connection", "--name", "missing")
	if err == nil || !strings.Contains(got, "ResourceNotFoundException") {
		t.Fatalf("delete-connection of a missing connection: %v\n%s", err, got)
	}
}
