package sns

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRetryPolicyPhases(t *testing.T) {
	t.Parallel()
	delays := func(p retryPolicy) []time.Duration {
		var out []time.Duration
		for k := 1; ; k++ {
			d, ok := p.delay(k)
			if !ok {
				return out
			}
			out = append(out, d)
		}
	}
	t.Run("SNS's default: three retries 20 seconds apart", func(t *testing.T) {
		got := delays(defaultRetryPolicy)
		if len(got) != 3 || got[0] != 20*time.Second || got[2] != 20*time.Second {
			t.Fatalf("delays %v", got)
		}
	})
	t.Run("the documented sample policy makes 50 retries in four phases", func(t *testing.T) {
		p, err := parseSubscriptionPolicy(`{"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 60, "numRetries": 50,
			"numNoDelayRetries": 3, "numMinDelayRetries": 2, "numMaxDelayRetries": 35, "backoffFunction": "exponential"}}`)
		if err != nil {
			t.Fatal(err)
		}
		got := delays(*p.HealthyRetryPolicy)
		if len(got) != 50 {
			t.Fatalf("%d retries, want 50", len(got))
		}
		for i, want := range map[int]time.Duration{0: 0, 2: 0, 3: time.Second, 4: time.Second, 5: time.Second, 14: 60 * time.Second, 15: 60 * time.Second, 49: 60 * time.Second} {
			if got[i] != want {
				t.Errorf("retry %d waits %v, want %v", i+1, got[i], want)
			}
		}
		for i := 6; i < 15; i++ {
			if got[i] < got[i-1] {
				t.Errorf("backoff shrinks at retry %d: %v after %v", i+1, got[i], got[i-1])
			}
		}
	})
	for _, fn := range []string{"linear", "arithmetic", "geometric", "exponential"} {
		t.Run(fn+" backoff runs from the minimum to the maximum", func(t *testing.T) {
			p := retryPolicy{MinDelayTarget: 5, MaxDelayTarget: 260, NumRetries: 10, BackoffFunction: fn}
			got := delays(p)
			if got[0] != 5*time.Second || got[9] != 260*time.Second {
				t.Fatalf("delays %v", got)
			}
		})
	}
}

func TestDeliveryPolicyRefusals(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ policy, reason string }{
		"not JSON":            {`{`, "failed to parse JSON."},
		"unknown member":      {`{"healthyRetryPolicy": {"tries": 3}}`, `Unrecognized field "tries".`},
		"too many retries":    {`{"healthyRetryPolicy": {"numRetries": 101}}`, "numRetries must be between 0 and 100"},
		"min above max":       {`{"healthyRetryPolicy": {"minDelayTarget": 30, "maxDelayTarget": 10}}`, "minDelayTarget must be less than or equal to maxDelayTarget"},
		"zero delay":          {`{"healthyRetryPolicy": {"minDelayTarget": 0}}`, "minDelayTarget must be at least 1"},
		"delay above an hour": {`{"healthyRetryPolicy": {"maxDelayTarget": 3601}}`, "maxDelayTarget must be at most 3600"},
		"phases beyond total": {`{"healthyRetryPolicy": {"numRetries": 2, "numNoDelayRetries": 3}}`, "must add up to at most numRetries"},
		"unknown function":    {`{"healthyRetryPolicy": {"backoffFunction": "random"}}`, "backoffFunction must be one of"},
		"over an hour":        {`{"healthyRetryPolicy": {"minDelayTarget": 100, "maxDelayTarget": 100, "numRetries": 40}}`, "total retry time must not exceed 3600 seconds"},
		"no throttle":         {`{"throttlePolicy": {"maxReceivesPerSecond": 0}}`, "maxReceivesPerSecond must be at least 1"},
		"content type":        {`{"requestPolicy": {"headerContentType": "image/png"}}`, `headerContentType "image/png" is not supported`},
		"wrong type":          {`{"healthyRetryPolicy": {"numRetries": "3"}}`, "has the wrong type"},
	} {
		_, err := parseSubscriptionPolicy(c.policy)
		var pe *policyError
		if !errors.As(err, &pe) || !strings.Contains(pe.reason, c.reason) {
			t.Errorf("%s: err = %v, want %q", name, err, c.reason)
		}
	}
	if _, err := parseTopicPolicy(`{"lambda": {}}`); err == nil || !strings.Contains(err.Error(), "Delivery protocol [lambda] does not support delivery policies.") {
		t.Errorf("a topic policy for lambda: %v", err)
	}
}

func TestEffectivePolicy(t *testing.T) {
	t.Parallel()
	tp, err := parseTopicPolicy(`{"http": {"defaultHealthyRetryPolicy": {"numRetries": 5}, "defaultRequestPolicy": {"headerContentType": "application/json"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := parseSubscriptionPolicy(`{"healthyRetryPolicy": {"numRetries": 1}, "throttlePolicy": {"maxReceivesPerSecond": 2}}`)
	if err != nil {
		t.Fatal(err)
	}
	if p := effectivePolicy(tp, sp); p.Retry.NumRetries != 1 || p.MaxPerSecond != 2 || p.ContentType != "application/json" {
		t.Errorf("subscription over topic: %+v", p)
	}
	tp.DisableSubscriptionOverrides = true
	if p := effectivePolicy(tp, sp); p.Retry.NumRetries != 5 || p.MaxPerSecond != 0 {
		t.Errorf("with disableSubscriptionOverrides: %+v", p)
	}
	if p := effectivePolicy(nil, nil); p.Retry != defaultRetryPolicy || p.ContentType != "" {
		t.Errorf("defaults: %+v", p)
	}
}

// FuzzDeliveryPolicy feeds delivery policies to both parsers: neither panics, and a policy
// they accept schedules retries within SNS's limits.
func FuzzDeliveryPolicy(f *testing.F) {
	for _, s := range []string{
		`{"healthyRetryPolicy": {"minDelayTarget": 1, "maxDelayTarget": 60, "numRetries": 50, "numNoDelayRetries": 3, "numMinDelayRetries": 2, "numMaxDelayRetries": 35, "backoffFunction": "exponential"}, "throttlePolicy": {"maxReceivesPerSecond": 10}}`,
		`{"http": {"defaultHealthyRetryPolicy": {"numRetries": 3}, "disableSubscriptionOverrides": true, "defaultRequestPolicy": {"headerContentType": "text/html; charset=UTF-8"}}}`,
		`{"healthyRetryPolicy": null}`, `{}`, `[]`, `{"http": 1}`, `{"healthyRetryPolicy": {"minDelayTarget": -1}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var retries []*retryPolicy
		if sp, err := parseSubscriptionPolicy(s); err == nil {
			retries = append(retries, sp.HealthyRetryPolicy)
		}
		if tp, err := parseTopicPolicy(s); err == nil {
			retries = append(retries, tp.DefaultHealthyRetryPolicy)
			_ = effectiveTopicPolicy(tp)
		}
		for _, p := range retries {
			if p == nil {
				continue
			}
			var total time.Duration
			for k := 1; k <= p.NumRetries; k++ {
				d, ok := p.delay(k)
				if !ok || d < 0 || d > maxDelaySeconds*time.Second {
					t.Fatalf("%s: retry %d waits %v (%v)", s, k, d, ok)
				}
				total += d
			}
			if total > maxRetrySeconds*time.Second {
				t.Fatalf("%s: retries take %v", s, total)
			}
		}
	})
}
