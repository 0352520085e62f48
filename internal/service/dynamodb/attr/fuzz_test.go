package attr

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/cockroachdb/apd/v3"
	"github.com/kiri-run/kiri/internal/awsproto"
)

// FuzzNumber reads arbitrary number texts. An accepted number is canonical (reading its text
// again gives the same text), has the value the decimal library reads in the input, and keeps
// its order against other numbers in Compare and in its key encoding, which decodes back.
func FuzzNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.0", "01", "1E125", "1e-130", "-9.9999999999999999999999999999999999999E+125",
		".5", "5.", "+7", "1e", "abc", "", " 1", "0e126", "1e9223372036854775807", "123.456e-2", "-0.000001"} {
		f.Add(s, "1")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Num(a)
		vb, errB := Num(b)
		for _, err := range []error{errA, errB} {
			var ve *ValueError
			var ae *awsproto.Error
			if err != nil && (!errors.As(err, &ve) || !errors.As(err, &ae) || ae.Message == "") {
				t.Fatalf("error %v is not a ValueError", err)
			}
		}
		if errA != nil {
			return
		}
		again, err := Num(va.Text())
		if err != nil || again.Text() != va.Text() {
			t.Fatalf("%q → %q → %q, %v", a, va.Text(), again.Text(), err)
		}
		var da, dc apd.Decimal
		if _, _, err := da.SetString(a); err != nil {
			t.Fatalf("apd cannot read %q, accepted as %q", a, va.Text())
		}
		if _, _, err := dc.SetString(va.Text()); err != nil || da.Cmp(&dc) != 0 {
			t.Fatalf("%q is %s, not %s", a, va.Text(), da.String())
		}
		key := AppendKey(nil, va)
		dec, rest, err := DecodeKey(key, N)
		if err != nil || len(rest) != 0 || dec.Text() != va.Text() {
			t.Fatalf("key of %q decodes to %q, %v", va.Text(), dec.Text(), err)
		}
		if va.Size() < 1 || va.Size() > 21 {
			t.Fatalf("size of %q = %d", va.Text(), va.Size())
		}
		if errB != nil {
			return
		}
		var db apd.Decimal
		_, _, _ = db.SetString(vb.Text())
		want := dc.Cmp(&db)
		if c, _ := Compare(va, vb); c != want {
			t.Fatalf("Compare(%s, %s) = %d, want %d", va.Text(), vb.Text(), c, want)
		}
		if c := bytes.Compare(key, AppendKey(nil, vb)); c != want {
			t.Fatalf("key order of %s, %s = %d, want %d", va.Text(), vb.Text(), c, want)
		}
		if sum, err := Add(va, vb); err == nil {
			var z apd.Decimal
			_, _ = apd.BaseContext.Add(&z, &dc, &db)
			var ds apd.Decimal
			_, _, _ = ds.SetString(sum.Text())
			if ds.Cmp(&z) != 0 {
				t.Fatalf("%s + %s = %s, want %s", va.Text(), vb.Text(), sum.Text(), z.String())
			}
		}
	})
}

// FuzzValueJSON decodes arbitrary JSON as an attribute value: no panic, refusals are
// ValueErrors or JSON errors, and an accepted value survives the JSON, binary and (for key
// types) key encodings.
func FuzzValueJSON(f *testing.F) {
	for _, s := range []string{`{"S":"x"}`, `{"N":"1.50"}`, `{"B":"AAE="}`, `{"SS":["a","b"]}`, `{"NS":["1","1.0"]}`,
		`{"BS":["AA==",""]}`, `{"L":[{"NULL":true},{"M":{"a":{"BOOL":false}}}]}`, `{"M":{}}`, `{}`, `{"S":"a","N":"1"}`,
		`{"NULL":false}`, `[]`, `null`, `{"L":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v Value
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return
		}
		out, _ := json.Marshal(v)
		var back Value
		if err := json.Unmarshal(out, &back); err != nil || !Equal(v, back) {
			t.Fatalf("%s → %s → %v, %v", s, out, back, err)
		}
		bin := AppendValue(nil, v)
		dec, err := DecodeValue(bin)
		if err != nil || !Equal(dec, v) || !bytes.Equal(AppendValue(nil, dec), bin) {
			t.Fatalf("binary round trip of %s: %v", s, err)
		}
		if v.Type().IsKey() {
			k, rest, err := DecodeKey(AppendKey(nil, v), v.Type())
			if err != nil || len(rest) != 0 || !Equal(k, v) {
				t.Fatalf("key round trip of %s: %v", s, err)
			}
		}
		if v.Depth() > MaxDepth || v.Size() < 0 {
			t.Fatalf("%s: depth %d, size %d", s, v.Depth(), v.Size())
		}
	})
}

// FuzzDecodeItem decodes arbitrary bytes as a stored item and as keys: no panic.
func FuzzDecodeItem(f *testing.F) {
	f.Add(AppendItem(nil, Item{"a": Str("x"), "l": List([]Value{Int(1), Null()})}))
	f.Add([]byte{0x01, 0x01, 'a', byte(L), 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if item, err := DecodeItem(b); err == nil {
			_ = item.Size()
			_, _ = json.Marshal(item)
		}
		for _, typ := range []Type{S, N, B} {
			_, _, _ = DecodeKey(b, typ)
		}
	})
}
