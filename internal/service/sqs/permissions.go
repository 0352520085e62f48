package sqs

import (
	"context"
	"encoding/json"
	"maps"

	"github.com/kiri-run/kiri/internal/arn"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// maxPolicyActions bounds the actions of one AddPermission statement.
const maxPolicyActions = 7

// permissionActions are the actions AddPermission may grant ("*" is every one).
var permissionActions = map[string]bool{
	"*": true, "SendMessage": true, "ReceiveMessage": true, "DeleteMessage": true, "ChangeMessageVisibility": true,
	"GetQueueAttributes": true, "GetQueueUrl": true, "ListDeadLetterSourceQueues": true, "PurgeQueue": true,
	"ListQueueTags": true, "SendMessageBatch": true, "DeleteMessageBatch": true, "ChangeMessageVisibilityBatch": true,
}

// queuePolicyDoc is the shape of the queue policy AddPermission writes; other members of a policy set
// through SetQueueAttributes are kept as they are.
type queuePolicyDoc map[string]any

func (s *Service) addPermission(ctx context.Context, in *AddPermissionRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	label := awsproto.Value(in.Label)
	if !validLabel(label) {
		return nil, invalidValue("Label", label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	switch {
	case len(in.AWSAccountIds) == 0:
		return nil, missingParameter("AWSAccountId")
	case len(in.Actions) == 0:
		return nil, missingParameter("ActionName")
	case len(in.Actions) > maxPolicyActions:
		return nil, awsproto.Errorf("OverLimit", 403, "%d Actions were found, maximum allowed is %d.", len(in.Actions), maxPolicyActions)
	}
	var principals, actions []any
	for _, a := range in.AWSAccountIds {
		if !arn.IsAccount(a) {
			return nil, invalidValue("AWSAccountId", a, "The AWS account id is not valid.")
		}
		principals = append(principals, "arn:"+arn.Partition(q.Key.Region)+":iam::"+a+":root")
	}
	for _, a := range in.Actions {
		if !permissionActions[a] {
			return nil, invalidValue("ActionName", "SQS:"+a, "Please refer to the appropriate WSDL for a list of valid actions.")
		}
		actions = append(actions, "SQS:"+a)
	}
	statement := map[string]any{
		"Sid":       label,
		"Effect":    "Allow",
		"Principal": map[string]any{"AWS": single(principals)},
		"Action":    single(actions),
		"Resource":  q.ARN,
	}
	return nil, s.updateQueue(ctx, q.Key, func(_ *store.Tx, cur *queueRow) (map[string]string, error) {
		p, stmts := policyOf(cur)
		for _, st := range stmts {
			if m, _ := st.(map[string]any); m != nil && m["Sid"] == label {
				return nil, invalidValue("Label", label, "Already exists.")
			}
		}
		p["Statement"] = append(stmts, statement)
		return withPolicy(cur.Attrs, p), nil
	})
}

func (s *Service) removePermission(ctx context.Context, in *RemovePermissionRequest) (*struct{}, error) {
	q, err := s.queueFromURL(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	label := awsproto.Value(in.Label)
	return nil, s.updateQueue(ctx, q.Key, func(_ *store.Tx, cur *queueRow) (map[string]string, error) {
		p, stmts := policyOf(cur)
		kept := stmts[:0:0]
		for _, st := range stmts {
			if m, _ := st.(map[string]any); m == nil || m["Sid"] != label {
				kept = append(kept, st)
			}
		}
		if len(kept) == len(stmts) {
			return nil, invalidValue("Label", label, "can't find label.")
		}
		if len(kept) == 0 {
			attrs := maps.Clone(cur.Attrs)
			attrs[attrPolicy] = ""
			return attrs, nil
		}
		p["Statement"] = kept
		return withPolicy(cur.Attrs, p), nil
	})
}

// policyOf is the queue's policy document and its statements, or a new SQS default policy.
func policyOf(q *queueRow) (queuePolicyDoc, []any) {
	var p queuePolicyDoc
	if json.Unmarshal([]byte(q.Attrs[attrPolicy]), &p) != nil || p == nil {
		p = queuePolicyDoc{"Version": "2012-10-17", "Id": q.ARN + "/SQSDefaultPolicy"}
	}
	switch st := p["Statement"].(type) {
	case []any:
		return p, st
	case map[string]any:
		return p, []any{st}
	}
	return p, nil
}

func withPolicy(attrs map[string]string, p queuePolicyDoc) map[string]string {
	b, _ := json.Marshal(p)
	out := maps.Clone(attrs)
	out[attrPolicy] = string(b)
	return out
}

// single is v's one element, or v when it has several: how policies write principals and actions.
func single(v []any) any {
	if len(v) == 1 {
		return v[0]
	}
	return v
}

func validLabel(l string) bool {
	if l == "" || len(l) > 80 {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !isNameByte(l[i]) {
			return false
		}
	}
	return true
}
