package sqs

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Queue attribute names.
const (
	attrAll                          = "All"
	attrPolicy                       = "Policy"
	attrVisibilityTimeout            = "VisibilityTimeout"
	attrMaximumMessageSize           = "MaximumMessageSize"
	attrMessageRetentionPeriod       = "MessageRetentionPeriod"
	attrApproximateNumberOfMessages  = "ApproximateNumberOfMessages"
	attrApproximateNotVisible        = "ApproximateNumberOfMessagesNotVisible"
	attrApproximateDelayed           = "ApproximateNumberOfMessagesDelayed"
	attrCreatedTimestamp             = "CreatedTimestamp"
	attrLastModifiedTimestamp        = "LastModifiedTimestamp"
	attrQueueArn                     = "QueueArn"
	attrDelaySeconds                 = "DelaySeconds"
	attrReceiveMessageWaitTime       = "ReceiveMessageWaitTimeSeconds"
	attrRedrivePolicy                = "RedrivePolicy"
	attrRedriveAllowPolicy           = "RedriveAllowPolicy"
	attrFifoQueue                    = "FifoQueue"
	attrContentBasedDeduplication    = "ContentBasedDeduplication"
	attrKmsMasterKeyID               = "KmsMasterKeyId"
	attrKmsDataKeyReusePeriodSeconds = "KmsDataKeyReusePeriodSeconds"
	attrDeduplicationScope           = "DeduplicationScope"
	attrFifoThroughputLimit          = "FifoThroughputLimit"
	attrSqsManagedSseEnabled         = "SqsManagedSseEnabled"
)

// Limits of the message size: MaximumMessageSize's range, and what a batch may carry in all.
const (
	minMessageSize = 1024
	maxMessageSize = 1 << 20
)

// readOnlyAttributes are the attributes GetQueueAttributes computes.
var readOnlyAttributes = map[string]bool{
	attrApproximateNumberOfMessages: true, attrApproximateNotVisible: true, attrApproximateDelayed: true,
	attrCreatedTimestamp: true, attrLastModifiedTimestamp: true, attrQueueArn: true,
}

// attrSpec is one settable attribute: its default and how a value is checked and written.
type attrSpec struct {
	def      string
	fifoOnly bool
	// canon checks a value and returns its canonical form; reason explains a refusal ("" for
	// the plain "Invalid value for the parameter X.").
	canon func(v string) (string, string, bool)
}

func intRange(lo, hi int) func(string) (string, string, bool) {
	return func(v string) (string, string, bool) {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi || strings.HasPrefix(v, "+") {
			return "", "", false
		}
		return strconv.Itoa(n), "", true
	}
}

func boolean(v string) (string, string, bool) {
	switch strings.ToLower(v) {
	case "true":
		return "true", "", true
	case "false":
		return "false", "", true
	}
	return "", "", false
}

func oneOf(values ...string) func(string) (string, string, bool) {
	return func(v string) (string, string, bool) {
		for _, w := range values {
			if v == w {
				return v, "", true
			}
		}
		return "", "", false
	}
}

func anyString(v string) (string, string, bool) { return v, "", true }

// policyDocument accepts "" (no policy) or a JSON object.
func policyDocument(v string) (string, string, bool) {
	if v == "" {
		return "", "", true
	}
	var doc map[string]any
	if json.Unmarshal([]byte(v), &doc) != nil {
		return "", "", false
	}
	return v, "", true
}

