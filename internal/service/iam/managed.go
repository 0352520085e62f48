package iam

import (
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/iam/policy"
)

// awsPoliciesJSON holds the AWS managed policies every account sees: their paths, default
// versions and documents as AWS publishes them (see managed/NOTICE).
//
//go:embed managed/aws.json
var awsPoliciesJSON []byte

// awsPrefix starts the ARN of every AWS managed policy.
const awsPrefix = "arn:aws:iam::aws:policy"

// awsPolicy is one AWS managed policy. Kiri holds its default version only.
type awsPolicy struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Version  string    `json:"version"`
	Updated  time.Time `json:"updated"`
	Document string    `json:"document"`
}

func (p *awsPolicy) arn() string { return awsPrefix + p.Path + p.Name }

// id derives the policy's id (ANPA...) from its name, so it is the same in every account.
func (p *awsPolicy) id() string {
	sum := sha256.Sum256([]byte(p.arn()))
	return "ANPA" + idEncoding.EncodeToString(sum[:])[:17]
}

// awsCatalog is the AWS managed policies by ARN, and in name order.
type awsCatalog struct {
	byARN   map[string]*awsPolicy
	ordered []*awsPolicy
	parsed  map[string]*policy.Policy
}

var awsPolicies = sync.OnceValue(func() *awsCatalog {
	var list []*awsPolicy
	if err := json.Unmarshal(awsPoliciesJSON, &list); err != nil {
		panic(fmt.Sprintf("iam: embedded AWS managed policies: %v", err))
	}
	c := &awsCatalog{byARN: map[string]*awsPolicy{}, parsed: map[string]*policy.Policy{}}
	for _, p := range list {
		parsed, err := policy.Parse(p.Document, policy.Identity)
		if err != nil {
			panic(fmt.Sprintf("iam: AWS managed policy %s: %v", p.Name, err))
		}
		c.byARN[p.arn()] = p
		c.parsed[p.arn()] = parsed
		c.ordered = append(c.ordered, p)
	}
	return c
})

// isAWSPolicy reports whether arn names an AWS managed policy (existing or not).
func isAWSPolicy(arn string) bool { return strings.HasPrefix(arn, awsPrefix+"/") }
