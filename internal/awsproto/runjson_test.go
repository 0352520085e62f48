package awsproto_test

import (
	"context"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	api "github.com/kiri-run/kiri/internal/awsproto/internal/testapi/stsapi"
)

// TestRunJSON runs a query-protocol operation from SDK-named JSON: members decode by their
// model names, the output comes back named likewise, and what the model lacks is refused.
func TestRunJSON(t *testing.T) {
	t.Parallel()
	s := mustService(t, "sts", awsproto.ServiceOptions{})
	awsproto.Handle(s, "AssumeRole", func(ctx context.Context, in *api.AssumeRoleRequest) (*api.AssumeRoleResponse, error) {
		if len(in.Tags) != 1 || awsproto.Value(in.Tags[0].Key) != "k" || awsproto.Value(in.DurationSeconds) != 900 {
			return nil, awsproto.Errorf("InvalidParameterValue", 400, "not decoded: %+v", in)
		}
		return &api.AssumeRoleResponse{AssumedRoleUser: &api.AssumedRoleUser{Arn: in.RoleArn,
			AssumedRoleId: awsproto.Ptr(awsproto.CallFrom(ctx).PrincipalARN)}}, nil
	})
	call := &awsproto.Call{AccountID: "000000000000", PrincipalARN: "p"}
	out, err := s.RunJSON(t.Context(), call, "AssumeRole",
		[]byte(`{"RoleArn":"arn:aws:iam::000000000000:role/r","RoleSessionName":"ss","DurationSeconds":900,"Tags":[{"Key":"k","Value":"v"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"AssumedRoleUser":{"Arn":"arn:aws:iam::000000000000:role/r","AssumedRoleId":"p"}}`; string(out) != want {
		t.Errorf("output %s, want %s", out, want)
	}
	if _, err := s.RunJSON(t.Context(), &awsproto.Call{}, "AssumeRole", []byte(`{"RoleArn":"arn:aws:iam::000000000000:role/r","Nope":1}`)); err == nil {
		t.Error("an unknown member was accepted")
	}
	if _, err := s.RunJSON(t.Context(), &awsproto.Call{}, "AssumeRole", []byte(`{"RoleSessionName":"s"}`)); err == nil || err.Code != "ValidationError" {
		t.Errorf("a missing required member: %v", err)
	}
	if s.HasOperation("AssumeRoles") || !s.HasOperation("AssumeRole") {
		t.Error("HasOperation")
	}
}
