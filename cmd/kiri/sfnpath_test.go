package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// TestSFNPathOfARecordedHistory prints the path of a history Kiri recorded (GetExecutionHistory
// through the AWS CLI) of an execution with a Parallel state holding a retried and caught task
// and a Map state.
func TestSFNPathOfARecordedHistory(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/sfn-history.json")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Events []types.HistoryEvent }
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	writePath(&out, buildPath(h.Events))
	want := `Prepare         Pass           0 ms
Fan             Parallel    2211 ms
  branch 0
    Lookup      Task        2211 ms  retries 2  caught DynamoDb.ResourceNotFoundException: Requested resource not found (Service: dynamodb, Status Code: 400, Error Code: ResourceNotFoundException)
    Fallback    Pass           0 ms
  branch 1
    Each        Map            0 ms
      iteration 0
        Double  Pass           0 ms
      iteration 1
        Double  Pass           0 ms
Check           Choice         0 ms
Fail            Fail              -  failed LookupFailed: the table is missing
`
	if out.String() != want {
		t.Errorf("path:\n%s\nwant:\n%s", out.String(), want)
	}
}
