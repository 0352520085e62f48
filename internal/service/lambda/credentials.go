package lambda

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// roleSessionDuration is how long issued execution-role credentials last; they are renewed when
// half of that has passed.
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
	env   map[string]string
	renew time.Time
}

// credentials returns the environment variables that give a function its execution role.
func (s *Service) credentials(ctx context.Context, t *target) (map[string]string, error) {
	if s.deps.Credentials == nil {
		return devCredentials, nil
	}
	now := s.now()
	s.creds.mu.Lock()
	c, ok := s.creds.roles[t.role]
	s.creds.mu.Unlock()
	if ok && now.Before(c.renew) {
		return c.env, nil
	}
	key, secret, token, err := s.deps.Credentials(ctx, t.role, t.name, roleSessionDuration)
	if err != nil {
		return nil, lambdaError("ServiceException", http.StatusInternalServerError, "Lambda was unable to assume the execution role %s: %v", t.role, err)
	}
	c = roleCredentials{
		env:   map[string]string{"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token},
		renew: now.Add(roleSessionDuration / 2),
	}
	s.creds.mu.Lock()
	if s.creds.roles == nil {
		s.creds.roles = map[string]roleCredentials{}
	}
	s.creds.roles[t.role] = c
	s.creds.mu.Unlock()
	return c.env, nil
}
