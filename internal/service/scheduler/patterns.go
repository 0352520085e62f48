package scheduler

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// patternChecks are the model's string patterns (names, role and queue ARNs, tokens), which
// Scheduler enforces and the codec does not, as awsproto.ServiceOptions.StringChecks. Patterns
// Go cannot compile (EventBridgeParameters' Source uses a lookahead) are left out.
func patternChecks() (map[string]func(string) []string, error) {
	raw, err := awsproto.ModelJSON("scheduler")
	if err != nil {
		return nil, err
	}
	var m struct {
		Shapes map[string]struct {
			Type    string `json:"type"`
			Pattern string `json:"pattern"`
		} `json:"shapes"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read the scheduler model: %w", err)
	}
	checks := map[string]func(string) []string{}
	for name, sh := range m.Shapes {
		if sh.Type != "string" || sh.Pattern == "" {
			continue
		}
		re, err := regexp.Compile(sh.Pattern)
		if err != nil {
			continue
		}
		problem := "Member must satisfy regular expression pattern: " + sh.Pattern
		checks[name] = func(v string) []string {
			if re.MatchString(v) {
				return nil
			}
			return []string{problem}
		}
	}
	return checks, nil
}
