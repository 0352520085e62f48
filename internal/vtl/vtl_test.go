package vtl

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func render(t *testing.T, src string, vars map[string]any) string {
	t.Helper()
	tpl, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	var b strings.Builder
	if err := tpl.Execute(&b, vars); err != nil {
		t.Fatalf("Execute(%q): %v", src, err)
	}
	return b.String()
}

func testVars() map[string]any {
	return map[string]any{
		"name":  "Ann",
		"n":     int64(3),
		"list":  []any{"a", "b"},
		"price": json.Number("249.990"),
		"obj":   map[string]any{"k": "v", "nested": map[string]any{"deep": true}},
		"wide":  "żółw",
	}
}

type execCase struct{ name, src, want string }

func runCases(t *testing.T, cases []execCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := render(t, tc.src, testVars()); got != tc.want {
				t.Errorf("template %q\n got %q\nwant %q", tc.src, got, tc.want)
			}
		})
	}
}

func TestReferences(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"plain text passes through", "hello world", "hello world"},
		{"simple reference", "$name", "Ann"},
		{"formal reference", "${name}x", "Annx"},
		{"nested property of a map", "$obj.nested.deep", "true"},
		{"index by number and key", "$list[0] $list[1] $obj['k']", "a b v"},
		{"negative index counts from the end", "$list[-1]", "b"},
		{"method on a property", "${obj.k.toUpperCase()}", "V"},
		{"undefined reference renders as written", "$nobody and ${nobody} and $nobody.x('a')", "$nobody and ${nobody} and $nobody.x('a')"},
		{"null property renders the whole reference", "$obj.missing $name.foo", "$obj.missing $name.foo"},
		{"quiet reference renders nothing when null", "[$!nobody][$!{nobody}][$!obj.missing]", "[][][]"},
		{"quiet reference renders a value", "$!name", "Ann"},
		{"a dollar without an identifier is text", "$ $1 $. $$ $!", "$ $1 $. $$ $!"},
		{"identifiers may hold hyphens", "$name-x", "$name-x"},
		{"a dot not followed by a letter ends the reference", "$name. $name.1", "Ann. Ann.1"},
		{"trailing dot after a property", `"Item $obj.k."`, `"Item v."`},
		{"numbers keep their JSON text", "$price", "249.990"},
		{"map renders as Java does", "$obj", "{k=v, nested={deep=true}}"},
		{"list renders as Java does", "$list", "[a, b]"},
	})
}

// Velocity's escaping of references: \$x renders $x when $x is defined and \$x when not.
func TestEscapes(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"escaped defined reference", `\$name`, `$name`},
		{"escaped undefined reference stays", `\$nobody`, `\$nobody`},
		{"double backslash then defined reference", `\\$name`, `\Ann`},
		{"double backslash then undefined reference", `\\$nobody`, `\\$nobody`},
		{"triple backslash then defined reference", `\\\$name`, `\$name`},
		{"escaped directive", `\#if($n) x \#end`, `#if(3) x #end`},
		{"double backslash before a directive renders one and runs it", `\\#if(true)y#end`, `\y`},
		{"backslash before other text stays", `a\b \#notadirective`, `a\b \#notadirective`},
		{"unparsed block", `#[[ $name #if ## ]]# after`, ` $name #if ##  after`},
	})
}

func TestComments(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"line comment eats its line end", "a ## comment\nb", "a b"},
		{"block comment", "a #* block\ncomment *# c", "a  c"},
		{"formal comment", "a#** doc *#b", "ab"},
		{"line comment at the end", "a## c", "a"},
	})
}

