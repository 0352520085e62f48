package pattern

import (
	"errors"
	"strings"
	"testing"
)

func TestCompileRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, pattern, reason string
	}{
		{"not an object", `["a"]`, "Filter is not an object"},
		{"empty pattern", `{}`, "Empty objects are not allowed"},
		{"empty nested object", `{"a":{}}`, "Empty objects are not allowed"},
		{"value not in an array", `{"a":"b"}`, `"a" must be an object or an array`},
		{"nested array value", `{"a":[["b"]]}`, "Match value must be String, number, true, false, or null"},
		{"empty expression", `{"a":[{}]}`, "Match expression name not found"},
		{"two operators", `{"a":[{"prefix":"x","suffix":"y"}]}`, "Only one key allowed in match expression"},
		{"unknown operator", `{"a":[{"regex":"x"}]}`, "Unrecognized match type regex"},
		{"prefix object without operator", `{"a":[{"prefix":{}}]}`, "Prefix expression name not found"},
		{"prefix object with another operator", `{"a":[{"prefix":{"wildcard":"x"}}]}`, "Unsupported prefix pattern: wildcard"},
		{"prefix ignoring case needs a string", `{"a":[{"prefix":{"equals-ignore-case":1}}]}`, "equals-ignore-case match pattern must be a string"},
		{"suffix object with another operator", `{"a":[{"suffix":{"prefix":"x"}}]}`, "Unsupported suffix pattern: prefix"},
		{"numeric empty", `{"a":[{"numeric":[]}]}`, "Invalid member in numeric match: ]"},
		{"numeric starts with a number", `{"a":[{"numeric":[1,"<"]}]}`, "Invalid member in numeric match: 1"},
		{"numeric unknown operator", `{"a":[{"numeric":["!=",1]}]}`, "Unrecognized numeric range operator: !="},
		{"numeric equals needs a number", `{"a":[{"numeric":["=","1"]}]}`, "Value of equals must be numeric"},
		{"numeric equals takes one value", `{"a":[{"numeric":["=",1,"<",2]}]}`, "Too many elements in numeric expression"},
		{"numeric upper bound first", `{"a":[{"numeric":["<",100,">",10]}]}`, "Too many elements in numeric expression"},
		{"numeric range operator must be a string", `{"a":[{"numeric":[">",20,30]}]}`, "Bad value in numeric range: 30"},
		{"numeric range too long", `{"a":[{"numeric":[">",20,"<",30,"<",50]}]}`, "Too many terms in numeric range expression"},
		{"numeric empty range", `{"a":[{"numeric":[">",3,"<",3]}]}`, "Bottom must be less than top"},
		{"numeric reversed range", `{"a":[{"numeric":[">=",3,"<=",1]}]}`, "Bottom must be less than top"},
		{"numeric number float64 cannot hold", `{"a":[{"numeric":["<",0.10000000000000000001]}]}`, "Cannot compare number : 0.10000000000000000001"},
		{"numeric extra member", `{"a":[{"numeric":["<",1],"x":1}]}`, "Too many elements in numeric expression"},
		{"anything-but empty object", `{"a":[{"anything-but":{}}]}`, "Anything-But expression name not found"},
		{"anything-but unknown object", `{"a":[{"anything-but":{"numeric":[">",1]}}]}`, "Unsupported anything-but pattern: numeric"},
		{"anything-but boolean", `{"a":[{"anything-but":true}]}`, "Value of anything-but must be an array or single string/number value."},
		{"anything-but mixed list", `{"a":[{"anything-but":["a",1]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{"anything-but empty list", `{"a":[{"anything-but":[]}]}`, "Inside anything but list, either all values are number or string, mixed type is not supported"},
		{"anything-but extra member", `{"a":[{"anything-but":"x","prefix":"y"}]}`, "Too many elements in numeric expression"},
		{"anything-but prefix extra member", `{"a":[{"anything-but":{"prefix":"x","suffix":"y"}}]}`, "Too many elements in numeric expression"},
		{"anything-but empty prefix in a list", `{"a":[{"anything-but":{"prefix":["x",""]}}]}`, "Null prefix/suffix not allowed"},
		{"anything-but wildcard consecutive stars", `{"a":[{"anything-but":{"wildcard":["x","a**"]}}]}`, "Consecutive wildcard characters at pos 2"},
		{"exists needs a boolean", `{"a":[{"exists":"no"}]}`, "exists match pattern must be either true or false."},
		{"exists extra member", `{"a":[{"exists":true,"prefix":"x"}]}`, "Only one key allowed in match expression"},
		{"cidr negative mask", `{"a":[{"cidr":"10.0.0.0/-1"}]}`, "Malformed CIDR, mask bits must not be negative"},
		{"cidr IPv4 mask too wide", `{"a":[{"cidr":"10.0.0.0/32"}]}`, "IPv4 mask bits must be < 32"},
		{"cidr IPv6 mask too wide", `{"a":[{"cidr":"::/128"}]}`, "IPv6 mask bits must be < 128"},
		{"cidr octet out of range", `{"a":[{"cidr":"10.0.0.256/8"}]}`, "Invalid IP address: 10.0.0.256"},
		{"cidr two slashes", `{"a":[{"cidr":"10.0.0.0/8/8"}]}`, "Malformed CIDR, one '/' required"},
		{"wildcard bad escape", `{"a":[{"wildcard":"a\\b"}]}`, "Invalid escape character at pos 2"},
		{"wildcard trailing backslash", `{"a":[{"wildcard":"ab\\"}]}`, "Invalid escape character at pos 3"},
		{"or needs an array", `{"$or":{"a":["1"]}}`, "It must be an Array followed with $or."},
		{"or needs objects", `{"$or":[{"a":["1"]},"b"]}`, "Only JSON object is allowed in array of $or relationship."},
		{"or needs two branches", `{"$or":[{"a":["1"]}]}`, "There must have at least 2 Objects in $or relationship."},
		{"or refuses operator names as fields", `{"$or":[{"a":["1"]},{"b":{"prefix":["x"]}}]}`, "prefix is Ruler reserved fieldName which cannot be used inside $or."},
		{"too many wildcards", `{"a":[{"wildcard":"*a*a*a*a*a*a*"}]}`, "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile([]byte(c.pattern))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Compile(%s) = %v, want an *Error", c.pattern, err)
			}
			if pe.Code != "InvalidEventPatternException" || pe.Reason != c.reason ||
				pe.Message != "Event pattern is not valid. Reason: "+c.reason {
				t.Fatalf("Compile(%s):\n got %s %q\nwant reason %q", c.pattern, pe.Code, pe.Message, c.reason)
			}
		})
	}
}

func TestCompileAccepts(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`{"a":[{"anything-but":{"prefix":[]}}]}`,
		`{"a":[{"numeric":["<",-1.7976931348623157e308]}]}`,
		`{"a":[{"cidr":"10.0.0.0/24/"}]}`, // Java's split drops the trailing empty part
		`{"a":[{"wildcard":"arn:aws:events:*:*:rule/*"}]}`,
		`{"a":[{"exactly":"x"}]}`,
		`{"a":[123456789012345678901234567890]}`,
		`{"$or":[{"a":["1"]},{"b":["2"]}],"$or":[{"c":["1"]},{"d":["2"]}]}`,
	} {
		if _, err := Compile([]byte(src)); err != nil {
			t.Errorf("Compile(%s): %v", src, err)
		}
	}
}

func TestCompileRefusesInvalidJSON(t *testing.T) {
	t.Parallel()
	for _, src := range []string{``, `{`, `{"a":[1,]}`, `{"a":[01]}`, `{"a":["\x01"]}`, `{"a":["1"]} x`, strings.Repeat("[", 5000)} {
		_, err := Compile([]byte(src))
		var pe *Error
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, "Event pattern is not valid. Reason: ") {
			t.Errorf("Compile(%q) = %v", src, err)
		}
	}
}

func TestWildcardComplexity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		patterns []string
		want     int
	}{
		// Values are matched with their quotes, so a leading '*' also counts the quote's prefix.
		{[]string{"ab*c"}, 2},
		{[]string{"*:*:*:*:*:event-bus/*"}, 11},
		{[]string{"arn:aws:events:us-east-1:*:event-bus/*"}, 3},
	}
	for _, c := range cases {
		var ws []wildcard
		for _, s := range c.patterns {
			w, reason := parseWildcard(s)
			if reason != "" {
				t.Fatal(reason)
			}
			ws = append(ws, w)
		}
		if got := wildcardComplexity(ws); got != c.want {
			t.Errorf("wildcardComplexity(%q) = %d, want %d", c.patterns, got, c.want)
		}
	}
}
