package mapping

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

const petsBody = `[{"id":1,"type":"dog","price":249.99},{"id":2,"type":"cat","price":124.99},{"id":3,"type":"fish","price":0.99}]`

func testInput() Input {
	return Input{
		Body: []byte(`{"a":"x","n":1.50,"big":12345678901234567890,"o":{"k":[1,2]},"pets":[{"id":1},{"id":2}],"mykey":"my value","q":"it's \"quoted\""}`),
		Params: Params{
			Path:        map[string]string{"id": "abc"},
			QueryString: map[string]string{"name": "Ann", "id": "fromquery", "q": "x y"},
			Header:      map[string]string{"Content-Type": "application/json", "name": "fromheader"},
		},
		Context: map[string]any{
			"stage":     "prod",
			"requestId": "req-1",
			"identity":  map[string]any{"sourceIp": "192.0.2.1", "userAgent": "curl/7.84.0"},
			"authorizer": map[string]any{
				"principalId": "user",
				"numKey":      "1",
			},
		},
		StageVariables: map[string]string{"env": "dev", "url": "http://example.com"},
	}
}

type renderCase struct{ name, tpl, want string }

func runRender(t *testing.T, in Input, cases []renderCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(tc.tpl, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("template %q\n got %q\nwant %q", tc.tpl, got, tc.want)
			}
		})
	}
}

func TestInput(t *testing.T) {
	t.Parallel()
	runRender(t, testInput(), []renderCase{
		{"plain text passes through", "hello", "hello"},
		{"body is the raw payload", "$input.body", string(testInput().Body)},
		{"json of the root is the document as sent", "$input.json('$')", string(testInput().Body)},
		{"json of a string is a quoted JSON string", "$input.json('$.a')", `"x"`},
		{"json escapes quotes", "$input.json('$.q')", `"it's \"quoted\""`},
		{"path of a string is the raw string", "$input.path('$.a')", `x`},
		{"numbers keep their text", "$input.json('$.n') $input.path('$.n') $input.json('$.big')", `1.50 1.50 12345678901234567890`},
		{"json of an object is compact and ordered", "$input.json('$.o')", `{"k":[1,2]}`},
		{"path of an object is a map", "$input.path('$.o').k[1] $input.path('$.o').k.size()", "2 2"},
		{"path of an object renders as a Java map holding JSON arrays", "$input.path('$.o')", "{k=[1,2]}"},
		{"path of an array renders as JSON", "$input.path('$.pets')", `[{"id":1},{"id":2}]`},
		{"a wildcard yields a list", "$input.json('$.pets[*].id') $input.path('$.pets[*].id').size() $input.path('$.pets[*]')", `[1,2] 2 [{"id":1},{"id":2}]`},
		{"a path without $ is relative to the root", "$input.path('a')", "x"},
		{"json with a double-quoted path", `$input.json("$.a")`, `"x"`},
		{"a missing member renders nothing through json", "[$input.json('$.missing')]", "[]"},
		{"a missing member is null through path", "#if($input.path('$.missing'))yes#{else}no#end [$input.path('$.missing')]", "no []"},
		{"null references render as nothing", "[$nobody][$input.path('$').nope][$context.nope.deeper][$util.nope()]", "[][][][]"},
		{"escaped references still render as written", `\$nobody \$input.path('$.a')`, `\$nobody $input.path('$.a')`},
		{"params by name searches path first", "$input.params('id')", "abc"},
		{"then the query string", "$input.params('name')", "Ann"},
		{"then headers", "$input.params('Content-Type')", "application/json"},
		{"an absent parameter is empty", "[$input.params('nope')]", "[]"},
		{"all params", "$input.params()", "{path={id=abc}, header={Content-Type=application/json, name=fromheader}, querystring={id=fromquery, name=Ann, q=x y}}"},
		{"params by kind", "$input.params().header.get('name') $input.params().querystring.q", "fromheader x y"},
		{"json example from the reference", "{\n    \"name\" : \"$input.params('name')\",\n    \"body\" : $input.json('$.mykey')  \n}",
			"{\n    \"name\" : \"Ann\",\n    \"body\" : \"my value\"  \n}"},
	})
}

func TestContextAndStageVariables(t *testing.T) {
	t.Parallel()
	runRender(t, testInput(), []renderCase{
		{"context variables", `"$context.stage" "$context.requestId" "$context.identity.sourceIp"`, `"prod" "req-1" "192.0.2.1"`},
		{"authorizer context", "$context.authorizer.principalId $context.authorizer.numKey", "user 1"},
		{"an unset context variable renders empty", `"$context.identity.apiKey"`, `""`},
		{"stage variables in all three syntaxes", "$stageVariables.env $stageVariables['env'] ${stageVariables['url']}", "dev dev http://example.com"},
	})
}

