package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// A Map Run is what a Distributed Map state starts: one child execution per item (or batch),
// at most MaxConcurrency running at once. It is a row of its own beside its children's rows,
// driven by messages on the queue engine:
//
//   - read: reads the items (ItemReader) from S3 and reports them to the parent execution;
//   - pump: starts children up to the concurrency limit, each Standard child durably in the
//     transaction that claims its item (so an item whose child is recorded is never run
//     again nor lost), Express children by handing chunks of claimed items to express;
//   - express: runs a chunk of Express children in memory and records their results;
//   - finish: writes the results (ResultWriter) and reports the Map state's result.
//
// A Standard child that ends records its result and queues a pump in the transaction of its
// last step.

const (
	mapRunQueue        = "sfn.maprun"
	mapRunExpressQueue = "sfn.maprun.express"

	// expressChunk is how many Express children one express message runs.
	expressChunk = 500
	// standardPerPump is how many Standard children one pump starts in its transaction.
	standardPerPump = 100

	errExceedTolerance = "States.ExceedToleratedFailureThreshold"
)

const mapRunSchemaV1 = `
CREATE TABLE sfn_mapruns (
	arn       TEXT NOT NULL PRIMARY KEY,
	execution TEXT NOT NULL,
	started   BIGINT NOT NULL,
	doc       TEXT NOT NULL
);
CREATE INDEX sfn_mapruns_execution ON sfn_mapruns (execution, started);
CREATE TABLE sfn_maprun_children (
	maprun    TEXT NOT NULL,
	idx       BIGINT NOT NULL,
	status    TEXT NOT NULL,
	execution TEXT NOT NULL,
	doc       TEXT NOT NULL,
	PRIMARY KEY (maprun, idx)
);
CREATE INDEX sfn_maprun_children_execution ON sfn_maprun_children (execution);
`

var mapRunMigrations = []store.Migration{{Version: 1, SQL: mapRunSchemaV1}}

// mapRun is a stored Map Run.
type mapRun struct {
	ARN           string        `json:"arn"`
	Execution     string        `json:"execution"` // the parent execution
	Effect        string        `json:"effect"`    // the parent's MapRunEffect id
	MachineARN    string        `json:"machine"`   // the parent's state machine
	ChildMachine  string        `json:"child_machine"`
	Label         string        `json:"label"`
	ExecutionType string        `json:"execution_type"`
	Definition    string        `json:"definition"`
	RoleARN       string        `json:"role"`
	Status        string        `json:"status"`
	Started       time.Time     `json:"started"`
	Stopped       *time.Time    `json:"stopped,omitempty"`
	MaxConc       int           `json:"max_concurrency"`
	TolCount      int           `json:"tol_count"` // -1: not set
	TolPct        float64       `json:"tol_pct"`   // -1: not set
	Writer        *writerTarget `json:"writer,omitempty"`
	// Source is the interpreter's request until the children are stored: the ItemReader to
	// read and what the children's inputs are computed from.
	Source     *asl.MapRunEffect `json:"source,omitempty"`
	Reading    bool              `json:"reading,omitempty"` // the items are being read
	Total      int               `json:"total"`             // children
	Items      int               `json:"items"`
	BatchSizes []int             `json:"batch_sizes,omitempty"`
	Next       int               `json:"next"` // the next child to start
	Exec       counts            `json:"exec"`
	Item       counts            `json:"item"`
	Written    int               `json:"written"`
	Pumping    bool              `json:"pumping,omitempty"`   // a pump message is queued
	Finishing  bool              `json:"finishing,omitempty"` // the finish message is queued
	Failure    *asl.Failure      `json:"failure,omitempty"`   // why it fails, once decided
}

