package attr

import (
	"strings"
	"testing"
)

func TestNumberCanonicalForm(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"+0", "0"},
		{"0.000", "0"},
		{"0e125", "0"},
		{"1", "1"},
		{"+5", "5"},
		{"1.0", "1"},
		{"01", "1"},
		{"00042", "42"},
		{"0042.1200", "42.12"},
		{"3.1400", "3.14"},
		{"1.5E2", "150"},
		{"1e+2", "100"},
		{"+1e2", "100"},
		{"1.5E+3", "1500"},
		{"-7", "-7"},
		{".123", "0.123"},
		{"5.", "5"},
		{"-17.4E37", "-174" + strings.Repeat("0", 36)},
		{"1E125", "1" + strings.Repeat("0", 125)},
		{"1E-130", "0." + strings.Repeat("0", 129) + "1"},
		{"-0001.000e-130", "-0." + strings.Repeat("0", 129) + "1"},
		{"0000012345678901234567890123456789012345678", "12345678901234567890123456789012345678"},
		{"-00001.23456789012345678901234567890123456780000", "-1.2345678901234567890123456789012345678"},
		{"0009.99999999999999999999999999999999999990000e125", strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"9.9999999999999999999999999999999999999E+125", strings.Repeat("9", 38) + strings.Repeat("0", 88)},
		{"0.00000000000000000000000000000000000001", "0.00000000000000000000000000000000000001"},
		{"100.5", "100.5"},
		{"1e-9223372036854775808", ""}, // fits an int64: an underflow, below
	} {
		v, err := Num(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Num(%q) = %s, want an error", tc.in, v.Text())
			}
			continue
		}
		if err != nil {
			t.Errorf("Num(%q): %v", tc.in, err)
			continue
		}
		if v.Text() != tc.want {
			t.Errorf("Num(%q) = %q, want %q", tc.in, v.Text(), tc.want)
		}
	}
}

func TestNumberRefusalsAreWordedAsDynamoDB(t *testing.T) {
	t.Parallel()
	const (
		overflow  = "Number overflow. Attempting to store a number with magnitude larger than supported range"
		underflow = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
		digits    = "Attempting to store more than 38 significant digits in a Number"
		unconv    = "The parameter cannot be converted to a numeric value"
	)
	for _, tc := range []struct{ in, want, older string }{
		{"1e126", overflow, ""},
		{"-1e126", overflow, ""},
		{"11e125", overflow, ""},
		{"1e-131", underflow, ""},
		{"-1e-131", underflow, ""},
		{"0.9e-130", underflow, ""},
		{"0e126", overflow, ""},
		{"0e-131", underflow, ""},
		{"1e99999999999", overflow, ""},
		{"-1e99999999999", overflow, ""},
		{"1e-99999999999", underflow, ""},
		{"1e2147483648", overflow, ""},
		{"1e2147483647", overflow, ""},
		{"1e-2147483648", underflow, ""},
		{"1e-9223372036854775808", underflow, ""},
		{"1e9223372036854775807", overflow, ""},
		{"1e9223372036854775808", unconv + ": 1e9223372036854775808", ""},
		{"123456789012345678901234567890123456789", digits, ""},
		{"-1.23456789012345678901234567890123456789", digits, ""},
		{"1234567890123456789012345678901234567890", digits, ""},
		{"3.14159265358979323846264338327950288419", digits, ""},
		{"abc", unconv + ": abc", ""},
		{"b", unconv + ": b", ""},
		{"", unconv + ": ", unconv},
		{" 1", unconv + ":  1", ""},
		{"1 ", unconv + ": 1 ", ""},
		{"1.2.3", unconv + ": 1.2.3", ""},
		{"0x10", unconv + ": 0x10", ""},
		{"1e", unconv + ": 1e", ""},
		{"1e+", unconv + ": 1e+", ""},
		{"+e2", unconv + ": +e2", ""},
		{".", unconv + ": .", ""},
		{"-", unconv + ": -", ""},
		{"1+2", unconv + ": 1+2", ""},
		{"NaN", unconv + ": NaN", ""},
		{"Infinity", unconv + ": Infinity", ""},
		{"-Infinity", unconv + ": -Infinity", ""},
		{"١", unconv + ": ١", ""},
	} {
		_, err := Num(tc.in)
		if err == nil {
			t.Errorf("Num(%q) accepted", tc.in)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("Num(%q) = %q, want %q", tc.in, err.Error(), tc.want)
		}
		older := tc.older
		if older == "" {
			older = tc.want
		}
		if got := err.(*ValueError).Older(); got != older {
			t.Errorf("Num(%q) older wording = %q, want %q", tc.in, got, older)
		}
	}
}

