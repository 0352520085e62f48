package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// sfnCommand runs "kiri sfn SUBCOMMAND".
func sfnCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "path" {
		fmt.Fprintln(stderr, "usage: kiri sfn path [flags] EXECUTION_ARN")
		return errors.New("unknown or missing sfn command")
	}
	return sfnPath(ctx, args[1:], stdout, stderr)
}

// sfnPath prints the path an execution took, read from a running Kiri's GetExecutionHistory.
func sfnPath(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sfn path", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", envOr("KIRI_ENDPOINT", "http://127.0.0.1:4566"), "Kiri's endpoint (KIRI_ENDPOINT)")
	region := fs.String("region", envOr("AWS_REGION", "us-east-1"), "region (AWS_REGION)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kiri sfn path [flags] EXECUTION_ARN\n\nPrints the states an execution visited, in order, with their durations, retries and errors;\nthe branches of Parallel and Map states are indented.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("sfn path takes one execution ARN")
	}
	arn := fs.Arg(0)
	key, secret := envOr("AWS_ACCESS_KEY_ID", "test"), envOr("AWS_SECRET_ACCESS_KEY", "test")
	c := sfn.New(sfn.Options{Region: *region, BaseEndpoint: endpoint,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))})
	d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		return err
	}
	var events []types.HistoryEvent
	p := sfn.NewGetExecutionHistoryPaginator(c, &sfn.GetExecutionHistoryInput{ExecutionArn: &arn, IncludeExecutionData: aws.Bool(false), MaxResults: 1000})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		events = append(events, page.Events...)
	}
	end := time.Now()
	if d.StopDate != nil {
		end = *d.StopDate
	}
	writePath(stdout, buildPath(events))
	fmt.Fprintf(stdout, "%s in %s", d.Status, formatDuration(end.Sub(aws.ToTime(d.StartDate))))
	if d.Error != nil || d.Cause != nil {
		fmt.Fprintf(stdout, "  error %s", errorText(aws.ToString(d.Error), aws.ToString(d.Cause)))
	}
	fmt.Fprintln(stdout)
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

// visit is one state an execution entered.
type visit struct {
	name, typ      string
	entered, ended time.Time
	exited         bool
	attempts       int // the tasks it scheduled: retries are attempts-1
	errName, cause string
	branches       []*branch // of a Parallel or Map state
	owner          *branch
}

// branch is a sequence of visits: the execution's, a Parallel branch's or a Map iteration's.
type branch struct {
	label  string // "branch 0", "iteration 3"; "" for the execution
	visits []*visit
	owner  *visit
}

// open is the latest visit of b not exited yet, named name when name is given, of kind typ
// when typ is given.
func (b *branch) open(name, typ string) *visit {
	for i := len(b.visits) - 1; i >= 0; i-- {
		v := b.visits[i]
		if !v.exited && (name == "" || v.name == name) && (typ == "" || v.typ == typ) {
			return v
		}
	}
	return nil
}

// up is the branch holding b's owner; nil for the execution.
func (b *branch) up() *branch {
	if b.owner == nil {
		return nil
	}
	return b.owner.owner
}

// buildPath arranges history events into the visits of the execution's branch. An event's
// branch is its previous event's, except where a branch starts (a Parallel's branch, a Map's
// iteration) and where its owner goes on (the state's events after its branches ended point
// back to a branch's last event).
func buildPath(events []types.HistoryEvent) *branch {
	root := &branch{}
	at := map[int64]*branch{}
	for _, e := range events {
		b := at[e.PreviousEventId]
		if b == nil {
			b = root
		}
		typ := string(e.Type)
		switch {
		case strings.HasSuffix(typ, "StateEntered"):
			name := e.StateEnteredEventDetails.Name
			if prev := previous(events, e.PreviousEventId); prev == string(types.HistoryEventTypeParallelStateStarted) {
				p := b.open("", "Parallel")
				if p != nil {
					nb := &branch{label: fmt.Sprintf("branch %d", len(p.branches)), owner: p}
					p.branches = append(p.branches, nb)
					b = nb
				}
			}
			b.visits = append(b.visits, &visit{name: aws.ToString(name), typ: stateType(typ), entered: aws.ToTime(e.Timestamp), owner: b})
		case typ == string(types.HistoryEventTypeMapIterationStarted):
			d := e.MapIterationStartedEventDetails
			if m, _ := findOpen(b, aws.ToString(d.Name), "Map"); m != nil {
				nb := &branch{label: fmt.Sprintf("iteration %d", d.Index), owner: m}
				m.branches = append(m.branches, nb)
				b = nb
			}
		case strings.HasPrefix(typ, "MapIteration"):
			// an iteration ended: the Map's branch goes on
			for c := b; c != nil; c = c.up() {
				if c.owner != nil && c.owner.typ == "Map" {
					b = c.owner.owner
					break
				}
			}
		case strings.HasSuffix(typ, "StateExited"):
			name := aws.ToString(e.StateExitedEventDetails.Name)
			if v, vb := findOpen(b, name, ""); v != nil {
				v.exited, v.ended, b = true, aws.ToTime(e.Timestamp), vb
			}
		case strings.HasPrefix(typ, "Parallel") || strings.HasPrefix(typ, "Map"):
			// ParallelStateSucceeded, MapStateFailed, MapRunStarted, ...: the state's own events
			kind := "Parallel"
			if strings.HasPrefix(typ, "Map") {
				kind = "Map"
			}
			if _, vb := findOpen(b, "", kind); vb != nil {
				b = vb
			}
		default:
			if v := b.open("", ""); v != nil {
				switch {
				case strings.HasSuffix(typ, "Scheduled"):
					v.attempts++
				case strings.HasSuffix(typ, "Succeeded"):
					v.errName, v.cause = "", "" // a retry succeeded
				}
				if name, cause, ok := failure(e); ok {
					v.errName, v.cause = name, cause
				}
			}
		}
		at[e.Id] = b
	}
	return root
}

