package mapping

import (
	"strings"
	"testing"
)

func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"$input.json('$') $input.path('$.o.k[0]') $input.params('id') $input.params().header",
		"#set($r = $input.path('$'))#foreach($e in $r.pets)$e.id#if($foreach.hasNext),#end#end",
		`$util.escapeJavaScript($input.body) $util.urlEncode("a b") $util.base64Decode($util.base64Encode("x"))`,
		`#set($o = $util.parseJson('{"a":[1]}'))$o.a[0] $context.identity.sourceIp $stageVariables['env']`,
		"#set($context.responseOverride.status = 404)#set($context.requestOverride.header.X = 1)",
	} {
		f.Add(s)
	}
	in := testInput()
	f.Fuzz(func(t *testing.T, tpl string) {
		_, _, _, err := RenderResponse(tpl, in)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("RenderResponse(%q) panicked: %v", tpl, err)
		}
	})
}
