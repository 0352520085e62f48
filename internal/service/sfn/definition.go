package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// invalidDefinition is CreateStateMachine's and UpdateStateMachine's refusal of a definition.
func invalidDefinition(problems ...string) error {
	return apiError("InvalidDefinition", "Invalid State Machine Definition: '%s'", strings.Join(problems, ", "))
}

// checkDefinition validates a definition as the States Language defines it (asl.Parse) and
// refuses what this server cannot run: Task resources it has no integration for (and what
// AWS refuses by type: a Distributed Map in an Express state machine). It never accepts a definition whose states would then fail for that.
func (s *Service) checkDefinition(ctx context.Context, sc scope, typ string, def []byte) error {
	if _, err := parseMachine(def); err != nil {
		return err
	}
	var root map[string]any
	if err := json.Unmarshal(def, &root); err != nil {
		return invalidDefinition("INVALID_JSON_DESCRIPTION: " + err.Error())
	}
	var problems []string
	walkStates(root, "", func(path string, st map[string]any) {
		if p := s.unsupported(typ, path, st); p != "" {
			problems = append(problems, p)
		}
	})
	if len(problems) > 0 {
		sort.Strings(problems)
		return invalidDefinition(problems...)
	}
	return nil
}

// walkStates calls f with every state of a definition (or of a Parallel branch, or a Map's
// processor) and its location, depth first.
func walkStates(machine map[string]any, path string, f func(path string, st map[string]any)) {
	states, _ := machine["States"].(map[string]any)
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st, ok := states[n].(map[string]any)
		if !ok {
			continue
		}
		at := path + "/States/" + n
		f(at, st)
		if branches, ok := st["Branches"].([]any); ok {
			for i, b := range branches {
				if bm, ok := b.(map[string]any); ok {
					walkStates(bm, fmt.Sprintf("%s/Branches[%d]", at, i), f)
				}
			}
		}
		for _, key := range []string{"ItemProcessor", "Iterator"} {
			if p, ok := st[key].(map[string]any); ok {
				walkStates(p, at+"/"+key, f)
			}
		}
	}
}

// unsupported describes what of state st this server cannot run, or is "".
func (s *Service) unsupported(typ, path string, st map[string]any) string {
	switch st["Type"] {
	case "Map":
		if p, ok := st["ItemProcessor"].(map[string]any); ok {
			if c, ok := p["ProcessorConfig"].(map[string]any); ok && c["Mode"] == "DISTRIBUTED" && typ == typeExpress {
				return "SCHEMA_VALIDATION_FAILED: Express state machine does not support Distributed Map at " + path + "/ItemProcessor/ProcessorConfig/Mode"
			}
		}
	case "Task":
		res, _ := st["Resource"].(string)
		if res == "" || strings.HasPrefix(res, "{%") {
			return "" // the interpreter validates a missing or JSONata resource
		}
		if err := s.checkResource(res, typ); err != "" {
			return "SCHEMA_VALIDATION_FAILED: " + err + " at " + path + "/Resource"
		}
	}
	return ""
}
