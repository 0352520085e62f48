package attr

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// wireAV stands in for the service's generated AttributeValue.
type wireAV struct {
	B    []byte
	BOOL *bool
	BS   [][]byte
	L    []wireAV
	M    map[string]wireAV
	N    *string
	NS   []string
	NULL *bool
	S    *string
	SS   []string
}

func wireFields(a wireAV) WireFields[wireAV] {
	return WireFields[wireAV]{S: a.S, N: a.N, B: a.B, BOOL: a.BOOL, NULL: a.NULL, SS: a.SS, NS: a.NS, BS: a.BS, L: a.L, M: a.M}
}

func wireBuild(f WireFields[wireAV]) wireAV {
	return wireAV{S: f.S, N: f.N, B: f.B, BOOL: f.BOOL, NULL: f.NULL, SS: f.SS, NS: f.NS, BS: f.BS, L: f.L, M: f.M}
}

func mustJSON(t *testing.T, s string) Value {
	t.Helper()
	var v Value
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestAttributeValueRefusalsAreWordedAsDynamoDB(t *testing.T) {
	t.Parallel()
	const inv = "One or more parameter values were invalid: "
	for _, tc := range []struct{ json, want, older string }{
		{`{}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes", ""},
		{`{"a":""}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes", ""},
		{`{"M":{"a":{}}}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes", ""},
		{`{"L":[{}]}`, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes", ""},
		{`{"S":"a","N":"1"}`, "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes", ""},
		{`{"S":"","N":""}`, "The parameter cannot be converted to a numeric value: ", "The parameter cannot be converted to a numeric value"},
		{`{"S":"a","N":"b"}`, "The parameter cannot be converted to a numeric value: b", ""},
		{`{"NULL":false}`, inv + "Null attribute value types must have the value of true", ""},
		{`{"SS":[]}`, inv + "An string set  may not be empty", ""},
		{`{"NS":[]}`, inv + "An number set  may not be empty", ""},
		{`{"BS":[]}`, inv + "Binary sets should not be empty", ""},
		{`{"SS":["a","a"]}`, inv + "Input collection [a, a] contains duplicates.", inv + "Input collection [a, a] contains duplicates."},
		{`{"SS":["b","a","b"]}`, inv + "Input collection [a, b, b] contains duplicates.", inv + "Input collection [b, a, b] contains duplicates."},
		{`{"BS":["/w==","AA==","AA=="]}`, inv + "Input collection [AA==,/w==,AA==]of type BS contains duplicates.", inv + "Input collection [/w==, AA==, AA==]of type BS contains duplicates."},
		{`{"BS":["Yg==","Yg=="]}`, inv + "Input collection [Yg==,Yg==]of type BS contains duplicates.", inv + "Input collection [Yg==, Yg==]of type BS contains duplicates."},
		{`{"NS":["2","1","2"]}`, inv + "Input collection contains duplicates.", "Input collection contains duplicates"},
		{`{"NS":["1","1.0"]}`, inv + "Input collection contains duplicates.", "Input collection contains duplicates"},
		{`{"NS":["1",""]}`, "The parameter cannot be converted to a numeric value: ", "The parameter cannot be converted to a numeric value"},
		{`{"NS":["1","b"]}`, "The parameter cannot be converted to a numeric value: b", ""},
		{`{"M":{"x":{"L":[{"N":"1e126"}]}}}`, "Number overflow. Attempting to store a number with magnitude larger than supported range", ""},
	} {
		var v Value
		err := json.Unmarshal([]byte(tc.json), &v)
		var ve *ValueError
		if !errors.As(err, &ve) {
			t.Errorf("%s: err %v, want a ValueError", tc.json, err)
			continue
		}
		if ve.Error() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.json, ve.Error(), tc.want)
		}
		older := tc.older
		if older == "" {
			older = tc.want
		}
		if ve.Older() != older {
			t.Errorf("%s older:\n got %q\nwant %q", tc.json, ve.Older(), older)
		}
		var ae *awsproto.Error
		if !errors.As(err, &ae) || ae.Code != "ValidationException" || ae.Message != tc.want {
			t.Errorf("%s: as awsproto.Error = %v", tc.json, ae)
		}
	}
}

func deep(levels int) string {
	return strings.Repeat(`{"M":{"n":`, levels) + `{"S":"leaf"}` + strings.Repeat(`}}`, levels)
}

func TestNestingIsRefusedPastThirtyTwoLevels(t *testing.T) {
	t.Parallel()
	v := mustJSON(t, deep(31))
	if v.Depth() != 32 {
		t.Fatalf("depth = %d, want 32", v.Depth())
	}
	var w Value
	err := json.Unmarshal([]byte(deep(32)), &w)
	if err == nil || err.Error() != "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit" {
		t.Fatalf("33 levels: %v", err)
	}
	err = json.Unmarshal([]byte(strings.Repeat(`{"L":[`, 40)+`{"NULL":true}`+strings.Repeat(`]}`, 40)), &w)
	if err == nil || !strings.HasPrefix(err.Error(), "Nesting Levels") {
		t.Fatalf("lists: %v", err)
	}
}

func TestEmptyStringsAndBinariesAreValidValues(t *testing.T) {
	t.Parallel()
	for _, s := range []string{`{"S":""}`, `{"B":""}`, `{"SS":[""]}`, `{"BS":[""]}`, `{"L":[]}`, `{"M":{}}`, `{"L":[{"S":""}]}`} {
		v := mustJSON(t, s)
		if got := v.String(); got != s {
			t.Errorf("round trip of %s = %s", s, got)
		}
	}
}

func TestWireRoundTrip(t *testing.T) {
	t.Parallel()
	const src = `{"a":{"S":"x"},"b":{"N":"-56.789"},"c":{"B":"Yg=="},"d":{"BOOL":false},"e":{"NULL":true},` +
		`"f":{"SS":["a","b"]},"g":{"NS":["-56.789","1"]},"h":{"BS":["Yg==","AA=="]},` +
		`"i":{"L":[{"S":"a"},{"L":[]},{"M":{}}]},"j":{"M":{"k":{"N":"1"},"l":{"BOOL":true}}}}`
	var item Item
	if err := json.Unmarshal([]byte(src), &item); err != nil {
		t.Fatal(err)
	}
	w := ToWireItem(item, wireBuild)
	back, err := FromWireItem(w, wireFields)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(back)
	if string(out) != src {
		t.Fatalf("round trip:\n got %s\nwant %s", out, src)
	}
	// The binary storage form round-trips too, and equal items encode equally.
	enc := AppendItem(nil, item)
	dec, err := DecodeItem(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(AppendItem(nil, dec), enc) || !Equal(Map(dec), Map(item)) {
		t.Fatalf("binary round trip changed the item")
	}
	for i := range enc {
		if _, err := DecodeItem(enc[:i]); err == nil {
			t.Fatalf("truncated encoding of %d bytes decoded", i)
		}
	}
}

func TestFromWireTakesAMissingMemberForAbsentAndAnEmptyOneForEmpty(t *testing.T) {
	t.Parallel()
	s := "x"
	if _, err := FromWire(wireAV{S: &s, L: nil}, wireFields); err != nil {
		t.Fatalf("S with absent L: %v", err)
	}
	if _, err := FromWire(wireAV{S: &s, L: []wireAV{}}, wireFields); err == nil {
		t.Fatalf("S with an empty L was accepted")
	}
	v, err := FromWire(wireAV{B: []byte{}}, wireFields)
	if err != nil || v.Type() != B || v.Len() != 0 {
		t.Fatalf("empty B = %v, %v", v, err)
	}
}

func TestEqualityComparesSetsAsSets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		eq   bool
	}{
		{`{"SS":["a","b"]}`, `{"SS":["b","a"]}`, true},
		{`{"NS":["1","2.0"]}`, `{"NS":["2","1"]}`, true},
		{`{"NS":["1"]}`, `{"N":"1"}`, false},
		{`{"S":"6"}`, `{"N":"6"}`, false},
		{`{"N":"1.50"}`, `{"N":"1.5"}`, true},
		{`{"L":[{"S":"a"},{"S":"b"}]}`, `{"L":[{"S":"b"},{"S":"a"}]}`, false},
		{`{"M":{"a":{"N":"1"}}}`, `{"M":{"a":{"N":"1.0"}}}`, true},
		{`{"M":{"a":{"N":"1"}}}`, `{"M":{"a":{"N":"1"},"b":{"NULL":true}}}`, false},
		{`{"BOOL":true}`, `{"BOOL":false}`, false},
	} {
		if got := Equal(mustJSON(t, tc.a), mustJSON(t, tc.b)); got != tc.eq {
			t.Errorf("Equal(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

func TestStringsAndBinariesOrderByBytes(t *testing.T) {
	t.Parallel()
	strs := []string{"", "A", "B", "Z", "a", "a\x00", "a\x00\x00", "a\x01", "ab", "abc", "b", "é", "€", "\U0001F600"}
	for i := range strs {
		for j := range strs {
			want := strings.Compare(strs[i], strs[j])
			a, b := Str(strs[i]), Str(strs[j])
			if c, _ := Compare(a, b); c != want {
				t.Errorf("Compare(%q,%q) = %d", strs[i], strs[j], c)
			}
			if c := bytes.Compare(AppendKey(nil, a), AppendKey(nil, b)); c != want {
				t.Errorf("key order of %q,%q = %d", strs[i], strs[j], c)
			}
			// A key followed by another still sorts by the first.
			ka := AppendKey(AppendKey(nil, a), Str("zzz"))
			kb := AppendKey(AppendKey(nil, b), Str(""))
			if want != 0 && bytes.Compare(ka, kb) != want {
				t.Errorf("composite key order of %q,%q", strs[i], strs[j])
			}
			bi, bj := BinString(strs[i]), BinString(strs[j])
			if c := bytes.Compare(AppendKey(nil, bi), AppendKey(nil, bj)); c != want {
				t.Errorf("binary key order of %q,%q = %d", strs[i], strs[j], c)
			}
			// begins_with is a key range.
			lo := AppendKeyPrefix(nil, b)
			hi := PrefixEnd(lo)
			k := AppendKey(nil, a)
			in := bytes.Compare(k, lo) >= 0 && (hi == nil || bytes.Compare(k, hi) < 0)
			if in != strings.HasPrefix(strs[i], strs[j]) {
				t.Errorf("prefix range of %q holds %q: %v", strs[j], strs[i], in)
			}
		}
	}
}

func TestKeysDecode(t *testing.T) {
	t.Parallel()
	vals := []Value{Str(""), Str("a\x00b"), BinString("\x00\xff\x00"), Int(0), Int(-12), mustJSON(t, `{"N":"1E-130"}`),
		mustJSON(t, `{"N":"-9.9999999999999999999999999999999999999E+125"}`), mustJSON(t, `{"N":"123.456"}`)}
	for _, v := range vals {
		enc := AppendKey(nil, v)
		enc = append(enc, 0x42)
		got, rest, err := DecodeKey(enc, v.Type())
		if err != nil || !Equal(got, v) || !bytes.Equal(rest, []byte{0x42}) {
			t.Errorf("DecodeKey(%v) = %v, %x, %v", v, got, rest, err)
		}
	}
}

func TestItemSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		item string
		size int
	}{
		{`{"a":{"S":"abc"}}`, 4},
		{`{"é":{"S":"€"}}`, 5},
		{`{"b":{"B":"AAEC"}}`, 4},
		{`{"n":{"NULL":true},"t":{"BOOL":true}}`, 4},
		{`{"s":{"SS":["ab","c"]}}`, 4},
		{`{"s":{"NS":["1","12","123"]}}`, 1 + 2 + 2 + 3},
		{`{"l":{"L":[]}}`, 4},
		{`{"m":{"M":{}}}`, 4},
		{`{"l":{"L":[{"S":"ab"},{"N":"1"}]}}`, 1 + 3 + (1 + 2) + (1 + 2)},
		{`{"m":{"M":{"k":{"S":"ab"}}}}`, 1 + 3 + (1 + 1 + 2)},
	} {
		var it Item
		if err := json.Unmarshal([]byte(tc.item), &it); err != nil {
			t.Fatal(err)
		}
		if got := it.Size(); got != tc.size {
			t.Errorf("size of %s = %d, want %d", tc.item, got, tc.size)
		}
	}
	// The limit is 409,600 bytes inclusive.
	at := Item{"a": Str("k"), "b": Str(strings.Repeat("x", MaxItemSize-3))}
	if at.Size() != MaxItemSize || at.CheckSize() != nil {
		t.Fatalf("an item of exactly %d bytes is refused", MaxItemSize)
	}
	at["b"] = Str(strings.Repeat("x", MaxItemSize-2))
	if err := at.CheckSize(); err == nil || err.Error() != "ValidationException: Item size has exceeded the maximum allowed size" {
		t.Fatalf("one byte over: %v", err)
	}
}

func TestCapacityUnits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		size                int
		consistent, txn     bool
		read, write, writeT float64
	}{
		{0, true, false, 1, 1, 2},
		{1, false, false, 0.5, 1, 2},
		{1024, true, false, 1, 1, 2},
		{1025, true, false, 1, 2, 4},
		{4096, false, false, 0.5, 4, 8},
		{4097, true, false, 2, 5, 10},
		{4097, false, true, 4, 5, 10},
		{409600, true, false, 100, 400, 800},
	} {
		if got := ReadUnits(tc.size, tc.consistent, tc.txn); got != tc.read {
			t.Errorf("ReadUnits(%d, %v, %v) = %v, want %v", tc.size, tc.consistent, tc.txn, got, tc.read)
		}
		if got := WriteUnits(tc.size, false); got != tc.write {
			t.Errorf("WriteUnits(%d) = %v, want %v", tc.size, got, tc.write)
		}
		if got := WriteUnits(tc.size, true); got != tc.writeT {
			t.Errorf("WriteUnits(%d, transactional) = %v, want %v", tc.size, got, tc.writeT)
		}
	}
}

func TestSetOperations(t *testing.T) {
	t.Parallel()
	a := mustJSON(t, `{"SS":["a","b"]}`)
	b := mustJSON(t, `{"SS":["b","c","d"]}`)
	u := Union(a, b)
	if !slices.Equal(u.Members(), []string{"a", "b", "c", "d"}) {
		t.Fatalf("union = %v", u.Members())
	}
	d, ok := Difference(u, a)
	if !ok || !slices.Equal(d.Members(), []string{"c", "d"}) {
		t.Fatalf("difference = %v", d.Members())
	}
	if _, ok := Difference(a, u); ok {
		t.Fatalf("difference to nothing kept the set")
	}
}
