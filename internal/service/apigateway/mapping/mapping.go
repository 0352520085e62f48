// Package mapping renders API Gateway mapping templates: the Velocity templates of REST
// API non-proxy integrations, with $input, $util, $context and $stageVariables as the
// "API Gateway mapping template and access logging variable reference" documents them.
package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/kiri-run/kiri/internal/jsonpath"
	"github.com/kiri-run/kiri/internal/vtl"
)

// Params are a request's parameters, each map keyed by name; header names as sent.
type Params struct{ Path, QueryString, Header map[string]string }

// Input is what a template sees.
type Input struct {
	Body           []byte            // the request body (request templates) or the integration's response body (response templates)
	Params         Params            // $input.params()
	Context        map[string]any    // $context
	StageVariables map[string]string // $stageVariables
}

// ErrInvalidJSON reports a template that read the body as JSON ($input.json, $input.path)
// when it is not JSON. API Gateway answers such a request with 400 and
// {"message": "Could not parse request body into json: ..."}.
var ErrInvalidJSON = errors.New("Could not parse request body into json")

// Render renders template with in. Compiled templates are cached.
func Render(template string, in Input) (string, error) {
	body, _, err := render(template, in)
	return body, err
}

// RenderResponse renders an integration response template and also returns the
// overrides it set through $context.responseOverride.status (0 when not set) and
// $context.responseOverride.header.<name>.
func RenderResponse(template string, in Input) (body string, status int, headers map[string]string, err error) {
	body, ctx, err := render(template, in)
	if err != nil {
		return "", 0, nil, err
	}
	ov, _ := ctx.Get("responseOverride")
	if m, ok := ov.(*vtl.Map); ok {
		if s, ok := m.Get("status"); ok && s != nil {
			n, err := strconv.Atoi(strings.TrimSpace(vtl.String(s)))
			if err == nil {
				status = n
			}
		}
		headers = stringMap(m, "header")
	}
	return body, status, headers, nil
}

// RequestOverride holds what a request template set through $context.requestOverride.
type RequestOverride struct {
	Header, Path, QueryString map[string]string
}

// RenderRequest renders an integration request template and also returns the
// overrides it set through $context.requestOverride.header/.path/.querystring.<name>.
func RenderRequest(template string, in Input) (string, RequestOverride, error) {
	body, ctx, err := render(template, in)
	if err != nil {
		return "", RequestOverride{}, err
	}
	var ov RequestOverride
	if m, ok := mapOf(ctx, "requestOverride"); ok {
		ov.Header = stringMap(m, "header")
		ov.Path = stringMap(m, "path")
		ov.QueryString = stringMap(m, "querystring")
	}
	return body, ov, nil
}

// Validate reports whether template parses, with Velocity's line and column on error.
func Validate(template string) error {
	_, err := compile(template)
	return err
}

func mapOf(m *vtl.Map, key string) (*vtl.Map, bool) {
	v, _ := m.Get(key)
	r, ok := v.(*vtl.Map)
	return r, ok
}

// stringMap returns the entries set in m[key], or nil when there are none.
func stringMap(m *vtl.Map, key string) map[string]string {
	sub, ok := mapOf(m, key)
	if !ok || sub.Len() == 0 {
		return nil
	}
	out := make(map[string]string, sub.Len())
	for _, k := range sub.Keys() {
		v, _ := sub.Get(k)
		if v != nil {
			out[k] = vtl.String(v)
		}
	}
	return out
}

func render(template string, in Input) (string, *vtl.Map, error) {
	t, err := compile(template)
	if err != nil {
		return "", nil, err
	}
	ctx := contextMap(in.Context)
	inp := &input{in: in}
	vars := map[string]any{
		"input":          inp,
		"util":           util{},
		"context":        ctx,
		"stageVariables": stringsToMap(in.StageVariables),
	}
	var b strings.Builder
	if err := t.Execute(&b, vars); err != nil {
		return "", nil, err
	}
	return b.String(), ctx, nil
}

