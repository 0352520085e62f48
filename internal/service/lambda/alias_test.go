package lambda

import (
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func TestCheckRouting(t *testing.T) {
	r := funcRef{account: "000000000000", region: "us-east-1", name: "f"}
	existing := map[string]bool{"$LATEST": true, "1": true, "2": true}
	exists := func(v string) (bool, error) { return existing[v], nil }
	cases := []struct {
		name     string
		primary  string
		weights  map[string]float64
		wantCode string
	}{
		{"$LATEST alone is fine", "$LATEST", nil, ""},
		{"a version with a weighted second version is fine", "1", map[string]float64{"2": 0.3}, ""},
		{"weights 0 and 1 are allowed", "1", map[string]float64{"2": 1}, ""},
		{"$LATEST cannot route", "$LATEST", map[string]float64{"1": 0.5}, codeInvalidParameter},
		{"two additional versions are too many", "1", map[string]float64{"2": 0.1, "3": 0.1}, codeInvalidParameter},
		{"the primary cannot be additional", "1", map[string]float64{"1": 0.1}, codeInvalidParameter},
		{"negative weights fail validation", "1", map[string]float64{"2": -0.1}, codeValidation},
		{"weights above 1 fail validation", "1", map[string]float64{"2": 1.01}, codeValidation},
		{"additional $LATEST fails validation", "1", map[string]float64{"$LATEST": 0.1}, codeValidation},
		{"a missing primary is not found", "9", nil, codeNotFound},
		{"a missing additional version is not found", "1", map[string]float64{"9": 0.1}, codeNotFound},
		{"an alias name as version fails validation", "live", nil, codeValidation},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkRouting(r, tc.primary, tc.weights, exists)
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			ae, ok := err.(*awsproto.Error)
			if !ok || ae.Code != tc.wantCode {
				t.Fatalf("err = %v, want %s", err, tc.wantCode)
			}
		})
	}
}

func TestPickWeightedFollowsTheWeight(t *testing.T) {
	w := map[string]float64{"2": 0.25}
	cases := []struct {
		roll float64
		want string
	}{{0, "2"}, {0.2499, "2"}, {0.25, "1"}, {0.99, "1"}}
	for _, tc := range cases {
		if got := pickWeighted("1", w, tc.roll); got != tc.want {
			t.Errorf("roll %v picks %s, want %s", tc.roll, got, tc.want)
		}
	}
	if got := pickWeighted("1", nil, 0); got != "1" {
		t.Errorf("no weights picks %s", got)
	}
}
