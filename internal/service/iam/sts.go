package iam

import (
	"context"
	"time"

	"github.com/kiri-run/kiri/internal/iam/identity"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// Role finds the role arn names (its path included), for STS to issue a session of it.
func (s *Service) Role(ctx context.Context, arn string) (identity.Role, bool, error) {
	account, kind, _, name, ok := splitIAMARN(arn)
	if !ok || kind != kindRole {
		return identity.Role{}, false, nil
	}
	q := s.read(ctx)
	e, err := findEntity(q, account, kindRole, name)
	if err != nil || e == nil || e.arn() != arn {
		return identity.Role{}, false, err
	}
	trust, err := s.compiled.Parse(e.trust, policy.Trust)
	if err != nil {
		s.log.Warn("stored trust policy no longer parses", "role", arn, "err", err)
		trust = nil
	}
	tags, err := loadTags(q, e.id)
	if err != nil {
		return identity.Role{}, false, err
	}
	return identity.Role{ARN: arn, Account: account, Name: e.name, ID: e.id, Trust: trust,
		MaxSession: time.Duration(e.maxSession) * time.Second, Tags: tagMap(tags)}, true, nil
}

// ManagedPolicyDocument returns the default version's document of a managed policy the
// account sees (an AWS managed policy, or one of its own), for session policies (PolicyArns).
func (s *Service) ManagedPolicyDocument(ctx context.Context, account, arn string) (string, bool, error) {
	return defaultDocument(s.read(ctx), account, arn)
}
