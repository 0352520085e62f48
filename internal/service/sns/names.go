package sns

import (
	"strings"

	"github.com/kiri-run/kiri/internal/arn"
)

// maxTopicName bounds a topic name, ".fifo" included.
const maxTopicName = 256

// fifoSuffix ends the name of every FIFO topic.
const fifoSuffix = ".fifo"

// topicKey names a topic: its account, region and name.
type topicKey struct {
	Account, Region, Name string
}

// arn is the topic's ARN.
func (k topicKey) arn() string {
	return "arn:" + arn.Partition(k.Region) + ":sns:" + k.Region + ":" + k.Account + ":" + k.Name
}

// validTopicName reports whether name is a valid name for a topic of the given type: 1 to 256
// alphanumerics, hyphens and underscores, a FIFO topic's ending in ".fifo" (counted in the 256).
func validTopicName(name string, fifo bool) bool {
	if len(name) == 0 || len(name) > maxTopicName {
		return false
	}
	if fifo {
		var ok bool
		if name, ok = strings.CutSuffix(name, fifoSuffix); !ok || name == "" {
			return false
		}
	}
	for i := 0; i < len(name); i++ {
		if !isNameByte(name[i]) {
			return false
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// arnParts splits an ARN of service into its region, account and resource, the resource being
// the parts after the account joined by ':'. It reports false for another service's ARN or a
// malformed one.
func arnParts(s, service string) (region, account, resource string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != service || parts[3] == "" ||
		parts[1] != arn.Partition(parts[3]) || !arn.IsAccount(parts[4]) || parts[5] == "" {
		return "", "", "", false
	}
	return parts[3], parts[4], parts[5], true
}

// parseTopicARN reads arn:<partition>:sns:<region>:<account>:<name>.
func parseTopicARN(s string) (topicKey, bool) {
	region, account, name, ok := arnParts(s, "sns")
	if !ok || !validTopicName(name, strings.HasSuffix(name, fifoSuffix)) {
		return topicKey{}, false
	}
	return topicKey{Account: account, Region: region, Name: name}, true
}

// parseSubscriptionARN reads <topic ARN>:<subscription id>.
func parseSubscriptionARN(s string) (topicKey, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || i == len(s)-1 {
		return topicKey{}, false
	}
	return parseTopicARN(s[:i])
}

// queueARN reads the account and region of an SQS queue ARN, and whether it names a FIFO queue.
func queueARN(s string) (account, region string, fifo, ok bool) {
	region, account, name, ok := arnParts(s, "sqs")
	if !ok || strings.Contains(name, ":") {
		return "", "", false, false
	}
	return account, region, strings.HasSuffix(name, fifoSuffix), true
}

// functionARN reads the account and region of a Lambda function ARN, qualified or not.
func functionARN(s string) (account, region string, ok bool) {
	region, account, res, ok := arnParts(s, "lambda")
	if !ok {
		return "", "", false
	}
	parts := strings.Split(res, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "function" || parts[1] == "" || len(parts) == 3 && parts[2] == "" {
		return "", "", false
	}
	return account, region, true
}