// counts are a Map Run's children (or items) by status.
type counts struct {
	Running   int `json:"running"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	TimedOut  int `json:"timed_out"`
	Aborted   int `json:"aborted"`
}

// child is a stored child execution of a Map Run: its input, and once it ended its result.
type child struct {
	Index     int        `json:"index"`
	Status    string     `json:"status"` // PENDING, then the execution's status
	Execution string     `json:"execution,omitempty"`
	Name      string     `json:"name,omitempty"`
	Input     string     `json:"input"`
	Output    *string    `json:"output,omitempty"`
	Error     *string    `json:"error,omitempty"`
	Cause     *string    `json:"cause,omitempty"`
	Started   *time.Time `json:"started,omitempty"`
	Stopped   *time.Time `json:"stopped,omitempty"`
}

const statusPending = "PENDING"

// mapRunMsg is the body of a Map Run's messages.
type mapRunMsg struct {
	Kind      string `json:"k"`
	MapRun    string `json:"m,omitempty"`
	Execution string `json:"e,omitempty"`
	Effect    string `json:"i,omitempty"`
	From      int    `json:"f,omitempty"`
	To        int    `json:"t,omitempty"`
}

func (s *Service) registerMapRuns(ctx context.Context) error {
	if err := s.st.Migrate(ctx, "sfn_maprun", mapRunMigrations); err != nil {
		return fmt.Errorf("migrate sfn map runs: %w", err)
	}
	s.eng.Handle(mapRunQueue, s.handleMapRun, queue.HandlerOptions{Concurrency: 4, MaxAttempts: 10})
	s.eng.Handle(mapRunExpressQueue, s.handleExpressChunk, queue.HandlerOptions{Concurrency: 4, MaxAttempts: 5})
	awsproto.Handle(s.api, "DescribeMapRun", s.describeMapRun)
	awsproto.Handle(s.api, "ListMapRuns", s.listMapRuns)
	awsproto.Handle(s.api, "UpdateMapRun", s.updateMapRun)
	return nil
}

func (s *Service) sendMapRun(tx *store.Tx, queueName string, m mapRunMsg) error {
	body, _ := json.Marshal(m)
	_, err := s.eng.Send(tx, queueName, queue.Outgoing{Body: body})
	return err
}

func loadMapRun(q rowQuery, arn string) (*mapRun, error) {
	mr := &mapRun{}
	found, err := loadDoc(q, mr, `SELECT doc FROM sfn_mapruns WHERE arn = ?`, arn)
	if err != nil || !found {
		return nil, err
	}
	return mr, nil
}

func putMapRun(tx *store.Tx, mr *mapRun) error {
	_, err := tx.Exec(`INSERT INTO sfn_mapruns (arn, execution, started, doc) VALUES (?, ?, ?, ?)
		ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`, mr.ARN, mr.Execution, mr.Started.UnixNano(), encode(mr))
	return err
}

func putChild(tx *store.Tx, mapRunARN string, c *child) error {
	_, err := tx.Exec(`UPDATE sfn_maprun_children SET status = ?, execution = ?, doc = ? WHERE maprun = ? AND idx = ?`,
		c.Status, c.Execution, encode(c), mapRunARN, c.Index)
	return err
}

// pump queues a pump message unless one is queued.
func (s *Service) pump(tx *store.Tx, mr *mapRun) error {
	if mr.Pumping {
		return nil
	}
	mr.Pumping = true
	return s.sendMapRun(tx, mapRunQueue, mapRunMsg{Kind: "pump", MapRun: mr.ARN})
}

// writerTarget is a ResultWriter's S3 location.
type writerTarget struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix,omitempty"`
}

// labelOf is the label a Map Run's ARN carries (mapRun:MACHINE/LABEL:ID).
func labelOf(arn string) string {
	rest := arn[:strings.LastIndexByte(arn, ':')]
	return rest[strings.LastIndexByte(rest, '/')+1:]
}

// startMapRun stores a new Map Run: with its children when the state held its items, else
// with a read message for its ItemReader.
func (s *Service) startMapRun(tx *store.Tx, l *live, e asl.MapRunEffect, now time.Time) error {
	l.pending[e.ID] = &pending{}
	label := labelOf(e.MapRunArn)
	mr := &mapRun{ARN: e.MapRunArn, Execution: l.ex.ARN, Effect: e.ID, MachineARN: l.ex.MachineARN,
		ChildMachine: l.ex.MachineARN + "/" + label, Label: label, ExecutionType: e.ExecutionType,
		Definition: string(e.Definition), RoleARN: l.ex.RoleARN, Status: statusRunning, Started: now,
		MaxConc: e.MaxConcurrency, TolCount: e.ToleratedFailureCount, TolPct: e.ToleratedFailurePercentage}
	if mr.MaxConc <= 0 || mr.MaxConc > asl.MaxDistributedConcurrency {
		mr.MaxConc = asl.MaxDistributedConcurrency
	}
	if len(e.ResultWriter) > 0 {
		var w struct{ Parameters, Arguments *writerTarget }
		_ = json.Unmarshal(e.ResultWriter, &w)
		mr.Writer = w.Parameters
		if mr.Writer == nil {
			mr.Writer = w.Arguments
		}
		if mr.Writer == nil || mr.Writer.Bucket == "" {
			mr.Failure = &asl.Failure{Error: awsproto.Ptr("States.ResultWriterFailed"), Cause: awsproto.Ptr("The ResultWriter must name a Bucket")}
		}
	}
	if len(e.ItemReader) > 0 {
		items := e.Items
		e.Items = nil
		mr.Source, mr.Reading = &e, true
		if err := s.sendMapRun(tx, mapRunQueue, mapRunMsg{Kind: "read", MapRun: mr.ARN}); err != nil {
			return err
		}
		e.Items = items
	} else {
		v, err := jsonobj.Decode(e.Items)
		if err != nil {
			return fmt.Errorf("map run items: %w", err)
		}
		items, _ := v.([]any)
		if err := s.addChildren(tx, mr, l.ex.Definition, &e, items); err != nil {
			return err
		}
	}
	if err := s.pump(tx, mr); err != nil {
		return err
	}
	return putMapRun(tx, mr)
}