func TestDirectives(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"set and use", `#set( $foo = "bar" )$foo`, "bar"},
		{"set with a space before the parenthesis", `#set ($foo = 1)$foo`, "1"},
		{"set a map entry", `#set($m = {})#set($m.k = "v")#set($m['j'] = 2)$m`, "{k=v, j=2}"},
		{"set a list element", `#set($l = [1, 2])#set($l[0] = 9)$l`, "[9, 2]"},
		{"set to null leaves the variable unchanged", `#set($x = 1)#set($x = $nobody)$x`, "1"},
		{"if true", "#if($n == 3)yes#end", "yes"},
		{"if elseif else", "#if($n < 1)a#elseif($n < 5)b#else c#end", "b"},
		{"else branch", "#if($nobody)a#else b#end", " b"},
		{"formal directives", "#{if}(false)a#{else}b#{end}", "b"},
		{"empty string is true", `#if("")t#end`, "t"},
		{"zero is true", `#if(0)t#end`, "t"},
		{"null is false", `#if($nobody)t#{else}f#end`, "f"},
		{"foreach over a list", "#foreach($i in $list)$i#end", "ab"},
		{"foreach over a range", "#foreach($i in [1..3])$i#if($foreach.hasNext),#end#end", "1,2,3"},
		{"descending range", "#foreach($i in [3..1])$i#end", "321"},
		{"range bounds from references", "#foreach($i in [$n..5])$i#end", "345"},
		{"loop counters", "#foreach($i in $list)$velocityCount$foreach.index$foreach.count$foreach.first$foreach.last #end",
			"101truefalse 212falsetrue "},
		{"foreach over a map walks its values", "#foreach($v in $obj)$v;#end", "v;{deep=true};"},
		{"foreach over entrySet", "#foreach($e in $obj.entrySet())$e.key=$e.value;#end", "k=v;nested={deep=true};"},
		{"entries render as Java's", "#foreach($e in $obj.entrySet())$e $e.toString() $e.getKey();#end", "k=v k=v k;nested={deep=true} nested={deep=true} nested;"},
		{"foreach over null renders nothing", "#foreach($i in $nobody)x#end", ""},
		{"loop variable is restored", "#set($i = 'outer')#foreach($i in [1])$i#end$i", "1outer"},
		{"nested loops see their parent", "#foreach($a in [1,2])#foreach($b in [1])$foreach.parent.index#end#end", "01"},
		{"break ends the loop", "#foreach($i in [1..5])#if($i == 3)#break#end$i#end", "12"},
		{"stop ends the template", "before#stop after", "before"},
		{"define renders its block where referenced", "#define($blk)hi $name#end$blk $blk", "hi Ann hi Ann"},
		{"macro", `#macro(greet $who)Hi $who!#end#greet("Bob") #greet($name)`, "Hi Bob! Hi Ann!"},
		{"an unknown directive is text", "#notadirective #ff0000 #", "#notadirective #ff0000 #"},
		{"macro arguments are evaluated before binding", `#macro(swap $a $b)$a$b#end#set($a = 1)#set($b = 2)#swap($b $a)$a$b`, "2112"},
		{"a null macro argument renders as the caller wrote it", `#macro(show $a)[$a][$!a]#end#show($nada.thing())`, "[$nada.thing()][]"},
		{"literal block renders as written", "#literal()\n#foreach($a in $b) $a #end\n#end\nafter", "#foreach($a in $b) $a #end\nafter"},
	})
}

// Velocity 1.7 eats the line end after #end, #else and a directive's ")", and the
// spaces before #set when they start a token; indentation before other directives stays.
func TestWhitespace(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"set eats its line end", "#set($x = 1)\n$x", "1"},
		{"set after a directive line eats its indentation", "#set($x = 1)\n  #set($y = 2)\n$x$y", "12"},
		{"set after text keeps the indentation", "a\n  #set($y = 2)\n$y", "a\n  2"},
		{"if, else and end eat their line ends", "#if($n > 2)\n  big\n#else\n  small\n#end\ndone", "  big\ndone"},
		{"line end eaten only when only blanks follow", "#if(true) x\n#end", " x\n"},
		{"blanks before the line end are eaten too", "#if(true)  \t\nx#end  \ny", "xy"},
		{"indentation before if stays", "  #if(true)\nx\n  #end\n", "  x\n  "},
		{"foreach lines", "Send me\n#set( $foo = [\"$10 and \",\"a pie\"] )\n#foreach( $a in $foo )\n$a\n#end\nplease.",
			"Send me\n$10 and \na pie\nplease."},
		{"CRLF line ends", "#if(true)\r\nx\r\n#end\r\ny", "x\r\ny"},
		{"spaces before set after a reference are eaten", "$n  #set($x = 1)$x", "31"},
	})
}

