package pattern

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestFilterPolicyRefusals checks the messages AWS returned for these policies on Subscribe
// (recorded 2024-05 in localstack's SNS filter policy snapshots, see testdata/NOTICE), and
// the SetSubscriptionAttributes form of each.
func TestFilterPolicyRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, policy string
		scope        FilterPolicyScope
		subscribe    string // the message AWS returned to Subscribe
	}{
		{"value list inside the value list", `{"key":[["value"]]}`, "", "FilterPolicy: Match value must be String, number, true, false, or null"},
		{"unknown operator", `{"key":[{"wrong-operator":true}]}`, "", "FilterPolicy: Unrecognized match type wrong-operator"},
		{"two operators", `{"key":[{"suffix":"value","prefix":"value2"}]}`, "", "FilterPolicy: Only one key allowed in match expression"},
		{"suffix number", `{"key":[{"suffix":100}]}`, "", "FilterPolicy: suffix match pattern must be a string"},
		{"suffix null", `{"key":[{"suffix":null}]}`, "", "FilterPolicy: suffix match pattern must be a string"},
		{"operator outside a list", `{"key":{"suffix":"value"}}`, ScopeMessageBody, `FilterPolicy: "suffix" must be an object or an array`},
		{"suffix list", `{"key":[{"suffix":["test","test2"]}]}`, "", "FilterPolicy: suffix match pattern must be a string"},
		{"numeric empty", `{"key":[{"numeric":[]}]}`, "", "FilterPolicy: Invalid member in numeric match: ]"},
		{"numeric unknown operator", `{"key":[{"numeric":["operator"]}]}`, "", "FilterPolicy: Unrecognized numeric range operator: operator"},
		{"numeric operator order", `{"key":[{"numeric":[1,"<="]}]}`, "", "FilterPolicy: Invalid member in numeric match: 1"},
		{"numeric string value", `{"key":[{"numeric":["=","000"]}]}`, "", "FilterPolicy: Value of equals must be numeric"},
		{"numeric missing value", `{"key":[{"numeric":[">="]}]}`, "", "FilterPolicy: Value of >= must be numeric"},
		{"numeric wrong range order", `{"key":[{"numeric":["<",100,">",10]}]}`, "", "FilterPolicy: Too many elements in numeric expression"},
		{"numeric wrong range operators", `{"key":[{"numeric":[">=",1,">",2]}]}`, "", "FilterPolicy: Bad numeric range operator: >"},
		{"numeric wrong value order", `{"key":[{"numeric":[">",3,"<",1]}]}`, "", "FilterPolicy: Bottom must be less than top"},
		{"numeric missing range value", `{"key":[{"numeric":[">",20,"<="]}]}`, "", "FilterPolicy: Value of <= must be numeric"},
		{"numeric missing range operator", `{"key":[{"numeric":[">",20,30]}]}`, "", "FilterPolicy: Bad value in numeric range: 30"},
		{"numeric wrong second operator", `{"key":[{"numeric":[">",20,"test"]}]}`, "", "FilterPolicy: Bad numeric range operator: test"},
		{"numeric string bottom", `{"key":[{"numeric":[">","20","<","30"]}]}`, "", "FilterPolicy: Value of > must be numeric"},
		{"numeric string top", `{"key":[{"numeric":[">",20,"<","30"]}]}`, "", "FilterPolicy: Value of < must be numeric"},
		{"numeric too many terms", `{"key":[{"numeric":[">",20,"<",30,"<",50]}]}`, "", "FilterPolicy: Too many terms in numeric range expression"},
		{"exists null", `{"key":[{"exists":null}]}`, "", "FilterPolicy: exists match pattern must be either true or false."},
		{"exists string", `{"key":[{"exists":"no"}]}`, "", "FilterPolicy: exists match pattern must be either true or false."},
		{"anything-but unknown operator", `{"key":[{"anything-but":{"wrong-operator":null}}]}`, "", "FilterPolicy: Unsupported anything-but pattern: wrong-operator"},
		{"anything-but suffix", `{"key":[{"anything-but":{"suffix":"test"}}]}`, "", "FilterPolicy: Unsupported anything-but pattern: suffix"},
		{"anything-but exists", `{"key":[{"anything-but":{"exists":false}}]}`, "", "FilterPolicy: Unsupported anything-but pattern: exists"},
		{"anything-but prefix boolean", `{"key":[{"anything-but":{"prefix":false}}]}`, "", "FilterPolicy: prefix match pattern must be a string"},
		{"too many keys", `{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"]}`, "", "FilterPolicy: Filter policy can not have more than 5 keys"},
		{"too many values", `{"key":[` + numbers(151) + `]}`, "", "FilterPolicy: Filter policy is too complex"},
		{"too many combinations", `{"a":[` + numbers(10) + `],"b":[` + numbers(16) + `]}`, "", "FilterPolicy: Filter policy is too complex"},
		{"too many nested combinations", `{"a":{"b":{"c":[` + numbers(4) + `]}},"d":{"e":[` + numbers(3) + `]},"f":[` + numbers(3) + `]}`, ScopeMessageBody, "FilterPolicy: Filter policy is too complex"},
		{"too many combinations in $or", `{"$or":[{"a":[` + numbers(100) + `]},{"b":[` + numbers(51) + `]}]}`, "", "FilterPolicy: Filter policy is too complex"},
		{"nested policy for attributes", `{"object":{"key":[{"prefix":"auto-"}]}}`, ScopeMessageAttributes, "Filter policy scope MessageAttributes does not support nested filter policy"},
		{"not JSON", `{invalidjson}`, "", "FilterPolicy: failed to parse JSON."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompileFilterPolicy(c.policy, c.scope)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("CompileFilterPolicy(%s) = %v, want an *Error", c.policy, err)
			}
			if pe.Code != "InvalidParameter" ||
				pe.SubscribeMessage != "Invalid parameter: Attributes Reason: "+c.subscribe ||
				pe.Message != "Invalid parameter: "+c.subscribe {
				t.Fatalf("CompileFilterPolicy(%s):\n got %s %q / %q\nwant %q", c.policy, pe.Code, pe.SubscribeMessage, pe.Message, c.subscribe)
			}
		})
	}
}

