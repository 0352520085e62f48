package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// writerError is a ResultWriter's failure: the Map state fails with States.ResultWriterFailed.
type writerError struct{ msg string }

func (e *writerError) Error() string { return e.msg }

// resultEntry is one child execution in a result file, as Step Functions writes it.
type resultEntry struct {
	ExecutionArn        string          `json:"ExecutionArn"`
	Input               string          `json:"Input"`
	InputDetails        map[string]bool `json:"InputDetails"`
	Name                string          `json:"Name"`
	Output              *string         `json:"Output,omitempty"`
	OutputDetails       map[string]bool `json:"OutputDetails,omitempty"`
	Error               *string         `json:"Error,omitempty"`
	Cause               *string         `json:"Cause,omitempty"`
	RedriveCount        int             `json:"RedriveCount"`
	RedriveStatus       string          `json:"RedriveStatus"`
	RedriveStatusReason string          `json:"RedriveStatusReason"`
	StartDate           string          `json:"StartDate,omitempty"`
	StateMachineArn     string          `json:"StateMachineArn"`
	Status              string          `json:"Status"`
	StopDate            string          `json:"StopDate,omitempty"`
}

type resultFile struct {
	Key  string `json:"Key"`
	Size int    `json:"Size"`
}

// resultTime writes a result file's dates.
func resultTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// writeResults exports a Map Run's children to S3 as the execution's role, under
// Prefix/<map run id>/: SUCCEEDED_0.json, FAILED_0.json and PENDING_0.json (each written when
// it has entries) and manifest.json listing them. It returns the Map state's result.
func (s *Service) writeResults(ctx context.Context, ex *execution, mr *mapRun, children []child) ([]byte, int, error) {
	store, err := s.objects()
	if err != nil {
		return nil, 0, err
	}
	r, _ := parseARN(ex.ARN)
	dir := mapRunID(mr.ARN)
	if p := strings.TrimSuffix(mr.Writer.Prefix, "/"); p != "" {
		dir = p + "/" + dir
	}
	groups := map[string][]resultEntry{"SUCCEEDED": {}, "FAILED": {}, "PENDING": {}}
	for _, c := range children {
		e := resultEntry{ExecutionArn: c.Execution, Input: c.Input, InputDetails: map[string]bool{"Included": true}, Name: c.Name,
			Error: c.Error, Cause: c.Cause, RedriveStatus: "NOT_REDRIVABLE", StartDate: resultTime(c.Started),
			StateMachineArn: mr.ChildMachine, Status: c.Status, StopDate: resultTime(c.Stopped)}
		group := "FAILED"
		switch c.Status {
		case statusSucceeded:
			group = "SUCCEEDED"
			e.Output, e.OutputDetails = c.Output, map[string]bool{"Included": true}
			e.RedriveStatusReason = "Execution is SUCCEEDED and cannot be redriven"
		case statusPending, statusRunning:
			group = "PENDING"
			e.Status = statusPending
		default:
			e.RedriveStatusReason = "Execution was started by a Map Run and cannot be redriven on its own"
		}
		groups[group] = append(groups[group], e)
	}
	manifest := struct {
		DestinationBucket string                  `json:"DestinationBucket"`
		MapRunArn         string                  `json:"MapRunArn"`
		ResultFiles       map[string][]resultFile `json:"ResultFiles"`
	}{mr.Writer.Bucket, mr.ARN, map[string][]resultFile{"SUCCEEDED": {}, "FAILED": {}, "PENDING": {}}}
	written := 0
	for _, g := range []string{"FAILED", "PENDING", "SUCCEEDED"} {
		if len(groups[g]) == 0 {
			continue
		}
		body, _ := json.Marshal(groups[g])
		key := fmt.Sprintf("%s/%s_0.json", dir, g)
		if err := store.PutObjectAs(ctx, r.scope.account, r.scope.region, ex.RoleARN, mr.Writer.Bucket, key, body, "application/json"); err != nil {
			return nil, 0, &writerError{s3Error(err)}
		}
		manifest.ResultFiles[g] = append(manifest.ResultFiles[g], resultFile{Key: key, Size: len(body)})
		if g != "PENDING" {
			written += len(groups[g])
		}
	}
	key := dir + "/manifest.json"
	body, _ := json.Marshal(manifest)
	if err := store.PutObjectAs(ctx, r.scope.account, r.scope.region, ex.RoleARN, mr.Writer.Bucket, key, body, "application/json"); err != nil {
		return nil, 0, &writerError{s3Error(err)}
	}
	out, _ := json.Marshal(map[string]any{"MapRunArn": mr.ARN,
		"ResultWriterDetails": map[string]string{"Bucket": mr.Writer.Bucket, "Key": key}})
	return out, written, nil
}
