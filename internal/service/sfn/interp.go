package sfn

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"sync"

	"github.com/kiri-run/kiri/internal/asl"
)

// machines caches parsed definitions by their hash: executions step the same few definitions
// over and over.
type machines struct{ m sync.Map }

// parsed is the parsed definition def.
func (c *machines) parsed(def string) (*asl.Machine, error) {
	key := sha256.Sum256([]byte(def))
	if m, ok := c.m.Load(key); ok {
		return m.(*asl.Machine), nil
	}
	m, err := parseMachine([]byte(def))
	if err != nil {
		return nil, err
	}
	c.m.Store(key, m)
	return m, nil
}

// parseMachine parses a definition, answering InvalidDefinition with the interpreter's
// diagnostics when it is not valid.
func parseMachine(def []byte) (*asl.Machine, error) {
	m, err := asl.Parse(def)
	var ve *asl.ValidationError
	if errors.As(err, &ve) {
		return nil, apiError("InvalidDefinition", "%s", ve.Error())
	}
	return m, err
}

// timeoutSeconds is a definition's top-level TimeoutSeconds, or 0.
func timeoutSeconds(def string) int64 {
	var top struct {
		TimeoutSeconds int64
	}
	_ = json.Unmarshal([]byte(def), &top)
	return top.TimeoutSeconds
}