// numbers returns "0,1,...,n-1".
func numbers(n int) string {
	s := make([]string, n)
	for i := range s {
		s[i] = fmt.Sprint(i)
	}
	return strings.Join(s, ",")
}

func TestFilterPolicyAcceptsTheLimits(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		policy string
		scope  FilterPolicyScope
	}{
		{`{"a":["1"],"b":["1"],"c":["1"],"d":["1"],"e":["1"]}`, ScopeMessageAttributes},
		{`{"key":[` + numbers(150) + `]}`, ScopeMessageAttributes},
		{`{"a":{"b":{"c":[` + numbers(4) + `]}},"d":{"e":[` + numbers(3) + `]}}`, ScopeMessageBody}, // 72 combinations
		{`{"$or":[{"a":["1"]},{"b":["2"]}]}`, ScopeMessageAttributes},
		{`{"key":[{"numeric":["=",5000000000]}]}`, ScopeMessageAttributes}, // SNS accepts values past its documented 1e9
		{`{}`, ScopeMessageAttributes},
	} {
		if _, err := CompileFilterPolicy(c.policy, c.scope); err != nil {
			t.Errorf("CompileFilterPolicy(%s, %s): %v", c.policy, c.scope, err)
		}
	}
	if _, err := CompileFilterPolicy(`{"k":["`+strings.Repeat("x", MaxFilterPolicyBytes)+`"]}`, ScopeMessageAttributes); err == nil {
		t.Error("a policy over 256 KB was accepted")
	}
}