func TestUtil(t *testing.T) {
	t.Parallel()
	in := testInput()
	in.Body = []byte(`{"errorMessage":"{\"key1\":\"var1\",\"key2\":{\"arr\":[1,2,3]}}","s":"it's a \"test\"/\n\tż"}`)
	runRender(t, in, []renderCase{
		{"escapeJavaScript", "$util.escapeJavaScript($input.path('$.s'))", `it\'s a \"test\"\/\n\t\u017C`},
		{"escapeJavaScript with the documented quote fix", `$util.escapeJavaScript($input.path('$.s')).replaceAll("\\'","'")`, `it's a \"test\"\/\n\t\u017C`},
		{"parseJson example from the reference",
			"#set ($errorMessageObj = $util.parseJson($input.path('$.errorMessage')))\n{\n   \"errorMessageObjKey2ArrVal\" : $errorMessageObj.key2.arr[0]\n}",
			"{\n   \"errorMessageObjKey2ArrVal\" : 1\n}"},
		{"urlEncode as URLEncoder", `$util.urlEncode("a b&c=d/é*~")`, `a+b%26c%3Dd%2F%C3%A9*%7E`},
		{"urlDecode as URLDecoder", `$util.urlDecode("a+b%26c%3Dd%2F%C3%A9")`, `a b&c=d/é`},
		{"base64", `$util.base64Encode("hello?") $util.base64Decode("aGVsbG8/")`, `aGVsbG8/ hello?`},
		{"base64Decode is lenient as Commons Codec", `$util.base64Decode("aGVs bG8_") $util.base64Decode("aGk") $util.base64Decode("aGk=x") $util.base64Decode("aGVsbA")`, `hello? hi hi hell`},
		{"decoded bytes that are not UTF-8 become U+FFFD", `$util.base64Decode("/3g=") $util.urlDecode("%FFx")`, "\uFFFDx \uFFFDx"},
	})
}

// The examples of "Mapping templates for REST APIs" and the variable reference.
func TestDocumentedExamples(t *testing.T) {
	t.Parallel()
	pets := Input{Body: []byte(petsBody)}
	runRender(t, pets, []renderCase{
		{"pet store array transform",
			"#set($inputRoot = $input.path('$'))\n[\n#foreach($elem in $inputRoot)\n  {\n    \"description\" : \"Item $elem.id is a $elem.type.\",\n    \"askingPrice\" : $elem.price\n  }#if($foreach.hasNext),#end\n\n#end\n]",
			"[\n  {\n    \"description\" : \"Item 1 is a dog.\",\n    \"askingPrice\" : 249.99\n  },\n" +
				"  {\n    \"description\" : \"Item 2 is a cat.\",\n    \"askingPrice\" : 124.99\n  },\n" +
				"  {\n    \"description\" : \"Item 3 is a fish.\",\n    \"askingPrice\" : 0.99\n  }\n]"},
		{"price cut-off with a comparison",
			"#set($inputRoot = $input.path('$'))\n#foreach($elem in $inputRoot)\n$elem.type:#if($elem.price < 100)cheap#{else}pricey#end\n#end",
			"dog:priceycat:priceyfish:cheap"}, // #end eats its line end
	})
	things := Input{
		Body:   []byte(`{"things":{"1":{},"2":{},"3":{}}}`),
		Params: Params{Path: map[string]string{"id": "abc"}},
	}
	runRender(t, things, []renderCase{
		{"request template using params, path and json",
			"{\n    \"id\" : \"$input.params('id')\",\n    \"count\" : \"$input.path('$.things').size()\",\n    \"things\" : $input.json('$.things')\n}",
			"{\n    \"id\" : \"abc\",\n    \"count\" : \"3\",\n    \"things\" : {\"1\":{},\"2\":{},\"3\":{}}\n}"},
	})
	params := Input{Params: Params{
		Path:        map[string]string{"petId": "7"},
		QueryString: map[string]string{"q": `a"b`},
		Header:      map[string]string{"Accept": "*/*"},
	}}
	runRender(t, params, []renderCase{
		{"pass all parameters through",
			"#set($allParams = $input.params())\n{\n  \"params\" : {\n    #foreach($type in $allParams.keySet())\n    #set($params = $allParams.get($type))\n    \"$type\" : {\n      #foreach($paramName in $params.keySet())\n      \"$paramName\" : \"$util.escapeJavaScript($params.get($paramName))\"\n      #if($foreach.hasNext),#end\n      #end\n    }\n    #if($foreach.hasNext),#end\n    #end\n  }\n}",
			// Velocity 1.7 keeps the indentation before #foreach and #if, as API Gateway does.
			"{\n  \"params\" : {\n" +
				"        \"path\" : {\n            \"petId\" : \"7\"\n                }\n    ,        \"header\" : {\n" +
				"            \"Accept\" : \"*\\/*\"\n                }\n    ,        \"querystring\" : {\n" +
				"            \"q\" : \"a\\\"b\"\n                }\n          }\n}"},
	})
}

