package sqs

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func str(name, v string) msgAttr { return msgAttr{Name: name, Type: "String", Value: []byte(v)} }

// TestMD5OfAttributes checks the digest against values SQS itself returned for these attributes.
func TestMD5OfAttributes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		attrs []msgAttr
		want  string
	}{
		{"three strings", []msgAttr{str("General", "Kenobi"), str("Hello", "There"), str("Help.Me", "Me")}, "4c360f3fdafd970e05fae2f149d997f5"},
		{"two strings", []msgAttr{str("General", "Kenobi"), str("Hello", "There")}, "fca026605781cb4126a1e9044df24232"},
		{"one string", []msgAttr{str("Hello", "There")}, "a311262e065454b75da111d535b8dacd"},
		{"a name with a period", []msgAttr{str("Hello", "There"), str("Help.Me", "Me")}, "83fee93c1bcd8b9a5a923ffacdc636c7"},
		{"another string", []msgAttr{str("Foo", "Bar")}, "ae7155c6026991b6d54b11589678bf9c"},
		{"a longer string", []msgAttr{str("MyAttribute", "foobar")}, "adb59cd4678ea5a855436b949cd07ab6"},
		{"binary", []msgAttr{{Name: "attr1", Type: "Binary", Value: []byte("traceparent\x1e00-774062d6c37081a5a0b9b5b88e30627c-2d2482211f6489da-01")}}, "8cbe4db156db8a94db8b801b7addb984"},
		{"none", nil, ""},
	} {
		if got := md5OfAttributes(tc.attrs); got != tc.want {
			t.Errorf("%s: md5 = %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestCheckMessageAttributes(t *testing.T) {
	t.Parallel()
	s := awsproto.Ptr[string]
	for _, tc := range []struct {
		name    string
		in      map[string]MessageAttributeValue
		wantErr string
	}{
		{"string, number and binary with custom labels", map[string]MessageAttributeValue{
			"s": {DataType: s("String.foo"), StringValue: s("x")},
			"n": {DataType: s("Number.int"), StringValue: s("-1.5e10")},
			"b": {DataType: s("Binary.png"), BinaryValue: []byte{0}},
		}, ""},
		{"an empty string value", map[string]MessageAttributeValue{"ErrorDetails": {DataType: s("String"), StringValue: s("")}},
			"Message (user) attribute 'ErrorDetails' must contain a non-empty value of type 'String'."},
		{"a binary without bytes", map[string]MessageAttributeValue{"b": {DataType: s("Binary")}},
			"Message (user) attribute 'b' must contain a non-empty value of type 'Binary'."},
		{"an unknown type", map[string]MessageAttributeValue{"x": {DataType: s("Float"), StringValue: s("1")}},
			"The type of message (user) attribute 'x' is invalid. You must use only the following supported type prefixes: Binary, Number, String."},
		{"no type", map[string]MessageAttributeValue{"x": {StringValue: s("1")}},
			"The message attribute 'x' must contain non-empty message attribute type."},
		{"not a number", map[string]MessageAttributeValue{"n": {DataType: s("Number"), StringValue: s("12a")}},
			"Can't cast the value of message (user) attribute 'n' to a number."},
		{"a reserved name", map[string]MessageAttributeValue{"AWS.x": {DataType: s("String"), StringValue: s("1")}},
			"Message (user) attribute name 'AWS.x' is invalid."},
		{"successive periods", map[string]MessageAttributeValue{"a..b": {DataType: s("String"), StringValue: s("1")}},
			"Message (user) attribute name 'a..b' is invalid."},
		{"a forbidden character in a value", map[string]MessageAttributeValue{"x": {DataType: s("String"), StringValue: s("a\x00b")}},
			"Invalid characters found."},
		{"eleven attributes", func() map[string]MessageAttributeValue {
			m := map[string]MessageAttributeValue{}
			for _, c := range "abcdefghijk" {
				m[string(c)] = MessageAttributeValue{DataType: s("String"), StringValue: s("v")}
			}
			return m
		}(), "Number of message attributes [11] exceeds the allowed maximum [10]."},
	} {
		_, err := checkMessageAttributes(tc.in)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantErr)
		}
	}
}

func TestValidContents(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"plain text\t\r\n":   true,
		"日本語 and emoji 🎉":    true,
		"\u007f\u0080\uD7FF": true,
		"\uE000\uFFFD":       true,
		"nul \x00":           false,
		"bell \x07":          false,
		"\uFFFE":             false,
		"\uFFFF":             false,
		"bad utf-8 \xff":     false,
		"\xed\xa0\x80":       false, // an encoded surrogate
	} {
		if got := validContents(s); got != want {
			t.Errorf("validContents(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestValidNumber(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"0": true, "-12": true, "+3.25": true, "1e10": true, "1.5E-7": true, ".5": true, "5.": true,
		"": false, "-": false, "1e": false, "abc": false, "0x10": false, "NaN": false, "Inf": false, "1.2.3": false,
		strings.Repeat("9", 38): true, strings.Repeat("9", 39): false, "1" + strings.Repeat("0", 60): true,
	} {
		if got := validNumber(s); got != want {
			t.Errorf("validNumber(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestMetaRoundTrip(t *testing.T) {
	t.Parallel()
	m := meta{Sender: "AIDA", Origin: "src", Attrs: []msgAttr{str("a", "1"), {Name: "b", Type: "Binary", Value: []byte{0, 1}}},
		Trace: "Root=1-5759e988-bd862e3fe1be46a994272793", DedupID: "d"}
	m.BodyMD5[0] = 7
	got, err := decodeMeta(m.encode(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.Sender != m.Sender || got.Origin != m.Origin || got.BodyMD5 != m.BodyMD5 || got.Trace != m.Trace || got.DedupID != m.DedupID ||
		len(got.Attrs) != 2 || !bytes.Equal(got.Attrs[1].Value, []byte{0, 1}) || got.Attrs[0].Type != "String" {
		t.Fatalf("decoded %+v, want %+v", got, m)
	}
	if _, err := decodeMeta(append(m.encode(nil), 0)); err == nil {
		t.Error("trailing bytes were accepted")
	}
}

func FuzzDecodeMeta(f *testing.F) {
	m := meta{Sender: "s", Origin: "o", Attrs: []msgAttr{str("a", "1")}, Trace: "t"}
	f.Add(m.encode(nil))
	f.Add([]byte{metaVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeMeta(b)
		if err != nil {
			return
		}
		if again, err := decodeMeta(got.encode(nil)); err != nil || again.Sender != got.Sender || len(again.Attrs) != len(got.Attrs) {
			t.Fatalf("a decoded meta does not survive encoding: %+v %v", again, err)
		}
	})
}

func TestMessageIDs(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for id := int64(1); id < 2000; id++ {
		s := messageID(id)
		if len(s) != 36 || s[14] != '4' || seen[s] {
			t.Fatalf("messageID(%d) = %s", id, s)
		}
		seen[s] = true
	}
	if messageID(42) != messageID(42) {
		t.Error("message ids are not stable")
	}
	if got := sequenceNumber(42); got != "00000000000000000042" {
		t.Errorf("sequenceNumber(42) = %s", got)
	}
}
