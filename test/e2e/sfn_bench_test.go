package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// BenchmarkStepFunctionsExpressPassChain is the first figure: state transitions per
// second of a chain of 1,000 Pass states in an Express workflow, one StartSyncExecution after
// another through aws-sdk-go-v2 (bench/sfnload compares it with aws-local-stepfunctions).
func BenchmarkStepFunctionsExpressPassChain(b *testing.B) {
	const n = 1000
	c := kiritest.Start(b, kiritest.Options{}).Clients().SFN
	states := make([]string, n)
	for i := range states {
		next := fmt.Sprintf(`"Next":"P%d"`, i+1)
		if i == n-1 {
			next = `"End":true`
		}
		states[i] = fmt.Sprintf(`"P%d":{"Type":"Pass",%s}`, i, next)
	}
	m, err := c.CreateStateMachine(b.Context(), &sfn.CreateStateMachineInput{Name: aws.String("chain"), Type: sfntypes.StateMachineTypeExpress,
		Definition: aws.String(`{"StartAt":"P0","States":{` + strings.Join(states, ",") + `}}`), RoleArn: aws.String(sfnRole)})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		out, err := c.StartSyncExecution(b.Context(), &sfn.StartSyncExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"x":1,"payload":"abc"}`)})
		if err != nil || out.Status != sfntypes.SyncExecutionStatusSucceeded {
			b.Fatal(out, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "transitions/s")
}