// attrSpecs are the settable attributes. Defaults are SQS's.
var attrSpecs = map[string]attrSpec{
	attrDelaySeconds:                 {def: "0", canon: intRange(0, 900)},
	attrMaximumMessageSize:           {def: strconv.Itoa(maxMessageSize), canon: intRange(minMessageSize, maxMessageSize)},
	attrMessageRetentionPeriod:       {def: "345600", canon: intRange(60, 1209600)},
	attrReceiveMessageWaitTime:       {def: "0", canon: intRange(0, 20)},
	attrVisibilityTimeout:            {def: "30", canon: intRange(0, 43200)},
	attrPolicy:                       {def: "", canon: policyDocument},
	attrRedrivePolicy:                {def: "", canon: canonRedrivePolicy},
	attrRedriveAllowPolicy:           {def: "", canon: canonRedriveAllowPolicy},
	attrKmsMasterKeyID:               {def: "", canon: anyString},
	attrKmsDataKeyReusePeriodSeconds: {def: "300", canon: intRange(60, 86400)},
	attrSqsManagedSseEnabled:         {def: "true", canon: boolean},
	attrFifoQueue:                    {def: "true", fifoOnly: true, canon: boolean},
	attrContentBasedDeduplication:    {def: "false", fifoOnly: true, canon: boolean},
	attrDeduplicationScope:           {def: "queue", fifoOnly: true, canon: oneOf("queue", "messageGroup")},
	attrFifoThroughputLimit:          {def: "perQueue", fifoOnly: true, canon: oneOf("perQueue", "perMessageGroupId")},
}

// knownAttribute reports whether name is a queue attribute GetQueueAttributes may ask for.
func knownAttribute(name string) bool {
	_, settable := attrSpecs[name]
	return settable || readOnlyAttributes[name] || name == attrAll
}

// defaultAttributes are the settable attributes of a new queue of the type.
func defaultAttributes(fifo bool) map[string]string {
	m := make(map[string]string, len(attrSpecs))
	for name, spec := range attrSpecs {
		if spec.fifoOnly && !fifo {
			continue
		}
		m[name] = spec.def
	}
	return m
}

