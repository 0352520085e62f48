package sqs

import (
	"context"
	"net/url"
	"strings"

	"github.com/kiri-run/kiri/internal/arn"
	"github.com/kiri-run/kiri/internal/awsproto"
)

// maxQueueName bounds a queue name, ".fifo" included.
const maxQueueName = 80

// fifoSuffix ends the name of every FIFO queue.
const fifoSuffix = ".fifo"

// validQueueName reports whether name is a valid name for a queue of the given type:
// 1 to 80 alphanumerics, hyphens and underscores, a FIFO queue's ending in ".fifo".
func validQueueName(name string, fifo bool) bool {
	if len(name) == 0 || len(name) > maxQueueName {
		return false
	}
	if fifo {
		if !strings.HasSuffix(name, fifoSuffix) {
			return false
		}
		name = strings.TrimSuffix(name, fifoSuffix)
		if name == "" {
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

// queueKey names a queue: its account, region and name.
type queueKey struct {
	Account, Region, Name string
}

// arn is the queue's ARN.
func (k queueKey) arn() string {
	return "arn:" + arn.Partition(k.Region) + ":sqs:" + k.Region + ":" + k.Account + ":" + k.Name
}

// parseQueueARN reads arn:<partition>:sqs:<region>:<account>:<name>.
func parseQueueARN(s string) (queueKey, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[1] != arn.Partition(parts[3]) ||
		parts[3] == "" || !arn.IsAccount(parts[4]) || !validQueueName(parts[5], strings.HasSuffix(parts[5], fifoSuffix)) {
		return queueKey{}, false
	}
	return queueKey{Account: parts[4], Region: parts[3], Name: parts[5]}, true
}

// parseQueueURL reads the account and name of a queue URL. Any host is accepted, since clients
// reach Kiri by many names (127.0.0.1:4566, localhost, sqs.us-east-1.localhost, AWS's own
// endpoints in copied configuration): the queue is the URL's last two path segments.
func parseQueueURL(raw string) (account, name string, ok bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", false
	}
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(segs) < 2 {
		return "", "", false
	}
	account, name = segs[len(segs)-2], segs[len(segs)-1]
	if !arn.IsAccount(account) || !validQueueName(name, strings.HasSuffix(name, fifoSuffix)) {
		return "", "", false
	}
	return account, name, true
}

// queueURL is the URL of a queue as the caller addresses Kiri: http://<host>/<account>/<name>,
// with the host of the request.
func queueURL(ctx context.Context, account, name string) string {
	scheme, host := "http", "localhost:4566"
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil {
		if c.Request.Host != "" {
			host = c.Request.Host
		}
		if c.Request.TLS != nil {
			scheme = "https"
		}
	}
	return scheme + "://" + host + "/" + account + "/" + name
}
