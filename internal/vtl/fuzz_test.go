package vtl

import (
	"bytes"
	"encoding/json"
	"reflect"
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

// FuzzDecodeJSON checks DecodeJSON against encoding/json: the same documents are valid
// and decode to the same values.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2.5e3,-0.1,"x\u00e9\ud83d\ude00",true,null],"b":{}}`, `[]`, `"\\\/\b\f\n\r\t"`, `01`, `{"a":1,"a":2}`, "\"\xff\"", `1e`, ` {"k" : [ ] } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := DecodeJSON(data)
		if valid := json.Valid(data); valid != (err == nil) {
			t.Fatalf("DecodeJSON(%q): error %v, json.Valid %v", data, err, valid)
		}
		if err != nil {
			return
		}
		// Numbers are compared as text: both keep it, and it may not fit a float64.
		unmarshal := func(data []byte) (any, error) {
			d := json.NewDecoder(bytes.NewReader(data))
			d.UseNumber()
			var v any
			err := d.Decode(&v)
			return v, err
		}
		want, err := unmarshal(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := unmarshal([]byte(JSON(v)))
		if err != nil {
			t.Fatalf("JSON(%q) = %q: %v", data, JSON(v), err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeJSON(%q) = %q, want %v", data, JSON(v), want)
		}
	})
}
