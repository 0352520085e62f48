package s3

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/wildcard"
)

// policyCacheLimit bounds the compiled bucket policies kept by document.
const policyCacheLimit = 1024

// policyMessages are S3's MalformedPolicy messages for the rules a bucket policy can break;
// a refusal S3 has no words of its own for keeps IAM's.
var policyMessages = map[policy.Problem]string{
	policy.ProblemJSON:           "Policies must be valid JSON and the first byte must be '{'",
	policy.ProblemVersion:        "Invalid policy version",
	policy.ProblemNoStatement:    "Missing required field Statement",
	policy.ProblemStatementShape: "Statement must be an object or a list of objects",
	policy.ProblemEmptyStatement: "Could not parse the policy: Statement is empty!",
	policy.ProblemEffect:         "Invalid effect",
	policy.ProblemNoAction:       "Missing required field Action",
	policy.ProblemNoPrincipal:    "Missing required field Principal",
	policy.ProblemNoResource:     "Missing required field Resource",
	policy.ProblemPrincipal:      "Invalid principal in policy",
	policy.ProblemAction:         "Policy has invalid action",
	policy.ProblemResource:       "Policy has invalid resource",
}

// parseBucketPolicy compiles a bucket policy, refusing what IAM refuses in a resource-based
// policy and what S3 refuses beyond it: Allow with NotPrincipal, actions of other services
// and resources outside the bucket.
func parseBucketPolicy(cache *policy.Cache, doc, bucketName string) (*policy.Policy, error) {
	p, err := cache.Parse(doc, policy.Resource)
	if perr := (*policy.Error)(nil); errors.As(err, &perr) {
		if msg, ok := policyMessages[perr.Problem]; ok {
			return nil, errMalformedPolicy(msg)
		}
		return nil, errMalformedPolicy(perr.Message)
	} else if err != nil {
		return nil, fmt.Errorf("parse bucket policy: %w", err)
	}
	for _, st := range p.Statements {
		if st.NotPrincipal != nil && st.Effect == policy.Allow {
			return nil, errMalformedPolicy("Allow with NotPrincipal is not supported")
		}
		for _, a := range append(slices.Clip(st.Action), st.NotAction...) {
			if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
				return nil, errMalformedPolicy("Policy has invalid action")
			}
		}
		for _, r := range append(slices.Clip(st.Resource), st.NotResource...) {
			if r == "*" {
				continue
			}
			rest, ok := strings.CutPrefix(r, "arn:aws:s3:::")
			name, _, _ := strings.Cut(rest, "/")
			if !ok || !wildcard.Match(name, bucketName) {
				return nil, errMalformedPolicy("Policy has invalid resource")
			}
		}
	}
	return p, nil
}

// interimIdentity stands for the identity-based policies of IAM users and role sessions with
// IAM off: every signed identity has its account's full permissions, as the account's root
// user does, so that bucket policies and ACLs alone limit access across accounts.
var interimIdentity = []*policy.Policy{mustPolicy(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)}

func mustPolicy(doc string) *policy.Policy {
	p, err := policy.Parse(doc, policy.Identity)
	if err != nil {
		panic(err)
	}
	return p
}

// interimSet is what applies with IAM off to a request of caller on a bucket with policy p.
func interimSet(p *policy.Policy, caller policy.Principal) *policy.Set {
	set := &policy.Set{Resource: p}
	switch caller.Type {
	case policy.User, policy.AssumedRole:
		set.Identity = interimIdentity
	case policy.FederatedUser:
		set.Identity, set.Session = interimIdentity, interimIdentity
	}
	return set
}

// resourceARN is the policy resource of a bucket (key "") or of one of its objects.
func resourceARN(bucketName, key string) string {
	if key == "" {
		return "arn:aws:s3:::" + bucketName
	}
	return "arn:aws:s3:::" + bucketName + "/" + key
}
