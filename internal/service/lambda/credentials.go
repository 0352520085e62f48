package lambda

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/service"
)

// roleSessionDuration is how long issued execution-role credentials last; they are renewed when
// half of that has passed. Instances keep the credentials they started with, so renewed
// credentials also start a new generation of instances (see function): no instance serves an
// invocation with credentials that have less than half their life left.
const roleSessionDuration = 12 * time.Hour

// devCredentials are what functions get when Kiri issues no real ones (dev-mode auth takes any key).
var devCredentials = map[string]string{
	"AWS_ACCESS_KEY_ID": "AKIAKIRIFUNCTIONDEV0", "AWS_SECRET_ACCESS_KEY": "kiri-function-development-secret-key-0000",
}

// credentialCache keeps each execution role's credentials until they are half spent.
type credentialCache struct {
	mu    sync.Mutex
	roles map[string]roleCredentials
}

type roleCredentials struct {
	env map[string]string
	// issued names the credentials' generation; renew is when to replace them.
	issued, renew time.Time
}

// credentials returns the environment variables that give a function its execution role, and
// when they were issued (zero for dev-mode credentials, which never expire).
func (s *Service) credentials(ctx context.Context, t *target) (map[string]string, time.Time, error) {
	if s.deps.Credentials == nil {
		return devCredentials, time.Time{}, nil
	}
	now := s.now()
	s.creds.mu.Lock()
	c, ok := s.creds.roles[t.role]
	s.creds.mu.Unlock()
	if ok && now.Before(c.renew) {
		return c.env, c.issued, nil
	}
	key, secret, token, err := s.deps.Credentials(ctx, t.account, t.role, t.name, roleSessionDuration)
	if err != nil {
		return nil, time.Time{}, lambdaError("ServiceException", http.StatusInternalServerError, "Lambda was unable to assume the execution role %s: %v", t.role, err)
	}
	c = roleCredentials{
		env:    map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token},
		issued: now,
		renew:  now.Add(roleSessionDuration / 2),
	}
	s.creds.mu.Lock()
	if s.creds.roles == nil {
		s.creds.roles = map[string]roleCredentials{}
	}
	s.creds.roles[t.role] = c
	s.creds.mu.Unlock()
	return c.env, c.issued, nil
}

// roleChecker decides whether a service may assume a role (implemented by STS).
type roleChecker interface {
	CheckServiceRole(ctx context.Context, service, account, roleARN string) error
}

// checkRoleWithSTS asks STS whether Lambda may assume a function's execution role.
func checkRoleWithSTS(services *service.Directory) func(ctx context.Context, account, role string) error {
	return func(ctx context.Context, account, role string) error {
		sts, ok := service.Lookup[roleChecker](services, "sts")
		if !ok {
			return errors.New("STS is not running")
		}
		return sts.CheckServiceRole(ctx, "lambda.amazonaws.com", account, role)
	}
}
