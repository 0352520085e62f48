package sfn

import "testing"

func TestMockResultCheckedAgainstTheModel(t *testing.T) {
	t.Parallel()
	var c schemas
	start, _ := mockedOperation("arn:aws:states:::states:startExecution")
	cases := []struct {
		name   string
		result any
		strict bool
		want   string
	}{
		{"strict wants the required fields", map[string]any{"executionArn": "a"}, true, "Required field 'startDate' is missing"},
		{"present lets them be absent", map[string]any{"executionArn": "a"}, false, ""},
		{"present checks their types", map[string]any{"executionArn": 1.0}, false, "Field 'executionArn' must be a string"},
		{"fields the model lacks pass", map[string]any{"executionArn": "a", "startDate": 1.0, "extra": true}, true, ""},
		{"the result must be an object", []any{}, false, "The result must be an object"},
	}
	for _, tc := range cases {
		err := c.check(start, tc.result, tc.strict)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("%s: no error, want %q", tc.name, tc.want)
		}
	}
	invoke, _ := mockedOperation("arn:aws:states:::lambda:invoke")
	if err := c.check(invoke, map[string]any{"Payload": map[string]any{"x": 1.0}, "StatusCode": 200.0}, true); err != nil {
		t.Errorf("lambda:invoke's Payload is JSON: %v", err)
	}
}