// contextMap copies $context so that a template's #set cannot change the caller's
// map, and adds the override maps.
func contextMap(c map[string]any) *vtl.Map {
	m, _ := copyValue(c, 0).(*vtl.Map)
	if m == nil {
		m = vtl.NewMap()
	}
	req := vtl.NewMap()
	req.Set("header", vtl.NewMap())
	req.Set("path", vtl.NewMap())
	req.Set("querystring", vtl.NewMap())
	m.Set("requestOverride", req)
	resp := vtl.NewMap()
	resp.Set("header", vtl.NewMap())
	m.Set("responseOverride", resp)
	return m
}

func copyValue(v any, depth int) any {
	if depth > 64 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		m := vtl.NewMap()
		for _, k := range sortedKeys(x) {
			m.Set(k, copyValue(x[k], depth+1))
		}
		return m
	case map[string]string:
		return stringsToMap(x)
	case []any:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = copyValue(e, depth+1)
		}
		return &vtl.List{Items: items}
	case []string:
		items := make([]any, len(x))
		for i, e := range x {
			items[i] = e
		}
		return &vtl.List{Items: items}
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func stringsToMap(s map[string]string) *vtl.Map {
	m := vtl.NewMap()
	for _, k := range sortedKeys(s) {
		m.Set(k, s[k])
	}
	return m
}

// The template cache holds compiled templates (or their parse errors) by source text.
const maxCached = 1024

var cache = struct {
	sync.Mutex
	m map[string]compiled
}{m: map[string]compiled{}}

type compiled struct {
	t   *vtl.Template
	err error
}

func compile(src string) (*vtl.Template, error) {
	cache.Lock()
	c, ok := cache.m[src]
	cache.Unlock()
	if ok {
		return c.t, c.err
	}
	t, err := vtl.Parse(src)
	cache.Lock()
	if len(cache.m) >= maxCached {
		clear(cache.m)
	}
	cache.m[src] = compiled{t, err}
	cache.Unlock()
	return t, err
}

// input is $input.
type input struct {
	in     Input
	parsed bool
	doc    any
	err    error
}

func (i *input) Get(name string) (any, bool) {
	switch name {
	case "body":
		return string(i.in.Body), true
	}
	return nil, false
}

func (i *input) Call(method string, args []any) (any, error) {
	switch method {
	case "getBody":
		return string(i.in.Body), nil
	case "json", "path":
		if len(args) != 1 {
			return nil, fmt.Errorf("$input.%s takes one JSONPath argument", method)
		}
		v, found, err := i.eval(vtl.String(args[0]))
		if err != nil {
			return nil, err
		}
		if method == "path" {
			if !found {
				return nil, nil
			}
			return v, nil
		}
		if !found {
			return "", nil
		}
		return JSON(v), nil
	case "params":
		switch len(args) {
		case 0:
			return i.allParams(), nil
		case 1:
			return i.param(vtl.String(args[0])), nil
		}
	}
	return nil, nil
}

// body returns the body decoded as JSON; an empty body reads as {}.
func (i *input) document() (any, error) {
	if !i.parsed {
		i.parsed = true
		if strings.TrimSpace(string(i.in.Body)) == "" {
			i.doc = vtl.NewMap()
		} else if i.doc, i.err = vtl.DecodeJSON(i.in.Body); i.err != nil {
			i.err = fmt.Errorf("%w: %v", ErrInvalidJSON, i.err)
		}
	}
	return i.doc, i.err
}

func (i *input) eval(path string) (any, bool, error) {
	doc, err := i.document()
	if err != nil {
		return nil, false, err
	}
	p, err := jsonpath.Parse(path)
	if err != nil {
		return nil, false, err
	}
	v, err := p.Get(doc)
	if errors.Is(err, jsonpath.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if list, ok := v.([]any); ok {
		return &vtl.List{Items: list}, true, nil
	}
	return v, true, nil
}

func (i *input) allParams() *vtl.Map {
	m := vtl.NewMap()
	m.Set("path", stringsToMap(i.in.Params.Path))
	m.Set("querystring", stringsToMap(i.in.Params.QueryString))
	m.Set("header", stringsToMap(i.in.Params.Header))
	return m
}

// param looks name up in the path, then the query string, then the headers.
func (i *input) param(name string) string {
	if v, ok := i.in.Params.Path[name]; ok {
		return v
	}
	if v, ok := i.in.Params.QueryString[name]; ok {
		return v
	}
	if v, ok := i.in.Params.Header[name]; ok {
		return v
	}
	for k, v := range i.in.Params.Header {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