func TestResponseOverride(t *testing.T) {
	t.Parallel()
	in := Input{Body: []byte(`{"error":"boom"}`)}
	tpl := "#set($inputRoot = $input.path('$'))\n$input.json(\"$\")\n#if($inputRoot.toString().contains(\"error\"))\n" +
		"#set($context.responseOverride.status = 400)\n#set($context.responseOverride.header.X-Value = \"error\")\n#end"
	body, status, headers, err := RenderResponse(tpl, in)
	if err != nil {
		t.Fatal(err)
	}
	if body != "{\"error\":\"boom\"}\n" || status != 400 || !maps.Equal(headers, map[string]string{"X-Value": "error"}) {
		t.Errorf("got %q, %d, %v", body, status, headers)
	}
	body, status, headers, err = RenderResponse("$input.body", in)
	if err != nil || body != `{"error":"boom"}` || status != 0 || headers != nil {
		t.Errorf("without overrides got %q, %d, %v, %v", body, status, headers, err)
	}
}

func TestRequestOverride(t *testing.T) {
	t.Parallel()
	tpl := "#set($context.requestOverride.header.X-Trace = \"t-$input.params('id')\")\n" +
		"#set($context.requestOverride.querystring.page = 2)\n#set($context.requestOverride.path.id = 'x')\nbody"
	body, ov, err := RenderRequest(tpl, testInput())
	if err != nil {
		t.Fatal(err)
	}
	if body != "body" || ov.Header["X-Trace"] != "t-abc" || ov.QueryString["page"] != "2" || ov.Path["id"] != "x" {
		t.Errorf("got %q, %+v", body, ov)
	}
}

// The example of LocalStack's parity tests: JSON arrays inside an object render as JSON.
func TestPathRendering(t *testing.T) {
	t.Parallel()
	runRender(t, Input{Body: []byte(`{"a": 1, "b": [{"c": 5}]}`)}, []renderCase{
		{"object with an array", "$input.path('$')", `{a=1, b=[{"c":5}]}`},
		{"array member", "$input.path('$').b", `[{"c":5}]`},
		{"object inside an array is a map", "$input.path('$').b[0].c $input.path('$.b[0]')", `5 {c=5}`},
	})
}

func TestContextIsNotShared(t *testing.T) {
	t.Parallel()
	in := testInput()
	if _, err := Render("#set($context.identity.sourceIp = 'changed')#set($context.stage = 'x')", in); err != nil {
		t.Fatal(err)
	}
	if in.Context["stage"] != "prod" || in.Context["identity"].(map[string]any)["sourceIp"] != "192.0.2.1" {
		t.Errorf("context changed: %v", in.Context)
	}
	if got, _ := Render("$context.responseOverride.status", in); got != "" {
		t.Errorf("override leaked between renders: %q", got)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	bad := Input{Body: []byte(`{"a":`)}
	if _, err := Render("$input.json('$.a')", bad); !errors.Is(err, ErrInvalidJSON) {
		t.Errorf("invalid body: error %v, want ErrInvalidJSON", err)
	}
	if got, err := Render("$input.body", bad); err != nil || got != `{"a":` {
		t.Errorf("body of invalid JSON: %q, %v", got, err)
	}
	if got, err := Render("$input.body|$input.json('$')|$input.path('$').size()", Input{}); err != nil || got != "{}|{}|0" {
		t.Errorf("empty body: %q, %v", got, err)
	}
	if _, err := Render("#if(", Input{}); err == nil || !strings.Contains(err.Error(), "line 1, column 5") {
		t.Errorf("parse error %v", err)
	}
	if err := Validate("#foreach($a in $b)\n#end"); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := Validate("#end"); err == nil {
		t.Error("Validate accepted a stray #end")
	}
	if _, err := Render("$input.path('$[')", testInput()); err == nil {
		t.Error("invalid JSONPath accepted")
	}
	if _, err := Render("$util.parseJson('{')", testInput()); err == nil {
		t.Error("parseJson accepted invalid JSON")
	}
}

func BenchmarkRender(b *testing.B) {
	in := Input{
		Body:    []byte(petsBody),
		Params:  Params{Path: map[string]string{"id": "abc"}, QueryString: map[string]string{"q": "1"}, Header: map[string]string{"Accept": "*/*"}},
		Context: map[string]any{"stage": "prod", "requestId": "r", "identity": map[string]any{"sourceIp": "127.0.0.1"}},
	}
	tpl := "#set($inputRoot = $input.path('$'))\n{\n  \"id\": \"$input.params('id')\",\n  \"stage\": \"$context.stage\",\n  \"items\": [\n" +
		"#foreach($elem in $inputRoot)\n    {\"description\": \"Item $elem.id is a $elem.type.\", \"askingPrice\": $elem.price}#if($foreach.hasNext),#end\n\n#end\n  ]\n}"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(tpl, in); err != nil {
			b.Fatal(err)
		}
	}
}
