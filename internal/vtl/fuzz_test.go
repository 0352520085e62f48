package vtl

import (
	"strings"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"hello $name ${name} $!nobody $obj.k $list[0] $obj['nested'].deep",
	"#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $list)\n  {\"d\" : \"Item $elem\"}#if($foreach.hasNext),#end\n\n#end\n]",
	`#if($n > 2 && $name eq "Ann" || !$x)a#elseif($n lt 1)b#{else}c#end`,
	`#set($m = {"a": [1, 2.5, -3], 'b': {}})$m.put("c", $m.a.size())$m.keySet()`,
	`#foreach($i in [1..3])$velocityCount $foreach.index#break#end#stop`,
	`#define($b)x$name#end$b #macro(m $a $b)$a$b#end#m(1 "two")`,
	"## comment\n#* block *# #** doc *# #[[ raw $x ]]# \\$name \\\\$name \\#if",
	`$name.substring(1, 2).toUpperCase().replaceAll("(.)", "$1$1").split("N")`,
	`#set($s = "a $name #if(true)b#end ""q""")$s 'it''s'`,
	"#set($x = 7 / 0)#set($y = 1.5e3 * 2 % 7)$x$y",
	"\\\\\\$name $ # $! ${ $!{ #{ #{end} #if( #foreach($a in",
}

func FuzzParseExecute(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(src)
		if err != nil {
			if strings.Contains(err.Error(), "parse failed") {
				t.Fatalf("Parse(%q) panicked: %v", src, err)
			}
			return
		}
		var b strings.Builder
		start := time.Now()
		err = tpl.Execute(&b, testVars())
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("Execute(%q) took %v", src, d)
		}
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("Execute(%q) panicked: %v", src, err)
		}
		if b.Len() > MaxOutput {
			t.Fatalf("output of %d bytes", b.Len())
		}
	})
}