func TestExpressions(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"integer arithmetic", "#set($r = $n + 1 - 2 * 3)$r", "-2"},
		{"integer division truncates", "#set($d = 7 / 2)$d #set($m = 7 % 4)$m", "33"},
		{"float arithmetic", "#set($f = 7.0 / 2)$f #set($g = 0.1 + 0.2)$g", "3.50.30000000000000004"},
		{"float formatting as Java", "#set($f = 2.0 * 1)$f #set($g = 1e10 * 1)$g", "2.01.0E10"},
		{"division by zero is null", "#set($z = 1 / 0)$z", "$z"},
		{"parentheses", "#set($r = ($n + 1) * 2)$r", "8"},
		{"JSON numbers do arithmetic", "#set($r = $price * 2)$r", "499.98"},
		{"string concatenation", `#set($s = "a" + 1 + $name)$s`, "a1Ann"},
		{"concatenating null uses its literal", `#set($s = "x" + $nobody)$s`, "x$nobody"},
		{"comparisons", "#if($n > 2 && $n >= 3 && $n < 4 && $n <= 3 && $n != 4)ok#end", "ok"},
		{"word operators", `#if($n gt 2 and $n ge 3 and $n lt 4 and $n le 3 and $n ne 4 and $name eq "Ann")ok#end`, "ok"},
		{"or and not", "#if(false || !false)a#end#if(false or not true)b#end", "a"},
		{"numbers compare by value", "#if(3 == 3.0)eq#end", "eq"},
		{"different kinds compare as strings", `#if($n == "3")eq#end`, "eq"},
		{"null equals null", "#if($nobody == $nobody2)eq#end", "eq"},
		{"relational on strings is false", `#if("a" < "b")x#{else}y#end`, "y"},
		{"interpolated string", `#set($s = "Hi $name!")$s`, "Hi Ann!"},
		{"single-quoted strings are literal", `#set($s = 'Hi $name')$s`, "Hi $name"},
		{"doubled quotes", `#set($s = 'it''s')#set($t = "say ""x""")$s $t`, `it's say "x"`},
		{"backslash escapes are not processed", `#set($s = "a\nb")$s`, `a\nb`},
		{"unicode escapes are", `#set($s = "\u0041")$s`, `A`},
		{"directives in a string", `#set($s = "#if(true)y#end")$s`, "y"},
		{"list and map literals", `#set($m = {"a": [1, "two", true], 'b': {}})$m`, "{a=[1, two, true], b={}}"},
		{"negative literal", "#set($x = -5)$x", "-5"},
		{"integer literal beyond a long keeps its text", "#set($x = 123456789012345678901234567890)$x", "123456789012345678901234567890"},
		{"subtraction without spaces", "#set($x = $n-1)$x", "$x"},
		{"subtraction with spaces", "#set($x = $n - 1)$x", "2"},
	})
}

func TestMethods(t *testing.T) {
	t.Parallel()
	runCases(t, []execCase{
		{"string length and case", "$name.length() $name.toLowerCase() $name.toUpperCase()", "3 ann ANN"},
		{"substring", "$name.substring(1) $name.substring(0, 2)", "nn An"},
		{"indexOf", "$name.indexOf('n') $name.lastIndexOf('n') $name.indexOf('z')", "1 2 -1"},
		{"replace and replaceAll", `$name.replace("n", "N") $name.replaceAll("[An]", "x") $name.replaceAll("(n+)", "<$1>")`, "ANN xxx A<nn>"},
		{"trim, contains, startsWith, endsWith", `#set($s = "  ab ")[$s.trim()] $s.contains("ab") $name.startsWith("A") $name.endsWith("x")`, "[ab] true true false"},
		{"equals, isEmpty, matches, charAt", `$name.equals("Ann") $name.isEmpty() $name.matches("A.*") $name.matches("n") $name.charAt(1)`, "true false true false n"},
		{"split drops trailing empty strings", `#set($s = "a,b,,c,,")$s.split(",") $s.split(",").size()`, "[a, b, , c] 4"},
		{"strings count UTF-16 units", "$wide.length() $wide.substring(1, 3)", "4 ół"},
		{"getter properties", "$name.empty $list.empty", "false false"},
		{"map methods", `#set($m = {"a": 1})$m.get("a") $m.containsKey("a") $m.keySet() $m.values() $m.size() $m.isEmpty()`, "1 true [a] [1] 1 false"},
		{"map put returns the previous value", `#set($m = {"a": 1})$m.put("a", 2) $m.put("b", 3) $m`, `1 $m.put("b", 3) {a=2, b=3}`},
		{"map remove", `#set($m = {"a": 1, "b": 2})$m.remove("a") $m`, "1 {b=2}"},
		{"list methods", `#set($l = [])$l.add("x") $l.add("y") $l.size() $l.get(1) $l.isEmpty() $l.contains("x") $l.indexOf("y")`, "true true 2 y false true 1"},
		{"set discards a method's result", `#set($l = [])#set($ignored = $l.add(1))$l`, "[1]"},
		{"unknown method renders the reference", "$name.nope()", "$name.nope()"},
		{"method arguments may be expressions", `$name.substring($n - 2)`, "nn"},
	})
}

func TestExecuteErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"index out of range", "$list.get(5)", "IndexOutOfBoundsException"},
		{"substring out of range", "$name.substring(5)", "StringIndexOutOfBoundsException"},
		{"invalid regular expression", `$name.matches("(")`, "PatternSyntaxException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tpl, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			err = tpl.Execute(&strings.Builder{}, testVars())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			var ee *ExecError
			if !errors.As(err, &ee) || ee.Line != 1 {
				t.Errorf("error %v does not say where", err)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"if without end", "#if($n)\nx", `Encountered "<EOF>" at line 2, column 2.`},
		{"stray end", "a\n  #end", `Encountered "#end" at line 2, column 3.`},
		{"stray else", "#else", `Encountered "#else" at line 1, column 1.`},
		{"if without condition", "#if x", `Encountered "x" at line 1, column 5.`},
		{"unterminated string", `#set($a = "x)`, "unterminated string literal at line 1, column 11."},
		{"bad set target", "#set(1 = 2)", `Encountered "1" at line 1, column 6.`},
		{"unclosed method call", "$a.b(1", `Encountered "<EOF>" at line 1, column 7.`},
		{"unterminated comment", "#* x", "at line 1, column 5."},
		{"foreach without in", "#foreach($a $b)#end", "Invalid arg #1 in directive #foreach at line 1, column 13."},
		{"deep nesting", strings.Repeat("#if(true)", 300), "nesting too deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tc.src)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	t.Run("foreach stops after 1000 iterations", func(t *testing.T) {
		t.Parallel()
		got := render(t, "#foreach($i in [1..5000])x#end", nil)
		if len(got) != MaxForeachIterations {
			t.Errorf("%d iterations, want %d", len(got), MaxForeachIterations)
		}
	})
	t.Run("output is bounded", func(t *testing.T) {
		t.Parallel()
		src := `#set($s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")` +
			`#foreach($a in [1..1000])#foreach($b in [1..1000])$s#end#end`
		tpl, err := Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := tpl.Execute(&strings.Builder{}, nil); !errors.Is(err, ErrOutputTooLarge) {
			t.Errorf("error %v, want ErrOutputTooLarge", err)
		}
	})
	for name, src := range map[string]string{
		"doubling a string with +":           `#set($s = "xxxxxxxxxxxxxxxx")#foreach($i in [1..40])#set($s = $s + $s)#end`,
		"doubling a string by interpolation": `#set($s = "xxxxxxxxxxxxxxxx")#foreach($i in [1..40])#set($s = "$s$s")#end`,
		"a list holding itself twice":        `#set($l = [])#set($d = $l.add($l))#set($d = $l.add($l))$l`,
		"replace that multiplies":            `#set($s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")#foreach($i in [1..10])#set($s = $s.replace("x", $s))#end`,
		"replaceAll that multiplies":         `#set($s = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")#foreach($i in [1..10])#set($s = $s.replaceAll("", $s))#end`,
	} {
		t.Run(name+" is bounded", func(t *testing.T) {
			t.Parallel()
			tpl, err := Parse(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := tpl.Execute(&strings.Builder{}, nil); !errors.Is(err, ErrOutputTooLarge) {
				t.Errorf("error %v, want ErrOutputTooLarge", err)
			}
		})
	}
	t.Run("comparing a list holding itself ends", func(t *testing.T) {
		t.Parallel()
		got := render(t, `#set($l = [])#set($d = $l.add($l))#set($m = [])#set($d = $m.add($m))#if($l == $m)eq#{else}ne#end`, nil)
		if got != "ne" {
			t.Errorf("got %q", got)
		}
	})
	t.Run("macro recursion is bounded", func(t *testing.T) {
		t.Parallel()
		tpl, err := Parse("#macro(r $x)#r($x)#end#r(1)")
		if err != nil {
			t.Fatal(err)
		}
		if err := tpl.Execute(&strings.Builder{}, nil); err == nil || !strings.Contains(err.Error(), "too deep") {
			t.Errorf("error %v, want recursion too deep", err)
		}
	})
	t.Run("define recursion is bounded", func(t *testing.T) {
		t.Parallel()
		tpl, err := Parse("#define($b)$b#end$b")
		if err != nil {
			t.Fatal(err)
		}
		if err := tpl.Execute(&strings.Builder{}, nil); err == nil {
			t.Error("no error")
		}
	})
	t.Run("vars are not modified", func(t *testing.T) {
		t.Parallel()
		vars := map[string]any{"x": "a"}
		render(t, "#set($x = 'b')#set($y = 1)", vars)
		if len(vars) != 1 || vars["x"] != "a" {
			t.Errorf("vars changed: %v", vars)
		}
	})
}

