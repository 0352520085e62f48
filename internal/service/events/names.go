package events

import (
	"context"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// defaultBus is the name of the bus every account has in every region.
const defaultBus = "default"

// busKey names a bus.
type busKey struct {
	Account, Region, Name string
}

func (k busKey) arn() string {
	return "arn:aws:events:" + k.Region + ":" + k.Account + ":event-bus/" + k.Name
}

// ruleARN is the ARN of the rule name on the bus k: rule/NAME on the default bus,
// rule/BUS/NAME on the others.
func (k busKey) ruleARN(name string) string {
	if k.Name == defaultBus {
		return "arn:aws:events:" + k.Region + ":" + k.Account + ":rule/" + name
	}
	return "arn:aws:events:" + k.Region + ":" + k.Account + ":rule/" + k.Name + "/" + name
}

// callerScope is the account and region a call acts in.
func callerScope(ctx context.Context) (account, region string) { return awsproto.CallFrom(ctx).Scope() }

// validName reports whether s is a bus or rule name: 1 to 64 characters (bus names up to 256)
// of letters, digits and . - _ (and / for buses).
func validName(s string, max int, slash bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
		case c == '/' && slash:
		default:
			return false
		}
	}
	return true
}

// parseBusARN reads arn:aws:events:REGION:ACCOUNT:event-bus/NAME.
func parseBusARN(arn string) (busKey, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" || parts[3] == "" || len(parts[4]) != 12 {
		return busKey{}, false
	}
	name, ok := strings.CutPrefix(parts[5], "event-bus/")
	if !ok || !validName(name, 256, true) {
		return busKey{}, false
	}
	return busKey{Account: parts[4], Region: parts[3], Name: name}, true
}

// parseRuleARN reads a rule's ARN: arn:aws:events:REGION:ACCOUNT:rule/[BUS/]NAME.
func parseRuleARN(arn string) (busKey, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" || parts[3] == "" || len(parts[4]) != 12 {
		return busKey{}, "", false
	}
	rest, ok := strings.CutPrefix(parts[5], "rule/")
	if !ok || rest == "" {
		return busKey{}, "", false
	}
	bus, name := defaultBus, rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		bus, name = rest[:i], rest[i+1:]
	}
	return busKey{Account: parts[4], Region: parts[3], Name: bus}, name, true
}

// busParam is the bus a call's EventBusName (a name or an ARN; nil for the default bus)
// names, in the caller's scope. crossAccount lets the ARN name another account's bus
// (PutEvents); otherwise such a bus does not exist for the caller.
func busParam(ctx context.Context, param *string, crossAccount bool) (busKey, error) {
	account, region := callerScope(ctx)
	v := awsproto.Value(param)
	if v == "" {
		return busKey{Account: account, Region: region, Name: defaultBus}, nil
	}
	if strings.HasPrefix(v, "arn:") {
		k, ok := parseBusARN(v)
		if !ok {
			return busKey{}, validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", v)
		}
		if k.Region != region || (k.Account != account && !crossAccount) {
			return busKey{}, busNotFound(k.Name)
		}
		return k, nil
	}
	if !validName(v, 256, true) {
		return busKey{}, validation("1 validation error detected: Value '%s' at 'eventBusName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws[\\w-]*:events:[a-z]{2}-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+", v)
	}
	return busKey{Account: account, Region: region, Name: v}, nil
}