// applyAttributes checks in against a queue of the type and returns cur with in applied, values
// canonical. creating is true for CreateQueue, where FifoQueue may be given; a standard queue
// knows no FIFO attribute. It does not look at other queues (see checkRedrive).
func applyAttributes(cur, in map[string]string, fifo, creating bool) (map[string]string, error) {
	out := maps.Clone(cur)
	for _, name := range sortedKeys(in) {
		v := in[name]
		spec, ok := attrSpecs[name]
		switch {
		case !ok:
			return nil, unknownAttribute(name)
		case spec.fifoOnly && !fifo && (name == attrDeduplicationScope || name == attrFifoThroughputLimit):
			return nil, invalidAttributeName("You can specify the %s only when FifoQueue is set to true.", name)
		case spec.fifoOnly && !fifo:
			return nil, unknownAttribute(name)
		}
		c, reason, ok := spec.canon(v)
		if !ok && (name == attrRedrivePolicy || name == attrRedriveAllowPolicy) {
			return nil, invalidValue(name, v, reason)
		}
		if !ok {
			return nil, invalidAttribute(name, reason)
		}
		if name == attrFifoQueue && c != "true" {
			if creating {
				return nil, invalidAttribute(name, "")
			}
			return nil, invalidAttribute(name, "Modifying queue type is not supported.")
		}
		out[name] = c
	}
	// One server-side encryption at a time: a KMS key turns SSE-SQS off, unless both are asked for.
	if in[attrKmsMasterKeyID] != "" {
		if sse, _, _ := boolean(in[attrSqsManagedSseEnabled]); sse == "true" {
			return nil, invalidAttributeName("You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
		}
		out[attrSqsManagedSseEnabled] = "false"
	}
	if out[attrKmsMasterKeyID] != "" && out[attrSqsManagedSseEnabled] == "true" {
		return nil, invalidAttributeName("You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
	}
	if fifo && out[attrFifoThroughputLimit] == "perMessageGroupId" && out[attrDeduplicationScope] != "messageGroup" {
		return nil, invalidAttribute(attrFifoThroughputLimit, "The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.")
	}
	return out, nil
}

// settings are a queue's attributes as the message paths use them.
type settings struct {
	Fifo                      bool
	ContentBasedDeduplication bool
	GroupScopedDeduplication  bool // DeduplicationScope messageGroup
	Delay                     time.Duration
	MaxMessageSize            int
	Retention                 time.Duration
	ReceiveWait               time.Duration
	Visibility                time.Duration
	Redrive                   *redrivePolicy // nil: no dead-letter queue
	Allow                     redriveAllowPolicy
}

// parseSettings reads canonical attributes (as applyAttributes wrote them).
func parseSettings(a map[string]string) settings {
	seconds := func(name string) time.Duration {
		n, _ := strconv.Atoi(a[name])
		return time.Duration(n) * time.Second
	}
	s := settings{
		Fifo:                      a[attrFifoQueue] == "true",
		ContentBasedDeduplication: a[attrContentBasedDeduplication] == "true",
		GroupScopedDeduplication:  a[attrDeduplicationScope] == "messageGroup",
		Delay:                     seconds(attrDelaySeconds),
		Retention:                 seconds(attrMessageRetentionPeriod),
		ReceiveWait:               seconds(attrReceiveMessageWaitTime),
		Visibility:                seconds(attrVisibilityTimeout),
	}
	s.MaxMessageSize, _ = strconv.Atoi(a[attrMaximumMessageSize])
	if rp, ok := parseRedrivePolicy(a[attrRedrivePolicy]); ok {
		s.Redrive = &rp
	}
	s.Allow, _ = parseRedriveAllowPolicy(a[attrRedriveAllowPolicy])
	return s
}

// redrivePolicy is a parsed RedrivePolicy.
type redrivePolicy struct {
	DeadLetterTargetArn string
	MaxReceiveCount     int
}

// redrivePolicyJSON is RedrivePolicy's wire form; maxReceiveCount may be a number or a string.
type redrivePolicyJSON struct {
	DeadLetterTargetArn *string         `json:"deadLetterTargetArn"`
	MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
}

// decodeRedrivePolicy reads a RedrivePolicy value, with the reason it is refused.
func decodeRedrivePolicy(v string) (redrivePolicy, string) {
	var j redrivePolicyJSON
	dec := json.NewDecoder(strings.NewReader(v))
	if err := dec.Decode(&j); err != nil || dec.More() {
		return redrivePolicy{}, "Redrive policy is not a valid JSON map."
	}
	if j.DeadLetterTargetArn == nil {
		return redrivePolicy{}, "Redrive policy does not contain mandatory attribute: deadLetterTargetArn."
	}
	if j.MaxReceiveCount == nil {
		return redrivePolicy{}, "Redrive policy does not contain mandatory attribute: maxReceiveCount."
	}
	raw := string(bytes.Trim(j.MaxReceiveCount, `"`))
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 1000 {
		return redrivePolicy{}, "Invalid value for maxReceiveCount: " + raw + ", valid values are from 1 to 1000 both inclusive."
	}
	if _, ok := parseQueueARN(*j.DeadLetterTargetArn); !ok {
		return redrivePolicy{}, "Invalid value for deadLetterTargetArn."
	}
	return redrivePolicy{DeadLetterTargetArn: *j.DeadLetterTargetArn, MaxReceiveCount: n}, ""
}

// canonRedrivePolicy checks a RedrivePolicy value ("" removes the policy) and writes it as SQS
// returns it.
func canonRedrivePolicy(v string) (string, string, bool) {
	if v == "" {
		return "", "", true
	}
	rp, reason := decodeRedrivePolicy(v)
	if reason != "" {
		return "", reason, false
	}
	b, _ := json.Marshal(struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     int    `json:"maxReceiveCount"`
	}{rp.DeadLetterTargetArn, rp.MaxReceiveCount})
	return string(b), "", true
}

// parseRedrivePolicy reads a canonical RedrivePolicy; false when there is none.
func parseRedrivePolicy(v string) (redrivePolicy, bool) {
	if v == "" {
		return redrivePolicy{}, false
	}
	rp, reason := decodeRedrivePolicy(v)
	return rp, reason == ""
}

// Redrive permissions of a RedriveAllowPolicy.
const (
	allowAll = "allowAll"
	denyAll  = "denyAll"
	byQueue  = "byQueue"
)

// maxRedriveSources bounds sourceQueueArns.
const maxRedriveSources = 10

// redriveAllowPolicy is a parsed RedriveAllowPolicy; the zero value allows all.
type redriveAllowPolicy struct {
	Permission string   `json:"redrivePermission"`
	Sources    []string `json:"sourceQueueArns,omitempty"`
}

// allows reports whether the queue named by arn may use the policy's queue as its dead-letter
// queue.
func (p redriveAllowPolicy) allows(arn string) bool {
	switch p.Permission {
	case denyAll:
		return false
	case byQueue:
		for _, s := range p.Sources {
			if s == arn {
				return true
			}
		}
		return false
	}
	return true
}

// decodeRedriveAllowPolicy reads a RedriveAllowPolicy value, with the reason it is refused.
func decodeRedriveAllowPolicy(v string) (redriveAllowPolicy, string) {
	var j struct {
		Permission *string  `json:"redrivePermission"`
		Sources    []string `json:"sourceQueueArns"`
	}
	dec := json.NewDecoder(strings.NewReader(v))
	if err := dec.Decode(&j); err != nil || dec.More() {
		return redriveAllowPolicy{}, "Amazon SQS can't create the redrive allow policy, as it's in an unsupported format."
	}
	if j.Permission == nil {
		return redriveAllowPolicy{}, "Redrive allow policy does not contain mandatory attribute: redrivePermission."
	}
	p := redriveAllowPolicy{Permission: *j.Permission, Sources: j.Sources}
	switch {
	case p.Permission != allowAll && p.Permission != denyAll && p.Permission != byQueue:
		return redriveAllowPolicy{}, "Invalid value for redrivePermission: " + p.Permission + ", valid values are allowAll, denyAll and byQueue."
	case p.Permission != byQueue && j.Sources != nil:
		return redriveAllowPolicy{}, "You can specify sourceQueueArns only when redrivePermission is set to byQueue."
	case p.Permission == byQueue && len(p.Sources) == 0:
		return redriveAllowPolicy{}, "You must specify at least one source queue ARN when redrivePermission is set to byQueue."
	case len(p.Sources) > maxRedriveSources:
		return redriveAllowPolicy{}, "You can specify at most 10 source queue ARNs. To allow more source queues, set redrivePermission to allowAll."
	}
	for _, s := range p.Sources {
		if _, ok := parseQueueARN(s); !ok {
			return redriveAllowPolicy{}, "Invalid value for sourceQueueArns: " + s + "."
		}
	}
	return p, ""
}

func canonRedriveAllowPolicy(v string) (string, string, bool) {
	if v == "" {
		return "", "", true
	}
	p, reason := decodeRedriveAllowPolicy(v)
	if reason != "" {
		return "", reason, false
	}
	b, _ := json.Marshal(p)
	return string(b), "", true
}

// parseRedriveAllowPolicy reads a canonical RedriveAllowPolicy; "" allows all.
func parseRedriveAllowPolicy(v string) (redriveAllowPolicy, bool) {
	if v == "" {
		return redriveAllowPolicy{Permission: allowAll}, true
	}
	p, reason := decodeRedriveAllowPolicy(v)
	return p, reason == ""
}

// shownAttribute reports whether GetQueueAttributes returns name for a queue with attributes a:
// every computed one, the settable ones of the queue's type, the optional ones only when set.
func shownAttribute(name string, a map[string]string) bool {
	switch name {
	case attrPolicy, attrRedrivePolicy, attrRedriveAllowPolicy, attrKmsMasterKeyID:
		return a[name] != ""
	case attrKmsDataKeyReusePeriodSeconds:
		return a[attrKmsMasterKeyID] != ""
	}
	_, ok := a[name]
	return ok || readOnlyAttributes[name]
}

// sortedKeys returns m's keys in order, so that the first bad attribute reported is stable.
func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }
