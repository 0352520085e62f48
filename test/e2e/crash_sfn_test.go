package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/kiri-run/kiri/test/e2e/kiritest"
)

// TestCrashResumesStepFunctionsExecutions kills Kiri with SIGKILL while writers start Standard
// executions of a state machine that waits on a durable timer, runs DynamoDB tasks, fans out
// through a Parallel and an inline Map and retries a failing branch, restarts it, and checks
// that every acknowledged execution exists after each restart and, after the last one,
// SUCCEEDED with a well-formed history, each of its tasks' effects applied as Step Functions
// promises.
//
// The promise (AWS documents it for Standard workflows): each state transition is committed
// exactly once; a task runs at least once. A task whose result was committed never runs
// again; a task running when Kiri was killed had no result committed and runs again after
// the restart, so its effect may be applied twice. Each task here adds one to a counter of
// its own and its result carries the counter's new value, which the history records. So
// after the last restart, for every counter: its value is the value the last committed
// result of its tasks carried (nothing ran after a commit), it is at least the number of its
// tasks scheduled (each ran), and what it holds beyond that is the reruns of tasks cut short
// by a kill, at most what can run at once (Kiri runs up to sfnCrashTaskSlots tasks at a
// time) per kill.
func TestCrashResumesStepFunctionsExecutions(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs Kiri as a subprocess for several seconds")
	}
	const cycles = 3
	path := &sfnCrashPath{}
	kiritest.RunCrash(t, kiritest.CrashOptions{
		Paths:   []kiritest.WritePath{path},
		Writers: 8,
		Cycles:  cycles,
		Load:    1500 * time.Millisecond,
		Settle: func(t *testing.T, p *kiritest.Process, acks map[string][]string) {
			path.settle(t, p.Clients(), acks[path.Name()], cycles)
		},
	})
}

const (
	sfnCrashMachine = "crash-sfn"
	sfnCrashTable   = "crash-sfn-effects"
	// sfnCrashTaskSlots is how many tasks Kiri runs at once: at most that many are cut short
	// by one kill.
	sfnCrashTaskSlots = 16
	// sfnCrashPace is how long a writer rests after each start, so that the executions of a
	// cycle finish within the settle time on a small machine.
	sfnCrashPace = 60 * time.Millisecond
)

// sfnCrashTask is a DynamoDB task adding one to the counter keyExpr names and putting the
// counter's new value at resultPath ("$" for its whole output).
func sfnCrashTask(keyExpr, resultPath, next string) string {
	tail := `"ResultPath":"` + resultPath + `","End":true`
	if next != "" {
		tail = `"ResultPath":"` + resultPath + `","Next":"` + next + `"`
	}
	return `{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem",
		"Parameters":{"TableName":"` + sfnCrashTable + `","Key":{"pk":{"S.$":"` + keyExpr + `"}},
			"UpdateExpression":"ADD runs :one","ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"ALL_NEW"},
		"ResultSelector":{"runs.$":"$.Attributes.runs.N"},` + tail + `}`
}

// sfnCrashDefinition: a Pass chain, a one-second Wait (a durable timer), a task, a Parallel
// whose first branch's task fails the branch on its first attempt (the Parallel's Retry runs
// both branches again after a one-second backoff), and an inline Map of three items to a task
// each.
var sfnCrashDefinition = `{"StartAt":"Prep","States":{
	"Prep":{"Type":"Pass","Result":["a","b","c"],"ResultPath":"$.items","Next":"Stamp"},
	"Stamp":{"Type":"Pass","Parameters":{"items.$":"$.items","name.$":"$$.Execution.Name"},"Next":"Nap"},
	"Nap":{"Type":"Wait","Seconds":1,"Next":"Count"},
	"Count":` + sfnCrashTask(`States.Format('{}#count', $.name)`, "$.count", "Fan") + `,
	"Fan":{"Type":"Parallel","ResultPath":"$.fan","Next":"Each",
		"Retry":[{"ErrorEquals":["NotYet"],"IntervalSeconds":1,"MaxAttempts":2,"BackoffRate":1}],
		"Branches":[
			{"StartAt":"Try","States":{
				"Try":` + sfnCrashTask(`States.Format('{}#try', $.name)`, "$", "Ready") + `,
				"Ready":{"Type":"Choice","Choices":[{"Variable":"$.runs","StringEquals":"1","Next":"NotYet"}],"Default":"Tried"},
				"NotYet":{"Type":"Fail","Error":"NotYet","Cause":"the first attempt fails"},
				"Tried":{"Type":"Pass","End":true}}},
			{"StartAt":"Side","States":{"Side":{"Type":"Pass","Result":"side","End":true}}}]},
	"Each":{"Type":"Map","ItemsPath":"$.items","ResultPath":"$.marks","Next":"Done",
		"ItemSelector":{"name.$":"$.name","item.$":"$$.Map.Item.Value"},
		"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"Mark","States":{
			"Mark":` + sfnCrashTask(`States.Format('{}#item-{}', $.name, $.item)`, "$", "") + `}}},
	"Done":{"Type":"Pass","End":true}}}`