type testObject struct{}

func (testObject) Get(name string) (any, bool) {
	if name == "prop" {
		return "P", true
	}
	return nil, false
}

func (testObject) Call(method string, args []any) (any, error) {
	switch method {
	case "echo":
		return args[0], nil
	case "fail":
		return nil, errors.New("boom")
	}
	return nil, nil
}

func TestNullAsEmpty(t *testing.T) {
	t.Parallel()
	tpl, err := Parse(`[$nobody][$obj.missing][$name][\$nobody][\\$nobody]["$nobody"]`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tpl.ExecuteOptions(&b, testVars(), Options{NullAsEmpty: true}); err != nil {
		t.Fatal(err)
	}
	if want := `[][][Ann][\$nobody][\][""]`; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

func TestObjects(t *testing.T) {
	t.Parallel()
	vars := map[string]any{"o": testObject{}}
	if got := render(t, "$o.prop $o.echo('x') $o.echo($o.prop) $o.missing $!o.none()", vars); got != "P x P $o.missing " {
		t.Errorf("got %q", got)
	}
	tpl, _ := Parse("\n#set($s = \"a $o.fail()\")")
	err := tpl.Execute(&strings.Builder{}, vars)
	var ee *ExecError
	if !errors.As(err, &ee) || ee.Line != 2 || ee.Column != 17 {
		t.Errorf("error in a string literal %v, want one at line 2, column 17", err)
	}
	tpl, _ = Parse("\n  $o.fail()")
	err = tpl.Execute(&strings.Builder{}, vars)
	if !errors.As(err, &ee) || ee.Line != 2 || ee.Column != 6 || !strings.Contains(err.Error(), "boom") {
		t.Errorf("error %v, want boom at line 2, column 6", err)
	}
}

func TestDecodeJSONKeepsOrderAndNumbers(t *testing.T) {
	t.Parallel()
	v, err := DecodeJSON([]byte(`{"z":1.50,"a":[true,null,"s"],"m":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := String(v); got != `{z=1.50, a=[true,null,"s"], m={}}` {
		t.Errorf("got %q", got)
	}
	for _, bad := range []string{`{`, `{"a":1}x`, `[1,]`, ``} {
		if _, err := DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%q) accepted", bad)
		}
	}
}

func TestMap(t *testing.T) {
	t.Parallel()
	m := NewMap()
	for i := range 20 {
		m.Set(string(rune('a'+i)), i)
	}
	m.Set("c", "C")
	m.Delete("b")
	m.Delete("nope")
	if v, ok := m.Get("c"); !ok || v != "C" {
		t.Errorf("Get(c) = %v, %v", v, ok)
	}
	if _, ok := m.Get("b"); ok {
		t.Error("deleted key found")
	}
	if v, _ := m.Get("t"); v != 19 {
		t.Errorf("Get(t) = %v", v)
	}
	if keys := strings.Join(m.Keys(), ""); keys != "acdefghijklmnopqrst" || m.Len() != 19 {
		t.Errorf("keys %q, len %d", keys, m.Len())
	}
	var zero Map
	zero.Set("k", 1)
	if data, _ := zero.MarshalJSON(); string(data) != `{"k":1}` {
		t.Errorf("MarshalJSON = %s", data)
	}
}
