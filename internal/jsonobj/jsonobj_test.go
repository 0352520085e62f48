package jsonobj

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDecodeKeepsOrderAndMarshalWritesIt(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"z":1,"a":{"y":[1,2.50,{"q":null,"b":true}],"b":"x"},"m":-0.1e3}`,
		`[{"b":1,"a":2},"s"]`,
		`{}`,
		`"é\u2028<&>"`,
	} {
		v, err := Decode([]byte(in))
		if err != nil {
			t.Fatalf("Decode(%s): %v", in, err)
		}
		var want bytes.Buffer
		if err := json.Compact(&want, []byte(in)); err != nil {
			t.Fatal(err)
		}
		got := Marshal(v)
		if in == `"é\u2028<&>"` {
			if string(got) != `"é\u2028<&>"` {
				t.Errorf("Marshal = %s", got)
			}
			continue
		}
		if string(got) != want.String() {
			t.Errorf("Marshal(Decode(%s)) = %s", in, got)
		}
	}
}

func TestMarshalStringsAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"plain", "q\"b\\", "\n\r\t\b\f\x01\x1f", "bad\xffutf8", "\u2028\u2029", "<a&b>", "日本"} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		if got := string(Marshal(s)); got+"\n" != want.String() {
			t.Errorf("Marshal(%q) = %s, want %s", s, got, want.String())
		}
	}
}

func TestSetReplacesInPlaceAndAppendsNewKeys(t *testing.T) {
	t.Parallel()
	o := New(0)
	for _, k := range []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"} {
		o.Set(k, 1)
	}
	o.Set("k3", 2)
	o.Delete("k0")
	o.Set("a", 3)
	if got := string(Marshal(o)); got != `{"k1":1,"k2":1,"k3":2,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"a":3}` {
		t.Errorf("got %s", got)
	}
	if v, ok := o.Get("k9"); !ok || v != 1 {
		t.Errorf("Get(k9) = %v, %v", v, ok)
	}
}
