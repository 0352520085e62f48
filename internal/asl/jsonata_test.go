package asl

import "testing"

func TestJSONataNumbersAreWrittenAsJavaScriptWritesThem(t *testing.T) {
	t.Parallel()
	r, _ := execute(t, `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass",
		"Output":{"small":"{% 0.00000015 %}","big":"{% 1e21 %}","int":"{% 2 * 3 %}"},"End":true}}}`, `{}`, nil)
	if _, out, _, _ := r.Status(); string(out) != `{"big":1e+21,"int":6,"small":1.5e-7}` {
		t.Fatalf("output %s", out)
	}
}