// addChildren stores a child for each item, or each batch of items (ItemBatcher), with its
// input (ItemSelector).
func (s *Service) addChildren(tx *store.Tx, mr *mapRun, parentDefinition string, e *asl.MapRunEffect, items []any) error {
	m, err := s.machines.parsed(parentDefinition)
	if err != nil {
		return err
	}
	mr.Items = len(items)
	inputs := make([]json.RawMessage, len(items))
	for i, it := range items {
		in, err := e.ItemInput(m, i, jsonobj.Marshal(it))
		if err != nil {
			name, cause, _ := strings.Cut(err.Error(), ": ")
			mr.Failure = &asl.Failure{Error: &name, Cause: &cause}
			return nil
		}
		inputs[i] = in
	}
	if len(e.ItemBatcher) > 0 {
		batches, sizes, err := batchInputs(e.ItemBatcher, inputs)
		if err != nil {
			mr.Failure = &asl.Failure{Error: awsproto.Ptr("States.Runtime"), Cause: awsproto.Ptr(err.Error())}
			return nil
		}
		inputs, mr.BatchSizes = batches, sizes
	}
	mr.Total = len(inputs)
	for i, in := range inputs {
		c := child{Index: i, Status: statusPending, Input: string(in)}
		if _, err := tx.Exec(`INSERT INTO sfn_maprun_children (maprun, idx, status, execution, doc) VALUES (?, ?, ?, '', ?)`,
			mr.ARN, i, statusPending, encode(c)); err != nil {
			return err
		}
	}
	return nil
}

// batchInputs groups children's inputs as an evaluated ItemBatcher says: {"BatchInput": ...,
// "Items": [...]}, each batch at most MaxItemsPerBatch items and MaxInputBytesPerBatch bytes.
func batchInputs(batcher json.RawMessage, inputs []json.RawMessage) ([]json.RawMessage, []int, error) {
	var b struct {
		MaxItemsPerBatch      *float64
		MaxInputBytesPerBatch *float64
		BatchInput            json.RawMessage
	}
	if err := json.Unmarshal(batcher, &b); err != nil {
		return nil, nil, fmt.Errorf("the ItemBatcher is not valid: %w", err)
	}
	maxItems, maxBytes := len(inputs)+1, maxPayload
	if b.MaxItemsPerBatch != nil && *b.MaxItemsPerBatch > 0 {
		maxItems = int(*b.MaxItemsPerBatch)
	}
	if b.MaxInputBytesPerBatch != nil && *b.MaxInputBytesPerBatch > 0 && int(*b.MaxInputBytesPerBatch) < maxBytes {
		maxBytes = int(*b.MaxInputBytesPerBatch)
	}
	base := len(`{"Items":[]}`)
	if b.BatchInput != nil {
		base += len(`"BatchInput":,`) + len(b.BatchInput)
	}
	var batches []json.RawMessage
	var sizes []int
	var cur []json.RawMessage
	size := base
	flush := func() {
		if len(cur) == 0 {
			return
		}
		env := map[string]any{"Items": cur}
		if b.BatchInput != nil {
			env["BatchInput"] = b.BatchInput
		}
		batches, sizes = append(batches, json.RawMessage(encode(env))), append(sizes, len(cur))
		cur, size = nil, base
	}
	for _, in := range inputs {
		n := len(in)
		if len(cur) > 0 {
			n++ // the comma
		}
		if len(cur) > 0 && (len(cur) >= maxItems || size+n > maxBytes) {
			flush()
			n = len(in)
		}
		if size+n > maxBytes {
			return nil, nil, fmt.Errorf("an item is larger than the ItemBatcher's MaxInputBytesPerBatch")
		}
		cur = append(cur, in)
		size += n
	}
	flush()
	return batches, sizes, nil
}

// itemsOf is how many items child i holds.
func (mr *mapRun) itemsOf(i int) int {
	if len(mr.BatchSizes) > i {
		return mr.BatchSizes[i]
	}
	return 1
}

func (c *counts) add(status string, n int) {
	switch status {
	case statusSucceeded:
		c.Succeeded += n
	case statusFailed:
		c.Failed += n
	case statusTimedOut:
		c.TimedOut += n
	case statusAborted:
		c.Aborted += n
	}
}

