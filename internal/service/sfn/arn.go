package sfn

import (
	"strconv"
	"strings"
	"unicode"
)

// resource is a Step Functions ARN taken apart:
// arn:aws:states:REGION:ACCOUNT:TYPE:NAME[:QUALIFIER[:...]].
type resource struct {
	scope
	kind string // stateMachine, execution, express, activity
	name string
	// rest are the fields after the name: a state machine's version or alias, an execution's
	// name (and an Express execution's id).
	rest []string
}

// parseARN reads a Step Functions ARN; ok is false when arn is not one.
func parseARN(arn string) (resource, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) < 7 || parts[0] != "arn" || parts[1] == "" || parts[2] != "states" || parts[3] == "" || parts[4] == "" || parts[6] == "" {
		return resource{}, false
	}
	return resource{scope: scope{account: parts[4], region: parts[3]}, kind: parts[5], name: parts[6], rest: parts[7:]}, true
}

// machineRef is what a state machine ARN names: the machine, one of its versions, or an alias.
type machineRef struct {
	sc      scope
	name    string
	version int64  // 0 for none
	alias   string // "" for none
}

func (r machineRef) machineARN() string { return r.sc.machineARN(r.name) }

// parseMachineARN reads a state machine ARN, optionally qualified by a version or an alias
// when qualified allows it.
func parseMachineARN(arn string, qualified bool) (machineRef, error) {
	r, ok := parseARN(arn)
	if !ok {
		return machineRef{}, invalidARN("Invalid ARN prefix: " + arn)
	}
	if r.kind != "stateMachine" {
		return machineRef{}, invalidARN("Resource type not valid in this context: " + r.kind)
	}
	ref := machineRef{sc: r.scope, name: r.name}
	switch {
	case len(r.rest) == 0:
	case len(r.rest) == 1 && qualified:
		if v, err := strconv.ParseInt(r.rest[0], 10, 64); err == nil && v > 0 && r.rest[0][0] != '0' {
			ref.version = v
		} else {
			ref.alias = r.rest[0]
		}
	default:
		return machineRef{}, invalidARN(arn)
	}
	return ref, nil
}

// validName reports whether name may name a state machine, execution, activity or alias:
// 1 to 80 characters, none of them white space, brackets, wildcards, the special characters
// AWS lists, or control characters.
func validName(name string) bool {
	if name == "" || len([]rune(name)) > 80 {
		return false
	}
	for _, c := range name {
		switch {
		case unicode.IsSpace(c), strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", c),
			c <= 0x1f, c >= 0x7f && c <= 0x9f:
			return false
		}
	}
	return true
}

// validAliasName reports whether name may name an alias: a valid name that is not a number
// (which would read as a version).
func validAliasName(name string) bool {
	if !validName(name) {
		return false
	}
	_, err := strconv.ParseInt(name, 10, 64)
	return err != nil
}
