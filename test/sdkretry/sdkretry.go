// Package sdkretry gives tests' AWS SDK clients the one retry they need. Tests assert on single
// responses, so their clients must not retry what the server answered. But Go's HTTP client
// sometimes closes a pooled connection on its own side while a response is still being read
// (aws-sdk-go-v2#2737), and the SDK retries that error by default since aws-sdk-go-v2#2949;
// without the retry a busy test machine turns it into a failed test.
package sdkretry

import (
	"errors"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// New returns a retryer that retries only errors of a connection the client closed itself, at
// most twice, at once.
func New() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = 3
		o.Retryables = []retry.IsErrorRetryable{retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
			if errors.Is(err, net.ErrClosed) {
				return aws.TrueTernary
			}
			return aws.FalseTernary
		})}
		o.RateLimiter = ratelimit.None
		o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	})
}