// sfnCrashPath writes through StartExecution of a Standard state machine; the ack is the
// execution's ARN.
type sfnCrashPath struct {
	machine string
	// resumed counts, per restart, the acknowledged executions still running when it was
	// verified: those the kill caught between transitions, resumed by the restarted Kiri.
	resumed []int
}

func (*sfnCrashPath) Name() string { return "states.StartExecution" }

func (p *sfnCrashPath) Prepare(ctx context.Context, c *kiritest.Clients) error {
	if _, err := c.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(sfnCrashTable), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		return err
	}
	out, err := c.SFN.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(sfnCrashMachine),
		Definition: aws.String(sfnCrashDefinition), RoleArn: aws.String(sfnRole)})
	if err != nil {
		return err
	}
	p.machine = aws.ToString(out.StateMachineArn)
	return nil
}

func (p *sfnCrashPath) Write(ctx context.Context, c *kiritest.Clients, worker, seq int) (string, error) {
	out, err := c.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(p.machine),
		Name: aws.String(fmt.Sprintf("w%d-s%d", worker, seq)), Input: aws.String(`{}`)})
	if err != nil {
		return "", err
	}
	select {
	case <-ctx.Done():
	case <-time.After(sfnCrashPace):
	}
	return aws.ToString(out.ExecutionArn), nil
}

// Verify checks every acknowledged execution exists (it may still run).
func (p *sfnCrashPath) Verify(ctx context.Context, c *kiritest.Clients, acks []string) error {
	var running atomic.Int64
	err := verifyEach(acks, "acknowledged executions lost", func(arn string) error {
		d, err := c.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err == nil && d.Status == sfntypes.ExecutionStatusRunning {
			running.Add(1)
		}
		return err
	})
	p.resumed = append(p.resumed, int(running.Load()))
	return err
}