func TestFilterPolicyRefusesOperatorsSNSLacks(t *testing.T) {
	t.Parallel()
	for _, policy := range []string{
		`{"k":[{"wildcard":"a*"}]}`,
		`{"k":[{"anything-but":{"wildcard":"a*"}}]}`,
		`{"k":[{"anything-but":{"equals-ignore-case":"a"}}]}`,
		`{"k":[{"prefix":{"equals-ignore-case":"a"}}]}`,
	} {
		if _, err := CompileFilterPolicy(policy, ScopeMessageBody); err == nil {
			t.Errorf("CompileFilterPolicy(%s) accepted an operator SNS does not document", policy)
		}
	}
}

func TestParseFilterPolicyScope(t *testing.T) {
	t.Parallel()
	if s, err := ParseFilterPolicyScope(""); err != nil || s != ScopeMessageAttributes {
		t.Errorf(`ParseFilterPolicyScope("") = %q, %v`, s, err)
	}
	_, err := ParseFilterPolicyScope("RandomValue")
	var pe *Error
	if !errors.As(err, &pe) || pe.Message != "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes" {
		t.Errorf("ParseFilterPolicyScope(RandomValue) = %v", err)
	}
}

func TestFilterPolicyOnAttributes(t *testing.T) {
	t.Parallel()
	str := func(v string) MessageAttribute { return MessageAttribute{DataType: "String", StringValue: v} }
	num := func(v string) MessageAttribute { return MessageAttribute{DataType: "Number", StringValue: v} }
	arr := func(v string) MessageAttribute { return MessageAttribute{DataType: "String.Array", StringValue: v} }
	bin := MessageAttribute{DataType: "Binary", StringValue: ""}
	cases := []struct {
		name   string
		policy string
		attrs  map[string]MessageAttribute
		want   bool
	}{
		{"exact string", `{"store":["example_corp"]}`, map[string]MessageAttribute{"store": str("example_corp")}, true},
		{"string attribute is not a number", `{"price":[210.75]}`, map[string]MessageAttribute{"price": str("210.75")}, false},
		{"number attribute by value", `{"price_usd":[{"numeric":["=",301.5]}]}`, map[string]MessageAttribute{"price_usd": num("3.015e2")}, true},
		{"number attribute with a label", `{"price":[{"numeric":[">",0,"<=",150]}]}`, map[string]MessageAttribute{"price": {DataType: "Number.float", StringValue: "99"}}, true},
		{"string array element", `{"customer_interests":["rugby","tennis"]}`, map[string]MessageAttribute{"customer_interests": arr(`["soccer","rugby","hockey"]`)}, true},
		{"string array without the value", `{"customer_interests":["rugby","tennis"]}`, map[string]MessageAttribute{"customer_interests": arr(`["baseball"]`)}, false},
		{"anything-but on an array", `{"customer_interests":[{"anything-but":["rugby","tennis"]}]}`, map[string]MessageAttribute{"customer_interests": arr(`["rugby","baseball"]`)}, true},
		{"anything-but on a single value", `{"customer_interests":[{"anything-but":["rugby","tennis"]}]}`, map[string]MessageAttribute{"customer_interests": str("rugby")}, false},
		{"string array numbers", `{"price":[{"anything-but":[100,500]}]}`, map[string]MessageAttribute{"price": arr(`[100, 50]`)}, true},
		{"anything-but prefix", `{"event":[{"anything-but":{"prefix":"order-"}}]}`, map[string]MessageAttribute{"event": str("order-cancelled")}, false},
		{"cidr", `{"source_ip":[{"cidr":"10.0.0.0/24"}]}`, map[string]MessageAttribute{"source_ip": str("10.0.0.255")}, true},
		{"exists", `{"store":[{"exists":true}]}`, map[string]MessageAttribute{"store": num("99")}, true},
		{"exists false", `{"store":[{"exists":false}]}`, map[string]MessageAttribute{"def": num("99")}, true},
		{"binary attributes are ignored", `{"store":[{"exists":false}]}`, map[string]MessageAttribute{"store": bin}, true},
		{"binary attributes never match", `{"store":[{"exists":true}]}`, map[string]MessageAttribute{"store": bin}, false},
		{"missing attribute", `{"store":["x"]}`, nil, false},
		{"null value or anything else", `{"attr1":[null,{"anything-but":"whatever"}]}`, map[string]MessageAttribute{"attr1": str("x")}, true},
		{"equals-ignore-case", `{"k":[{"equals-ignore-case":"ABC"}]}`, map[string]MessageAttribute{"k": str("abc")}, true},
		{"suffix", `{"k":[{"suffix":".png"}]}`, map[string]MessageAttribute{"k": str("a.png")}, true},
		{"or", `{"$or":[{"a":["1"]},{"b":["2"]}]}`, map[string]MessageAttribute{"b": str("2")}, true},
		{"empty policy matches everything", `{}`, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilterPolicy(c.policy, ScopeMessageAttributes)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Matches(c.attrs, "not used"); got != c.want {
				t.Fatalf("%s against %v = %v, want %v", c.policy, c.attrs, got, c.want)
			}
		})
	}
}

