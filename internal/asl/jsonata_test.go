package asl

import (
	"strings"
	"testing"
)

func TestJSONataNumbersAreWrittenAsJavaScriptWritesThem(t *testing.T) {
	t.Parallel()
	r, _ := execute(t, `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
		"Output":{"small":"{% 0.00000015 %}","big":"{% 1e21 %}","int":"{% 2 * 3 %}"},"End":true}}}`, `{}`, nil)
	if _, out, _, _ := r.Status(); string(out) != `{"small":1.5e-7,"big":1e+21,"int":6}` {
		t.Fatalf("output %s", out)
	}
}

func TestJSONataFunctionResultIsRefused(t *testing.T) {
	t.Parallel()
	for _, out := range []string{`{% $sum %}`, `{% {"f": $uppercase} %}`, `{% "" %}`} {
		r, _ := execute(t, `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"`+strings.ReplaceAll(out, `"`, `\"`)+`","End":true}}}`, `{}`, nil)
		status, output, name, cause := r.Status()
		if out == `{% "" %}` {
			if status != "SUCCEEDED" || string(output) != `""` {
				t.Errorf("an empty string is data: %s %s %s", status, output, cause)
			}
			continue
		}
		if name != "States.QueryEvaluationError" || !strings.Contains(cause, "returned an unsupported result type") {
			t.Errorf("%s: %s %s %s", out, status, name, cause)
		}
	}
}