func TestNumbersCompareByValue(t *testing.T) {
	t.Parallel()
	ordered := []string{
		"-9.9999999999999999999999999999999999999E+125", "-1E100", "-1000", "-11", "-10.5", "-10",
		"-2", "-1.5", "-1", "-0.5", "-0.11", "-0.1", "-0.05", "-1E-130", "0",
		"1E-130", "0.05", "0.1", "0.11", "0.5", "1", "1.05", "1.5", "2", "9", "10", "10.5", "11",
		"99", "100", "100.000001", "1E38", "12345678901234567890123456789012345678E88",
	}
	vals := make([]Value, len(ordered))
	for i, s := range ordered {
		v, err := Num(s)
		if err != nil {
			t.Fatalf("Num(%q): %v", s, err)
		}
		vals[i] = v
	}
	for i := range vals {
		for j := range vals {
			c, ok := Compare(vals[i], vals[j])
			if !ok {
				t.Fatalf("Compare(%s, %s) not ok", ordered[i], ordered[j])
			}
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if c != want {
				t.Errorf("Compare(%s, %s) = %d, want %d", ordered[i], ordered[j], c, want)
			}
			ki, kj := string(AppendKey(nil, vals[i])), string(AppendKey(nil, vals[j]))
			if kc := strings.Compare(ki, kj); kc != want {
				t.Errorf("key order of %s, %s = %d, want %d", ordered[i], ordered[j], kc, want)
			}
		}
	}
}

func TestNumberArithmeticIsExact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		sub  bool
		want string
	}{
		{"0.3", "0.1", true, "0.2"},
		{"0.1", "0.2", false, "0.3"},
		{"1", "10000000000000000000000", false, "10000000000000000000001"},
		{"10000000000000000000000", "1", true, "9999999999999999999999"},
		{"100000000000000000000.00000001", "1", true, "99999999999999999999.00000001"},
		{"9007199254740993", "1", false, "9007199254740994"},
		{"5", "5", true, "0"},
		{"-5", "3", false, "-2"},
		{"1E-130", "1E-130", true, "0"},
		{"9e125", "9e125", false, "overflow"},
		{"9e125", "-9e125", true, "overflow"},
		{"9.9999999999999999999999999999999999999E+125", "1E+125", false, "overflow"},
		{"1e50", "1", false, "overflow"}, // DynamoDB words a result past 38 digits as an overflow
		{"1e50", "1", true, "overflow"},
		{"1E-130", "-2E-130", false, "-0." + strings.Repeat("0", 129) + "1"},
		{"2E-130", "1.5E-130", true, "underflow"},
	} {
		a, _ := Num(tc.a)
		b, _ := Num(tc.b)
		var got Value
		var err error
		if tc.sub {
			got, err = Sub(a, b)
		} else {
			got, err = Add(a, b)
		}
		switch {
		case tc.want == "overflow" || tc.want == "underflow":
			if err == nil || !strings.HasPrefix(strings.ToLower(err.Error()), "number "+tc.want) {
				t.Errorf("%s %v %s: err %v, want %s", tc.a, tc.sub, tc.b, err, tc.want)
			}
		case err != nil:
			t.Errorf("%s %v %s: %v", tc.a, tc.sub, tc.b, err)
		case got.Text() != tc.want:
			t.Errorf("%s %v %s = %s, want %s", tc.a, tc.sub, tc.b, got.Text(), tc.want)
		}
	}
}

// The sizes DynamoDB was measured to charge for numbers, each by an item exactly at the
// 400 KB limit and one byte over.
func TestNumberSizeMatchesMeasuredSizes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    string
		size int
	}{
		{"0", 1}, {"1", 2}, {"12", 2}, {"123", 3}, {"1234", 3},
		{"12345678901234567890123456789012345678", 20},
		{"0042", 2}, {"100", 2}, {"1010", 3}, {"0.0000001", 2}, {"1E125", 2}, {"1E-100", 2},
		{"1.5", 3}, {"15", 2}, {"1.2", 3}, {"1.200", 3}, {"1.234", 4}, {"3.14159", 5},
		{"123456", 4}, {"100.5", 4}, {"0.15", 2}, {"-42", 3}, {"-0", 1},
		{"12345", 4}, {"1234567", 5}, {"12345678", 5}, {"123456789", 6}, {"1234567891", 6},
		{"12345678912", 7}, {"123456789123", 7}, {"1234567890123456789", 11},
		{"-12345", 5}, {"-1E125", 3}, {"-0.15", 3},
		// from the item-size boundary tests: 38 ones then 88 zeros, 1 then 125 zeros, …
		{strings.Repeat("1", 38) + strings.Repeat("0", 88), 20},
		{"1" + strings.Repeat("0", 125), 2},
		{"11" + strings.Repeat("0", 124), 2},
		{"11111" + strings.Repeat("0", 121), 4},
		{"111111" + strings.Repeat("0", 120), 4},
		{"1111111" + strings.Repeat("0", 119), 5},
	} {
		v, err := Num(tc.n)
		if err != nil {
			t.Fatalf("Num(%q): %v", tc.n, err)
		}
		if got := v.Size(); got != tc.size {
			t.Errorf("size of %s = %d, want %d", tc.n, got, tc.size)
		}
	}
}