// exceeded reports whether the failed items pass the tolerated thresholds (none set
// tolerates none).
func (mr *mapRun) exceeded() bool {
	failed := mr.Item.Failed + mr.Item.TimedOut + mr.Item.Aborted
	if failed == 0 {
		return false
	}
	if mr.TolCount < 0 && mr.TolPct < 0 {
		return true
	}
	if mr.TolCount >= 0 && failed > mr.TolCount {
		return true
	}
	return mr.TolPct >= 0 && float64(failed)*100 > mr.TolPct*float64(mr.Items)
}

// ended records the end of child c (whose status, result and stop time are set) in mr.
func (mr *mapRun) ended(c *child) {
	n := mr.itemsOf(c.Index)
	mr.Exec.Running--
	mr.Item.Running -= n
	mr.Exec.add(c.Status, 1)
	mr.Item.add(c.Status, n)
	if c.Status != statusSucceeded && mr.Failure == nil && mr.exceeded() {
		mr.Failure = &asl.Failure{Error: awsproto.Ptr(errExceedTolerance), Cause: awsproto.Ptr("The specified tolerated failure threshold was exceeded")}
	}
}

// childEnded records the end of a Standard child execution of a Map Run, in the
// transaction of its last step.
func (s *Service) childEnded(tx *store.Tx, ex *execution) error {
	mr, err := loadMapRun(tx.QueryRow, ex.MapRun)
	if err != nil || mr == nil {
		return err
	}
	var c child
	found, err := loadDoc(tx.QueryRow, &c, `SELECT doc FROM sfn_maprun_children WHERE execution = ?`, ex.ARN)
	if err != nil || !found || c.Status != statusRunning {
		return err
	}
	c.Status, c.Output, c.Error, c.Cause, c.Stopped = ex.Status, ex.Output, ex.Error, ex.Cause, ex.Stopped
	if err := putChild(tx, mr.ARN, &c); err != nil {
		return err
	}
	mr.ended(&c)
	if err := s.pump(tx, mr); err != nil {
		return err
	}
	return putMapRun(tx, mr)
}

// abortMapRuns aborts the running Map Runs of an execution that ended (stopped, timed out).
func (s *Service) abortMapRuns(tx *store.Tx, executionARN string, now time.Time) error {
	docs, err := txColumn[string](tx, `SELECT doc FROM sfn_mapruns WHERE execution = ?`, executionARN)
	if err != nil {
		return err
	}
	var runs []*mapRun
	for _, doc := range docs {
		mr := &mapRun{}
		if err := decode(doc, mr); err != nil {
			return err
		}
		runs = append(runs, mr)
	}
	for _, mr := range runs {
		if mr.Status != statusRunning {
			continue
		}
		mr.Status, mr.Stopped = statusAborted, &now
		if err := s.pump(tx, mr); err != nil {
			return err
		}
		if err := putMapRun(tx, mr); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) handleMapRun(ctx context.Context, msg queue.Message) error {
	var m mapRunMsg
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return queue.Permanent(err)
	}
	switch m.Kind {
	case "read":
		return s.readItems(ctx, m)
	case "pump":
		return s.pumpMapRun(ctx, m.MapRun)
	case "finish":
		return s.finishMapRun(ctx, m.MapRun)
	}
	return queue.Permanent(fmt.Errorf("unknown map run message %q", m.Kind))
}

// readItems reads a Map Run's items (its ItemReader) as the execution's role and stores its
// children; a reader that fails fails the Map Run with States.ItemReaderFailed.
func (s *Service) readItems(ctx context.Context, m mapRunMsg) error {
	mr, err := loadMapRun(s.reader(ctx), m.MapRun)
	if err != nil || mr == nil || !mr.Reading || mr.Source == nil {
		return err
	}
	parent, err := s.loadLive(s.reader(ctx), mr.Execution)
	if err != nil || parent == nil {
		return err
	}
	items, readErr := s.readItemSource(ctx, parent.ex, mr.Source.ItemReader)
	var re *readerError
	if readErr != nil && !errors.As(readErr, &re) {
		return readErr
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		mr, err := loadMapRun(tx.QueryRow, m.MapRun)
		if err != nil || mr == nil || !mr.Reading || mr.Source == nil {
			return err
		}
		if re != nil {
			mr.Failure = &asl.Failure{Error: awsproto.Ptr("States.ItemReaderFailed"), Cause: &re.msg}
		} else if err := s.addChildren(tx, mr, parent.ex.Definition, mr.Source, items); err != nil {
			return err
		}
		mr.Reading, mr.Source = false, nil
		mr.Pumping = false
		if err := s.pump(tx, mr); err != nil {
			return err
		}
		return putMapRun(tx, mr)
	})
}