// findOpen looks from b up through its owners for an open visit named name of kind typ, and
// the branch holding it.
func findOpen(b *branch, name, typ string) (*visit, *branch) {
	for c := b; c != nil; c = c.up() {
		if v := c.open(name, typ); v != nil {
			return v, c
		}
	}
	return nil, nil
}

func previous(events []types.HistoryEvent, id int64) string {
	for _, e := range events {
		if e.Id == id {
			return string(e.Type)
		}
	}
	return ""
}

// stateType is the state type of a <Type>StateEntered event.
func stateType(entered string) string {
	t := strings.TrimSuffix(entered, "StateEntered")
	if t == "FailState" || t == "Fail" {
		return "Fail"
	}
	return t
}

// failure is the error an event reports, if it reports one.
func failure(e types.HistoryEvent) (name, cause string, ok bool) {
	switch {
	case e.TaskFailedEventDetails != nil:
		d := e.TaskFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.TaskTimedOutEventDetails != nil:
		d := e.TaskTimedOutEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.TaskStartFailedEventDetails != nil:
		d := e.TaskStartFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.TaskSubmitFailedEventDetails != nil:
		d := e.TaskSubmitFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.LambdaFunctionFailedEventDetails != nil:
		d := e.LambdaFunctionFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.LambdaFunctionTimedOutEventDetails != nil:
		d := e.LambdaFunctionTimedOutEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.ActivityFailedEventDetails != nil:
		d := e.ActivityFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.ActivityTimedOutEventDetails != nil:
		d := e.ActivityTimedOutEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	case e.ExecutionFailedEventDetails != nil:
		d := e.ExecutionFailedEventDetails
		return aws.ToString(d.Error), aws.ToString(d.Cause), true
	}
	return "", "", false
}

// writePath prints b's visits, one a line, its branches indented below them.
func writePath(w io.Writer, b *branch) {
	width := nameWidth(b, 0)
	var walk func(b *branch, depth int)
	walk = func(b *branch, depth int) {
		pad := strings.Repeat("  ", depth)
		for _, v := range b.visits {
			line := fmt.Sprintf("%s%-*s  %-9s", pad, width-2*depth, v.name, v.typ)
			if v.exited {
				line += fmt.Sprintf("  %8s", formatDuration(v.ended.Sub(v.entered)))
			} else {
				line += fmt.Sprintf("  %8s", "-")
			}
			if v.attempts > 1 {
				line += fmt.Sprintf("  retries %d", v.attempts-1)
			}
			if v.errName != "" || v.cause != "" {
				how := "failed"
				if v.exited {
					how = "caught"
				}
				line += fmt.Sprintf("  %s %s", how, errorText(v.errName, v.cause))
			}
			fmt.Fprintln(w, strings.TrimRight(line, " "))
			for _, sub := range v.branches {
				fmt.Fprintf(w, "%s  %s\n", pad, sub.label)
				walk(sub, depth+2)
			}
		}
	}
	walk(b, 0)
}

// nameWidth is the column the state types start at: the widest indented name.
func nameWidth(b *branch, depth int) int {
	w := 0
	for _, v := range b.visits {
		w = max(w, 2*depth+len(v.name))
		for _, sub := range v.branches {
			w = max(w, nameWidth(sub, depth+2))
		}
	}
	return w
}

func errorText(name, cause string) string {
	if cause == "" {
		return name
	}
	if len(cause) > 200 {
		cause = cause[:200] + "…"
	}
	return name + ": " + strings.ReplaceAll(cause, "\n", " ")
}

// formatDuration writes d in milliseconds below 10 s, else in seconds.
func formatDuration(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}