func TestFilterPolicyOnBody(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, policy, body string
		want               bool
	}{
		{"nested key", `{"object":{"key":[{"prefix":"auto-"}]}}`, `{"object":{"key":"auto-test"}}`, true},
		{"nested key without a match", `{"object":{"key":[{"prefix":"auto-"}]}}`, `{"object":{"key":"manual"}}`, false},
		{"dotted key in the body", `{"object":{"nested":["string.value"]}}`, `{"object.nested":"string.value"}`, true},
		{"array in the body", `{"headers":{"route-to":["queue1"]}}`, `{"headers":{"route-to":["queue1","queue2"]}}`, true},
		{"objects in arrays", `{"Records":{"s3":{"object":{"key":[{"prefix":"auto-"}]}},"eventName":[{"prefix":"ObjectCreated:"}]}}`,
			`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":[[{"key":"auto-insurance-2314.xml"}]]}},{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"home-insurance-2314.xml"}}}]}`, true},
		{"body that is not JSON", `{"a":[{"exists":false}]}`, `plain text`, false},
		{"body that is a JSON string", `{"a":[{"exists":false}]}`, `"text"`, false},
		{"numbers by value", `{"price_usd":[{"numeric":["=",301.5]}]}`, `{"price_usd":3.015e2}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilterPolicy(c.policy, ScopeMessageBody)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Matches(nil, c.body); got != c.want {
				t.Fatalf("%s against %s = %v, want %v", c.policy, c.body, got, c.want)
			}
		})
	}
}

// TestFilterPolicyInAMachine checks that SNS policies index and match like any pattern.
func TestFilterPolicyInAMachine(t *testing.T) {
	t.Parallel()
	m := NewMachine[string]()
	for name, policy := range map[string]string{
		"rugby":  `{"customer_interests":["rugby"]}`,
		"cheap":  `{"price_usd":[{"numeric":["<",100]}]}`,
		"all":    `{}`,
		"absent": `{"store":[{"exists":false}]}`,
	} {
		f, err := CompileFilterPolicy(policy, ScopeMessageAttributes)
		if err != nil {
			t.Fatal(err)
		}
		m.Add(name, f.Pattern())
	}
	ev, _ := MessageEvent(ScopeMessageAttributes, map[string]MessageAttribute{
		"customer_interests": {DataType: "String.Array", StringValue: `["soccer","rugby"]`},
		"price_usd":          {DataType: "Number", StringValue: "210.75"},
	}, "")
	got := m.MatchEvent(ev)
	if b, _ := json.Marshal(sorted(got)); string(b) != `["absent","all","rugby"]` {
		t.Fatalf("MatchEvent = %s", b)
	}
}
