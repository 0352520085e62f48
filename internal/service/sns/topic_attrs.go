package sns

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Topic attribute names.
const (
	attrDisplayName         = "DisplayName"
	attrPolicy              = "Policy"
	attrDeliveryPolicy      = "DeliveryPolicy"
	attrKmsMasterKeyID      = "KmsMasterKeyId"
	attrSignatureVersion    = "SignatureVersion"
	attrTracingConfig       = "TracingConfig"
	attrFifoTopic           = "FifoTopic"
	attrContentBasedDedup   = "ContentBasedDeduplication"
	attrFifoThroughputScope = "FifoThroughputScope"
)

// maxDisplayName bounds a topic's DisplayName.
const maxDisplayName = 100

// unservedTopicAttributes are topic attributes SNS has whose effect Kiri does not provide:
// delivery status logging to CloudWatch Logs, message archiving, data protection. They are
// refused rather than kept and ignored.
var unservedTopicAttributes = map[string]string{
	"ArchivePolicy":        "Kiri does not archive messages",
	"DataProtectionPolicy": "Kiri does not apply data protection policies",
}

// deliveryStatusAttribute reports whether name is one of the delivery status logging
// attributes (HTTPSuccessFeedbackRoleArn, SQSFailureFeedbackRoleArn, ...).
func deliveryStatusAttribute(name string) bool {
	for _, p := range []string{"Application", "HTTP", "Lambda", "SQS", "Firehose"} {
		switch strings.TrimPrefix(name, p) {
		case "SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn":
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// checkTopicAttribute validates one attribute of a topic (fifo tells its type) and returns the
// value to keep; "" removes a removable attribute. creating allows FifoTopic, which only
// CreateTopic sets.
func checkTopicAttribute(name, value string, fifo, creating bool) (string, error) {
	switch name {
	case attrDisplayName:
		if utf8.RuneCountInString(value) > maxDisplayName {
			return "", invalidReason(attrDisplayName, "must be at most 100 characters long")
		}
		return value, nil
	case attrPolicy:
		if value == "" {
			return "", nil
		}
		var doc map[string]any
		if json.Unmarshal([]byte(value), &doc) != nil {
			return "", invalidReason(attrPolicy, "failed to parse JSON.")
		}
		return value, nil
	case attrDeliveryPolicy:
		if value == "" {
			return "", nil
		}
		if _, err := parseTopicPolicy(value); err != nil {
			return "", invalidParameter("DeliveryPolicy: " + err.Error())
		}
		return value, nil
	case attrKmsMasterKeyID:
		return value, nil
	case attrSignatureVersion:
		if value != "1" && value != "2" {
			return "", invalidReason(attrSignatureVersion, "must be 1 or 2")
		}
		return value, nil
	case attrTracingConfig:
		if value != "PassThrough" && value != "Active" {
			return "", invalidReason(attrTracingConfig, "must be PassThrough or Active")
		}
		return value, nil
	case attrFifoTopic:
		if !creating {
			return "", invalidParameter("AttributeName")
		}
		b, ok := parseBool(value)
		if !ok {
			return "", invalidReason(attrFifoTopic, "must be true or false")
		}
		return b, nil
	case attrContentBasedDedup:
		if !fifo {
			return "", invalidReason(attrContentBasedDedup, "Content-based deduplication can only be set for FIFO topics")
		}
		b, ok := parseBool(value)
		if !ok {
			return "", invalidReason(attrContentBasedDedup, "must be true or false")
		}
		return b, nil
	case attrFifoThroughputScope:
		if !fifo {
			return "", invalidReason(attrFifoThroughputScope, "FifoThroughputScope can only be set for FIFO topics")
		}
		if value != "Topic" && value != "MessageGroup" {
			return "", invalidReason(attrFifoThroughputScope, "must be Topic or MessageGroup")
		}
		return value, nil
	}
	if why, ok := unservedTopicAttributes[name]; ok {
		return "", invalidReason(name, why)
	}
	if deliveryStatusAttribute(name) {
		return "", invalidReason(name, "Kiri does not log delivery status to CloudWatch Logs")
	}
	return "", invalidParameter("AttributeName")
}

// parseBool reads "true" or "false" in any case.
func parseBool(s string) (string, bool) {
	switch strings.ToLower(s) {
	case "true":
		return "true", true
	case "false":
		return "false", true
	}
	return "", false
}

// attributes renders GetTopicAttributes: the attributes set on the topic, its defaults,
// and the read-only ones.
func (t *topicRow) attributes(confirmed, pending int64) map[string]string {
	out := map[string]string{
		attrDisplayName:           t.Attrs[attrDisplayName],
		"Owner":                   t.Key.Account,
		attrPolicy:                t.Attrs[attrPolicy],
		"SubscriptionsConfirmed":  strconv.FormatInt(confirmed, 10),
		"SubscriptionsPending":    strconv.FormatInt(pending, 10),
		"SubscriptionsDeleted":    strconv.FormatInt(t.SubsDeleted, 10),
		"TopicArn":                t.ARN,
		"EffectiveDeliveryPolicy": effectiveTopicPolicy(t.policy),
	}
	if out[attrPolicy] == "" {
		out[attrPolicy] = defaultTopicPolicy(t)
	}
	for _, name := range []string{attrDeliveryPolicy, attrKmsMasterKeyID, attrSignatureVersion, attrTracingConfig, attrFifoThroughputScope} {
		if v, ok := t.Attrs[name]; ok && v != "" {
			out[name] = v
		}
	}
	if t.Fifo {
		out[attrFifoTopic] = "true"
		out[attrContentBasedDedup] = t.effective(attrContentBasedDedup)
	}
	return out
}

// effective is the value of a topic attribute, its default when it was never set.
func (t *topicRow) effective(name string) string {
	if v, ok := t.Attrs[name]; ok && v != "" {
		return v
	}
	switch name {
	case attrSignatureVersion:
		return "1"
	case attrContentBasedDedup:
		return "false"
	case attrFifoTopic:
		return strconv.FormatBool(t.Fifo)
	case attrPolicy:
		return defaultTopicPolicy(t)
	}
	return ""
}

// defaultTopicPolicy is the access policy SNS gives a new topic: its own account may do
// everything with it.
func defaultTopicPolicy(t *topicRow) string {
	type statement struct {
		Sid       string            `json:"Sid"`
		Effect    string            `json:"Effect"`
		Principal map[string]string `json:"Principal"`
		Action    []string          `json:"Action"`
		Resource  string            `json:"Resource"`
		Condition map[string]any    `json:"Condition"`
	}
	doc := struct {
		Version   string      `json:"Version"`
		ID        string      `json:"Id"`
		Statement []statement `json:"Statement"`
	}{Version: "2008-10-17", ID: "__default_policy_ID", Statement: []statement{{
		Sid: "__default_statement_ID", Effect: "Allow", Principal: map[string]string{"AWS": "*"},
		Action: []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
			"SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
		Resource:  t.ARN,
		Condition: map[string]any{"StringEquals": map[string]string{"AWS:SourceOwner": t.Key.Account}},
	}}}
	b, _ := json.Marshal(doc)
	return string(b)
}