// settle waits for every execution to end, then checks each acknowledged one SUCCEEDED with
// a well-formed history, and that every counter its tasks added to holds what the promise
// allows.
func (p *sfnCrashPath) settle(t *testing.T, c *kiritest.Clients, acks []string, kills int) {
	ctx := t.Context()
	start := time.Now()
	for {
		out, err := c.SFN.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: aws.String(p.machine),
			StatusFilter: sfntypes.ExecutionStatusRunning, MaxResults: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Executions) == 0 {
			break
		}
		if time.Since(start) > time.Minute {
			t.Fatalf("executions still RUNNING a minute after the last restart, e.g. %s", aws.ToString(out.Executions[0].ExecutionArn))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s: executions running through each restart: %v; all ended %s after the last restart's checks",
		p.Name(), p.resumed, time.Since(start).Round(time.Millisecond))

	var (
		mu    sync.Mutex
		tally = newSFNCrashTally()
	)
	err := verifyEach(acks, "acknowledged executions did not succeed whole", func(arn string) error {
		d, err := c.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			return err
		}
		if d.Status != sfntypes.ExecutionStatusSucceeded {
			return fmt.Errorf("%s ended %s: %s %s", arn, d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
		}
		var events []sfntypes.HistoryEvent
		pages := sfn.NewGetExecutionHistoryPaginator(c.SFN, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
		for pages.HasMorePages() {
			pg, err := pages.NextPage(ctx)
			if err != nil {
				return err
			}
			events = append(events, pg.Events...)
		}
		one := newSFNCrashTally()
		if err := one.add(events); err != nil {
			return fmt.Errorf("%s: %w", arn, err)
		}
		mu.Lock()
		tally.merge(one)
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	counters := map[string]int{}
	pages := dynamodb.NewScanPaginator(c.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(sfnCrashTable), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		pg, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range pg.Items {
			pk, _ := item["pk"].(*ddbtypes.AttributeValueMemberS)
			runs, _ := item["runs"].(*ddbtypes.AttributeValueMemberN)
			if pk == nil || runs == nil {
				t.Fatalf("effect item %v", item)
			}
			counters[pk.Value], _ = strconv.Atoi(runs.Value)
		}
	}
	reruns, err := tally.check(counters)
	if err != nil {
		t.Fatal(err)
	}
	if limit := kills * sfnCrashTaskSlots; reruns > limit {
		t.Fatalf("%d task runs beyond one per scheduled task; at most %d tasks can be cut short by %d kills", reruns, limit, kills)
	}
	t.Logf("%s: %d executions SUCCEEDED with well-formed histories (%d events, %d tasks scheduled, %d Parallel retries); "+
		"no committed task ran again; %d tasks in flight at a kill ran again", p.Name(), len(acks), tally.events, tally.tasks, tally.retries, reruns)
}

// sfnCrashTally is what histories say of the tasks' counters.
type sfnCrashTally struct {
	events, tasks, retries int
	scheduled              map[string]int   // tasks scheduled per counter
	committed              map[string][]int // the counter values committed results carried, in history order
}

func newSFNCrashTally() *sfnCrashTally {
	return &sfnCrashTally{scheduled: map[string]int{}, committed: map[string][]int{}}
}

func (t *sfnCrashTally) merge(o *sfnCrashTally) {
	t.events += o.events
	t.tasks += o.tasks
	t.retries += o.retries
	for k, n := range o.scheduled {
		t.scheduled[k] += n
	}
	for k, v := range o.committed {
		t.committed[k] = append(t.committed[k], v...)
	}
}

// add checks one execution's history is well formed and tallies its tasks: ids 1..n, each
// previousEventId pointing back to an earlier event, one ExecutionStarted first and one
// ExecutionSucceeded last, one exit per entry of each state but a Fail state, nothing
// aborted, no event recorded twice (two
// events alike but for their ids and times, following the same event: a transition recorded
// twice), one TaskScheduled per task state entered, and each scheduled task started and
// succeeded once.
func (t *sfnCrashTally) add(events []sfntypes.HistoryEvent) error {
	if len(events) < 2 {
		return fmt.Errorf("history of %d events", len(events))
	}
	byID := map[int64]sfntypes.HistoryEvent{}
	seen := map[string]int64{}
	count := map[sfntypes.HistoryEventType]int{}
	visits := map[string]int{}
	for i, e := range events {
		if e.Id != int64(i+1) {
			return fmt.Errorf("event %d has id %d", i+1, e.Id)
		}
		if e.PreviousEventId < 0 || e.PreviousEventId >= e.Id {
			return fmt.Errorf("event %d (%s) follows %d", e.Id, e.Type, e.PreviousEventId)
		}
		same := e
		same.Id, same.Timestamp = 0, nil
		fp, _ := json.Marshal(same)
		if twin, ok := seen[string(fp)]; ok {
			return fmt.Errorf("events %d and %d are the same %s following event %d: a transition recorded twice", twin, e.Id, e.Type, e.PreviousEventId)
		}
		seen[string(fp)] = e.Id
		byID[e.Id] = e
		count[e.Type]++
		switch typ := string(e.Type); {
		case e.Type == sfntypes.HistoryEventTypeFailStateEntered:
			// A Fail state ends its branch where it is entered: it records no exit.
		case strings.HasSuffix(typ, "StateAborted"):
			return fmt.Errorf("event %d: %s, though nothing in the machine is stopped", e.Id, typ)
		case strings.HasSuffix(typ, "StateEntered"):
			visits[aws.ToString(e.StateEnteredEventDetails.Name)]++
		case strings.HasSuffix(typ, "StateExited"):
			visits[aws.ToString(e.StateExitedEventDetails.Name)]--
		}
		switch e.Type {
		case sfntypes.HistoryEventTypeTaskScheduled:
			if prev := byID[e.PreviousEventId]; prev.Type != sfntypes.HistoryEventTypeTaskStateEntered {
				return fmt.Errorf("TaskScheduled %d follows %s %d, not the task state's entry", e.Id, prev.Type, prev.Id)
			}
			key, err := sfnCrashKey(aws.ToString(e.TaskScheduledEventDetails.Parameters))
			if err != nil {
				return fmt.Errorf("TaskScheduled %d: %w", e.Id, err)
			}
			t.scheduled[key]++
			t.tasks++
		case sfntypes.HistoryEventTypeTaskSucceeded:
			var out struct {
				Attributes struct {
					Pk   struct{ S string }
					Runs struct{ N string }
				}
			}
			if err := json.Unmarshal([]byte(aws.ToString(e.TaskSucceededEventDetails.Output)), &out); err != nil {
				return fmt.Errorf("TaskSucceeded %d: %w", e.Id, err)
			}
			runs, err := strconv.Atoi(out.Attributes.Runs.N)
			if err != nil || out.Attributes.Pk.S == "" {
				return fmt.Errorf("TaskSucceeded %d output %s", e.Id, aws.ToString(e.TaskSucceededEventDetails.Output))
			}
			t.committed[out.Attributes.Pk.S] = append(t.committed[out.Attributes.Pk.S], runs)
		}
	}
	if events[0].Type != sfntypes.HistoryEventTypeExecutionStarted || count[sfntypes.HistoryEventTypeExecutionStarted] != 1 {
		return fmt.Errorf("history starts with %s and holds %d ExecutionStarted", events[0].Type, count[sfntypes.HistoryEventTypeExecutionStarted])
	}
	last := events[len(events)-1]
	ends := 0
	for _, typ := range []sfntypes.HistoryEventType{sfntypes.HistoryEventTypeExecutionSucceeded, sfntypes.HistoryEventTypeExecutionFailed,
		sfntypes.HistoryEventTypeExecutionAborted, sfntypes.HistoryEventTypeExecutionTimedOut} {
		ends += count[typ]
	}
	if last.Type != sfntypes.HistoryEventTypeExecutionSucceeded || ends != 1 {
		return fmt.Errorf("history ends with %s and holds %d terminal events", last.Type, ends)
	}
	for name, n := range visits {
		if n != 0 {
			return fmt.Errorf("state %s entered %d times more than exited", name, n)
		}
	}
	tasks := count[sfntypes.HistoryEventTypeTaskStateEntered]
	for _, typ := range []sfntypes.HistoryEventType{sfntypes.HistoryEventTypeTaskScheduled, sfntypes.HistoryEventTypeTaskStarted,
		sfntypes.HistoryEventTypeTaskSucceeded} {
		if count[typ] != tasks {
			return fmt.Errorf("%d task states entered, %d %s", tasks, count[typ], typ)
		}
	}
	t.events += len(events)
	t.retries += count[sfntypes.HistoryEventTypeParallelStateStarted] - count[sfntypes.HistoryEventTypeParallelStateEntered]
	return nil
}

// sfnCrashKey is the counter a scheduled task's parameters name.
func sfnCrashKey(params string) (string, error) {
	var p struct {
		Key struct{ Pk struct{ S string } }
	}
	if err := json.Unmarshal([]byte(params), &p); err != nil || p.Key.Pk.S == "" {
		return "", fmt.Errorf("parameters %s name no counter (%v)", params, err)
	}
	return p.Key.Pk.S, nil
}

// check holds the tally against the counters' final values and returns how many task runs
// there were beyond one per scheduled task.
func (t *sfnCrashTally) check(counters map[string]int) (reruns int, err error) {
	for key, n := range t.scheduled {
		got := counters[key]
		values := t.committed[key]
		if len(values) != n {
			return 0, fmt.Errorf("%s: %d tasks scheduled, %d results committed", key, n, len(values))
		}
		for i := 1; i < len(values); i++ {
			if values[i] <= values[i-1] {
				return 0, fmt.Errorf("%s: committed results carry %v, not increasing", key, values)
			}
		}
		if last := values[len(values)-1]; got != last {
			return 0, fmt.Errorf("%s: counter is %d, the last committed result carried %d: a task ran after its result was committed", key, got, last)
		}
		if got < n {
			return 0, fmt.Errorf("%s: counter is %d after %d tasks", key, got, n)
		}
		reruns += got - n
	}
	return reruns, nil
}

// TestSFNCrashChecksCatchDefects proves the checks of the Step Functions crash test are not
// vacuous: each rejects a history or a counter a defect would leave.
func TestSFNCrashChecksCatchDefects(t *testing.T) {
	t.Parallel()
	task := func(id, prev int64, typ sfntypes.HistoryEventType) sfntypes.HistoryEvent {
		e := sfntypes.HistoryEvent{Id: id, PreviousEventId: prev, Type: typ}
		switch typ {
		case sfntypes.HistoryEventTypeTaskStateEntered:
			e.StateEnteredEventDetails = &sfntypes.StateEnteredEventDetails{Name: aws.String("Count")}
		case sfntypes.HistoryEventTypeTaskStateExited:
			e.StateExitedEventDetails = &sfntypes.StateExitedEventDetails{Name: aws.String("Count")}
		case sfntypes.HistoryEventTypeTaskScheduled:
			e.TaskScheduledEventDetails = &sfntypes.TaskScheduledEventDetails{Parameters: aws.String(`{"Key":{"pk":{"S":"x#count"}}}`)}
		case sfntypes.HistoryEventTypeTaskSucceeded:
			e.TaskSucceededEventDetails = &sfntypes.TaskSucceededEventDetails{Output: aws.String(`{"Attributes":{"pk":{"S":"x#count"},"runs":{"N":"1"}}}`)}
		}
		return e
	}
	good := func() []sfntypes.HistoryEvent {
		return []sfntypes.HistoryEvent{task(1, 0, sfntypes.HistoryEventTypeExecutionStarted), task(2, 0, sfntypes.HistoryEventTypeTaskStateEntered),
			task(3, 2, sfntypes.HistoryEventTypeTaskScheduled), task(4, 3, sfntypes.HistoryEventTypeTaskStarted),
			task(5, 4, sfntypes.HistoryEventTypeTaskSucceeded), task(6, 5, sfntypes.HistoryEventTypeTaskStateExited),
			task(7, 6, sfntypes.HistoryEventTypeExecutionSucceeded)}
	}
	tally := newSFNCrashTally()
	if err := tally.add(good()); err != nil {
		t.Fatalf("a good history fails: %v", err)
	}
	if n, err := tally.check(map[string]int{"x#count": 1}); err != nil || n != 0 {
		t.Fatalf("a good counter fails: %d %v", n, err)
	}
	if n, err := tally.check(map[string]int{"x#count": 0}); err == nil {
		t.Fatalf("a lost effect passes (%d)", n)
	}
	if n, err := tally.check(map[string]int{"x#count": 2}); err == nil {
		t.Fatalf("a task run after its result was committed passes (%d)", n)
	}
	for name, damage := range map[string]func([]sfntypes.HistoryEvent) []sfntypes.HistoryEvent{
		"an id skipped": func(h []sfntypes.HistoryEvent) []sfntypes.HistoryEvent { h[3].Id = 9; return h },
		"an event pointing forward": func(h []sfntypes.HistoryEvent) []sfntypes.HistoryEvent {
			h[3].PreviousEventId = 6
			return h
		},
		"a task scheduled twice": func(h []sfntypes.HistoryEvent) []sfntypes.HistoryEvent {
			return []sfntypes.HistoryEvent{h[0], h[1], h[2], task(4, 2, sfntypes.HistoryEventTypeTaskScheduled),
				task(5, 4, sfntypes.HistoryEventTypeTaskStarted), task(6, 5, sfntypes.HistoryEventTypeTaskSucceeded),
				task(7, 6, sfntypes.HistoryEventTypeTaskStateExited), task(8, 7, sfntypes.HistoryEventTypeExecutionSucceeded)}
		},
		"a state never exited": func(h []sfntypes.HistoryEvent) []sfntypes.HistoryEvent {
			h[5].Type, h[5].StateExitedEventDetails = sfntypes.HistoryEventTypePassStateEntered, nil
			h[5].StateEnteredEventDetails = &sfntypes.StateEnteredEventDetails{Name: aws.String("After")}
			return h
		},
		"two terminal events": func(h []sfntypes.HistoryEvent) []sfntypes.HistoryEvent {
			return append(h, task(8, 7, sfntypes.HistoryEventTypeExecutionFailed))
		},
	} {
		if err := newSFNCrashTally().add(damage(good())); err == nil {
			t.Errorf("%s passes", name)
		} else {
			t.Logf("%s: caught: %v", name, err)
		}
	}
}
