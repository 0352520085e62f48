package sfn

import "testing"

// TestDropNullsKeepsTheBodysOrder drops null members and leaves the rest, numbers as written,
// in the order the state gave them.
func TestDropNullsKeepsTheBodysOrder(t *testing.T) {
	t.Parallel()
	got := string(dropNulls([]byte(`{"z":1.50,"n":null,"a":{"y":null,"b":[{"q":null,"p":2}]}}`)))
	if want := `{"z":1.50,"a":{"b":[{"p":2}]}}`; got != want {
		t.Errorf("dropNulls = %s, want %s", got, want)
	}
}