// pumpMapRun starts children up to the concurrency limit, stops the running ones of a Map
// Run that was aborted or fails, and queues the finish once every child ended.
func (s *Service) pumpMapRun(ctx context.Context, arn string) error {
	return s.st.Write(ctx, func(tx *store.Tx) error {
		mr, err := loadMapRun(tx.QueryRow, arn)
		if err != nil || mr == nil {
			return err
		}
		mr.Pumping = false
		if err := putMapRun(tx, mr); err != nil {
			return err
		}
		if mr.Status != statusRunning || mr.Failure != nil {
			if err := s.stopChildren(tx, mr); err != nil {
				return err
			}
			if mr, err = loadMapRun(tx.QueryRow, arn); err != nil {
				return err
			}
		} else if mr.ExecutionType == asl.Express {
			if err := s.claimExpress(tx, mr); err != nil {
				return err
			}
		} else {
			for started := 0; started < standardPerPump; started++ {
				if mr.Next >= mr.Total || mr.Exec.Running >= mr.MaxConc || mr.Failure != nil || mr.Status != statusRunning {
					break
				}
				if err := s.startStandardChild(tx, mr); err != nil {
					return err
				}
				// the child may have ended in its first step, which changed the Map Run
				if mr, err = loadMapRun(tx.QueryRow, arn); err != nil {
					return err
				}
			}
			if mr.Next < mr.Total && mr.Exec.Running < mr.MaxConc && mr.Failure == nil {
				if err := s.pump(tx, mr); err != nil {
					return err
				}
			}
		}
		if mr.Status == statusRunning && !mr.Finishing && !mr.Reading && mr.Exec.Running == 0 && (mr.Next >= mr.Total || mr.Failure != nil) {
			mr.Finishing = true
			if err := s.sendMapRun(tx, mapRunQueue, mapRunMsg{Kind: "finish", MapRun: arn}); err != nil {
				return err
			}
		}
		return putMapRun(tx, mr)
	})
}

func (s *Service) loadChild(q rowQuery, arn string, i int) (*child, error) {
	c := &child{}
	found, err := loadDoc(q, c, `SELECT doc FROM sfn_maprun_children WHERE maprun = ? AND idx = ?`, arn, i)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("map run %s has no child %d", arn, i)
	}
	return c, nil
}

// childExecution is the execution of child c of mr.
func (mr *mapRun) childExecution(c *child, now time.Time) *execution {
	r, _ := parseARN(mr.ARN)
	machineName := mr.ChildMachine[strings.LastIndex(mr.ChildMachine, ":")+1:]
	ex := &execution{Name: c.Name, MachineARN: mr.ChildMachine, MachineName: machineName, Type: mr.ExecutionType,
		Definition: mr.Definition, RoleARN: mr.RoleARN, Status: statusRunning, Input: c.Input, Started: now, MapRun: mr.ARN}
	if mr.ExecutionType == asl.Express {
		ex.ARN = r.scope.arn("express", machineName+":"+c.Name+":"+uuid.New())
	} else {
		ex.ARN = r.scope.arn("execution", machineName+":"+c.Name)
	}
	return ex
}

// startStandardChild starts the next child of mr as a durable execution, in tx.
func (s *Service) startStandardChild(tx *store.Tx, mr *mapRun) error {
	c, err := s.loadChild(tx.QueryRow, mr.ARN, mr.Next)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	c.Name = uuid.New()
	ex := mr.childExecution(c, now)
	c.Status, c.Execution, c.Started = statusRunning, ex.ARN, &now
	if err := putChild(tx, mr.ARN, c); err != nil {
		return err
	}
	mr.Next++
	mr.Exec.Running++
	mr.Item.Running += mr.itemsOf(c.Index)
	if err := putMapRun(tx, mr); err != nil {
		return err
	}
	return s.begin(tx, ex)
}

// claimExpress claims the next children of mr up to the concurrency limit and hands them,
// in chunks, to the express queue.
func (s *Service) claimExpress(tx *store.Tx, mr *mapRun) error {
	for mr.Next < mr.Total && mr.Exec.Running < mr.MaxConc {
		n := min(expressChunk, mr.Total-mr.Next, mr.MaxConc-mr.Exec.Running)
		from := mr.Next
		mr.Next += n
		mr.Exec.Running += n
		for i := from; i < from+n; i++ {
			mr.Item.Running += mr.itemsOf(i)
		}
		if _, err := tx.Exec(`UPDATE sfn_maprun_children SET status = ? WHERE maprun = ? AND idx >= ? AND idx < ?`,
			statusRunning, mr.ARN, from, from+n); err != nil {
			return err
		}
		if err := s.sendMapRun(tx, mapRunExpressQueue, mapRunMsg{Kind: "express", MapRun: mr.ARN, From: from, To: from + n}); err != nil {
			return err
		}
	}
	return nil
}

// handleExpressChunk runs a chunk of a Map Run's Express children in memory, all at once,
// and records their results in one transaction. A chunk run again after a crash runs its
// children again: Express children run at least once.
func (s *Service) handleExpressChunk(ctx context.Context, msg queue.Message) error {
	var m mapRunMsg
	if err := json.Unmarshal(msg.Body, &m); err != nil {
		return queue.Permanent(err)
	}
	mr, err := loadMapRun(s.reader(ctx), m.MapRun)
	if err != nil || mr == nil {
		return err
	}
	children, err := queryDocs[child](ctx, s.st, `SELECT doc FROM sfn_maprun_children WHERE maprun = ? AND idx >= ? AND idx < ? ORDER BY idx`,
		m.MapRun, m.From, m.To)
	if err != nil {
		return err
	}
	if mr.Status == statusRunning && mr.Failure == nil {
		var wg sync.WaitGroup
		for i := range children {
			c := &children[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				now := s.now().UTC()
				c.Name = uuid.New()
				ex := mr.childExecution(c, now)
				c.Execution, c.Started = ex.ARN, &now
				if err := s.runExpress(ctx, ex); err != nil {
					ex.Status, ex.Error, ex.Cause = statusFailed, awsproto.Ptr("States.Runtime"), awsproto.Ptr(err.Error())
				}
				c.Status, c.Output, c.Error, c.Cause, c.Stopped = ex.Status, ex.Output, ex.Error, ex.Cause, ex.Stopped
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		mr, err := loadMapRun(tx.QueryRow, m.MapRun)
		if err != nil || mr == nil {
			return err
		}
		running, err := runningChildren(tx, mr.ARN, m.From, m.To)
		if err != nil {
			return err
		}
		for i := range children {
			c := &children[i]
			if !running[c.Index] {
				continue // recorded by an earlier delivery
			}
			if c.Status == statusPending || c.Status == statusRunning || mr.Status != statusRunning {
				now := s.now().UTC()
				c.Status, c.Stopped = statusAborted, &now
			}
			if err := putChild(tx, mr.ARN, c); err != nil {
				return err
			}
			mr.ended(c)
		}
		if err := s.pump(tx, mr); err != nil {
			return err
		}
		return putMapRun(tx, mr)
	})
}

// runningChildren are the indexes of a Map Run's children from..to-1 still running.
func runningChildren(tx *store.Tx, arn string, from, to int) (map[int]bool, error) {
	idx, err := txColumn[int](tx, `SELECT idx FROM sfn_maprun_children WHERE maprun = ? AND idx >= ? AND idx < ? AND status = ?`, arn, from, to, statusRunning)
	running := map[int]bool{}
	for _, i := range idx {
		running[i] = true
	}
	return running, err
}

// txColumn reads the one column of every row query finds in tx.
func txColumn[T any](tx *store.Tx, query string, args ...any) ([]T, error) {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// stopChildren aborts the running Standard children of a Map Run that was aborted or fails.
func (s *Service) stopChildren(tx *store.Tx, mr *mapRun) error {
	if mr.ExecutionType == asl.Express {
		return nil // a running chunk records its children as aborted when it ends
	}
	arns, err := txColumn[string](tx, `SELECT execution FROM sfn_maprun_children WHERE maprun = ? AND status = ?`, mr.ARN, statusRunning)
	if err != nil {
		return err
	}
	for _, a := range arns {
		l, err := s.loadLive(tx.QueryRow, a)
		if err != nil {
			return err
		}
		if l == nil || l.ex.Status != statusRunning {
			continue
		}
		l.run.Stop("", "")
		if err := s.advance(tx, l); err != nil {
			return err
		}
	}
	return nil
}

// finishMapRun writes the Map Run's results (ResultWriter) and reports its outcome to the
// parent execution. Writing again after a crash writes the same objects.
func (s *Service) finishMapRun(ctx context.Context, arn string) error {
	mr, err := loadMapRun(s.reader(ctx), arn)
	if err != nil || mr == nil || mr.Status != statusRunning {
		return err
	}
	children, err := queryDocs[child](ctx, s.st, `SELECT doc FROM sfn_maprun_children WHERE maprun = ? ORDER BY idx`, arn)
	if err != nil {
		return err
	}
	parent, err := s.loadLive(s.reader(ctx), mr.Execution)
	if err != nil || parent == nil {
		return err
	}
	var output []byte
	written := 0
	failure := mr.Failure
	if mr.Writer != nil && (failure == nil || len(children) > 0) {
		output, written, err = s.writeResults(ctx, parent.ex, mr, children)
		if err != nil {
			var we *writerError
			if !errors.As(err, &we) {
				return err
			}
			failure = &asl.Failure{Error: awsproto.Ptr("States.ResultWriterFailed"), Cause: awsproto.Ptr(we.msg)}
		}
	} else if failure == nil {
		results := make([]json.RawMessage, len(children))
		for i, c := range children {
			switch {
			case c.Output != nil:
				results[i] = json.RawMessage(*c.Output)
			default:
				eo := jsonobj.New(2)
				eo.Set("Error", c.Error)
				eo.Set("Cause", c.Cause)
				results[i] = jsonobj.Marshal(eo)
			}
		}
		output, _ = json.Marshal(results)
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		mr, err := loadMapRun(tx.QueryRow, arn)
		if err != nil || mr == nil || mr.Status != statusRunning {
			return err
		}
		now := s.now().UTC()
		mr.Stopped, mr.Written = &now, written
		mr.Status = statusSucceeded
		if failure != nil {
			mr.Status = statusFailed
		}
		if err := putMapRun(tx, mr); err != nil {
			return err
		}
		return s.settleTx(tx, mr.Execution, mr.Effect, func(r *asl.Run) {
			if failure != nil {
				r.Fail(mr.Effect, awsproto.Value(failure.Error), awsproto.Value(failure.Cause))
			} else {
				r.Complete(mr.Effect, output)
			}
		})
	})
}

// mapRunID is the last part of a Map Run's ARN.
func mapRunID(arn string) string { return arn[strings.LastIndexByte(arn, ':')+1:] }

func (s *Service) requireMapRun(ctx context.Context, arn string) (*mapRun, error) {
	if _, ok := parseARN(arn); !ok || !strings.Contains(arn, ":mapRun:") {
		return nil, invalidARN(arn)
	}
	mr, err := loadMapRun(s.reader(ctx), arn)
	if err != nil {
		return nil, err
	}
	if mr == nil {
		return nil, resourceNotFound(arn)
	}
	return mr, nil
}

func (c counts) wireItems(total, pending, written int) *MapRunItemCounts {
	return &MapRunItemCounts{Pending: awsproto.Ptr(int64(pending)), Running: awsproto.Ptr(int64(c.Running)),
		Succeeded: awsproto.Ptr(int64(c.Succeeded)), Failed: awsproto.Ptr(int64(c.Failed)), TimedOut: awsproto.Ptr(int64(c.TimedOut)),
		Aborted: awsproto.Ptr(int64(c.Aborted)), Total: awsproto.Ptr(int64(total)), ResultsWritten: awsproto.Ptr(int64(written)),
		FailuresNotRedrivable: awsproto.Ptr(int64(0)), PendingRedrive: awsproto.Ptr(int64(0))}
}

func (s *Service) describeMapRun(ctx context.Context, in *DescribeMapRunInput) (*DescribeMapRunOutput, error) {
	mr, err := s.requireMapRun(ctx, awsproto.Value(in.MapRunArn))
	if err != nil {
		return nil, wrap("describe map run", err)
	}
	itemsStarted := 0
	for i := 0; i < mr.Next; i++ {
		itemsStarted += mr.itemsOf(i)
	}
	ic := mr.Item.wireItems(mr.Items, mr.Items-itemsStarted, 0)
	ec := mr.Exec.wireItems(mr.Total, mr.Total-mr.Next, 0)
	if mr.Written > 0 {
		ic.ResultsWritten = awsproto.Ptr(int64(mr.Items))
		ec.ResultsWritten = awsproto.Ptr(int64(mr.Total))
	}
	out := &DescribeMapRunOutput{MapRunArn: &mr.ARN, ExecutionArn: &mr.Execution, Status: &mr.Status, StartDate: &mr.Started,
		StopDate: mr.Stopped, MaxConcurrency: awsproto.Ptr(int32(mr.MaxConc)),
		ToleratedFailureCount: awsproto.Ptr(int64(max(mr.TolCount, 0))), ToleratedFailurePercentage: awsproto.Ptr(float32(max(mr.TolPct, 0))),
		ItemCounts: ic, ExecutionCounts: (*MapRunExecutionCounts)(ec), RedriveCount: awsproto.Ptr(int32(0))}
	return out, nil
}

func (s *Service) listMapRuns(ctx context.Context, in *ListMapRunsInput) (*ListMapRunsOutput, error) {
	arn := awsproto.Value(in.ExecutionArn)
	if _, err := requireExecution(s.reader(ctx), arn); err != nil {
		return nil, wrap("list map runs", err)
	}
	all, err := queryDocs[mapRun](ctx, s.st, `SELECT doc FROM sfn_mapruns WHERE execution = ? ORDER BY started DESC, arn`, arn)
	if err != nil {
		return nil, wrap("list map runs", err)
	}
	items, next, err := page(all, "mapruns", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListMapRunsOutput{NextToken: next, MapRuns: []MapRunListItem{}}
	for _, mr := range items {
		out.MapRuns = append(out.MapRuns, MapRunListItem{ExecutionArn: awsproto.Ptr(mr.Execution), MapRunArn: awsproto.Ptr(mr.ARN),
			StateMachineArn: awsproto.Ptr(mr.MachineARN), StartDate: awsproto.Ptr(mr.Started), StopDate: mr.Stopped})
	}
	return out, nil
}

func (s *Service) updateMapRun(ctx context.Context, in *UpdateMapRunInput) (*UpdateMapRunOutput, error) {
	arn := awsproto.Value(in.MapRunArn)
	if in.MaxConcurrency == nil && in.ToleratedFailureCount == nil && in.ToleratedFailurePercentage == nil {
		return nil, validation("Must provide at least one of maxConcurrency, toleratedFailurePercentage, toleratedFailureCount")
	}
	if p := in.ToleratedFailurePercentage; p != nil && (*p < 0 || *p > 100) {
		return nil, validation("1 validation error detected: Value '%v' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100", *p)
	}
	if _, err := s.requireMapRun(ctx, arn); err != nil {
		return nil, wrap("update map run", err)
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		mr, err := loadMapRun(tx.QueryRow, arn)
		if err != nil || mr == nil {
			return err
		}
		if mr.Status != statusRunning {
			return validation("Map Run is not running: %s", mr.Status)
		}
		if in.MaxConcurrency != nil {
			mr.MaxConc = int(*in.MaxConcurrency)
			if mr.MaxConc == 0 || mr.MaxConc > asl.MaxDistributedConcurrency {
				mr.MaxConc = asl.MaxDistributedConcurrency
			}
		}
		if in.ToleratedFailureCount != nil {
			mr.TolCount = int(*in.ToleratedFailureCount)
		}
		if in.ToleratedFailurePercentage != nil {
			mr.TolPct = float64(*in.ToleratedFailurePercentage)
		}
		if mr.Failure == nil && mr.exceeded() {
			mr.Failure = &asl.Failure{Error: awsproto.Ptr(errExceedTolerance), Cause: awsproto.Ptr("The specified tolerated failure threshold was exceeded")}
		}
		if err := s.pump(tx, mr); err != nil {
			return err
		}
		return putMapRun(tx, mr)
	})
	if err != nil {
		return nil, wrap("update map run", err)
	}
	return &UpdateMapRunOutput{}, nil
}

// listMapRunExecutions answers ListExecutions for a Map Run: its Standard children.
func (s *Service) listMapRunExecutions(ctx context.Context, in *ListExecutionsInput) (*ListExecutionsOutput, error) {
	if in.StateMachineArn != nil {
		return nil, validation("Must provide a StateMachine ARN or MapRun ARN, not both")
	}
	mr, err := s.requireMapRun(ctx, awsproto.Value(in.MapRunArn))
	if err != nil {
		return nil, wrap("list executions", err)
	}
	all, err := queryDocs[execution](ctx, s.st, `SELECT e.doc FROM sfn_maprun_children c JOIN sfn_executions e ON e.arn = c.execution
		WHERE c.maprun = ? ORDER BY e.started DESC, e.arn`, mr.ARN)
	if err != nil {
		return nil, wrap("list executions", err)
	}
	var match []execution
	for _, ex := range all {
		if in.StatusFilter != nil && ex.Status != *in.StatusFilter {
			continue
		}
		if f := awsproto.Value(in.RedriveFilter); f != "" && (f == "REDRIVEN") != (ex.RedriveCount > 0) {
			continue
		}
		match = append(match, ex)
	}
	items, next, err := page(match, "executions", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListExecutionsOutput{NextToken: next, Executions: []ExecutionListItem{}}
	for _, ex := range items {
		out.Executions = append(out.Executions, ExecutionListItem{ExecutionArn: awsproto.Ptr(ex.ARN), StateMachineArn: awsproto.Ptr(ex.MachineARN),
			Name: awsproto.Ptr(ex.Name), Status: awsproto.Ptr(ex.Status), StartDate: awsproto.Ptr(ex.Started), StopDate: ex.Stopped,
			MapRunArn: awsproto.Ptr(mr.ARN)})
	}
	return out, nil
}
