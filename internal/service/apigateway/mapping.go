package apigateway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// Parameter mapping of HTTP APIs ("Transforming API requests and responses"): an integration's
// RequestParameters change the request's headers, query string and path before the integration
// sees it, and its ResponseParameters, per status code, change the integration's answer's
// headers and status code. Each value is static text, variables ($request.header.name or
// ${request.header.name}) or a mix of them.

// maxMappedBody is how much of a body a JSON path reads: API Gateway truncates it at 100 KB.
const maxMappedBody = 100 << 10

// reservedHeaders are the headers no mapping may change.
var reservedHeaders = map[string]bool{
	"authorization": true, "connection": true, "content-encoding": true, "content-length": true, "content-location": true,
	"forwarded": true, "keep-alive": true, "origin": true, "proxy-authenticate": true, "proxy-authorization": true, "te": true,
	"trailers": true, "transfer-encoding": true, "upgrade": true, "x-forwarded-for": true, "x-forwarded-host": true,
	"x-forwarded-proto": true, "via": true,
}

func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	return reservedHeaders[n] || strings.HasPrefix(n, "access-control-") || strings.HasPrefix(n, "apigw-") ||
		strings.HasPrefix(n, "x-amz-") || strings.HasPrefix(n, "x-amzn-")
}

func mappingError(format string, args ...any) error {
	return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [%s]", fmt.Sprintf(format, args...))
}

// mappingKey is a parsed mapping key: append, overwrite or remove of header.NAME,
// querystring.NAME, path or statuscode.
type mappingKey struct {
	op, target, name string
}

func parseMappingKey(key string, response bool) (mappingKey, error) {
	op, rest, ok := strings.Cut(key, ":")
	k := mappingKey{op: op}
	if !ok || op != "append" && op != "overwrite" && op != "remove" {
		return k, mappingError("Invalid mapping key %s. A key is append, overwrite or remove, a colon and the parameter", key)
	}
	target, name, _ := strings.Cut(rest, ".")
	k.target, k.name = target, name
	switch {
	case target == "header" && name != "":
		if reservedHeader(name) {
			return k, mappingError("Operations on header %s are restricted", name)
		}
	case target == "querystring" && name != "" && !response:
	case target == "path" && name == "" && !response:
		if op != "overwrite" {
			return k, mappingError("Invalid mapping key %s. The path can only be overwritten", key)
		}
	case target == "statuscode" && name == "" && response:
		if op != "overwrite" {
			return k, mappingError("Invalid mapping key %s. The status code can only be overwritten", key)
		}
	default:
		return k, mappingError("Invalid mapping key %s", key)
	}
	return k, nil
}

// mappingPart is static text, or the variable (without $ and braces) it stands for.
type mappingPart struct {
	text     string
	variable string
}

// variableChar reports whether c may continue a variable written without braces.
func variableChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("._-[]'*", c) >= 0
}

// parseMappingValue splits a value into static text and variables, and checks each variable
// is one the mapping may read: $request.* for requests, $response.* for responses, and
// $context.* and $stageVariables.* for both.
func parseMappingValue(v string, response bool) ([]mappingPart, error) {
	var parts []mappingPart
	text := strings.Builder{}
	for i := 0; i < len(v); {
		c := v[i]
		if c != '$' {
			text.WriteByte(c)
			i++
			continue
		}
		var name string
		if strings.HasPrefix(v[i:], "${") {
			end := strings.IndexByte(v[i:], '}')
			if end < 0 {
				return nil, mappingError("Invalid mapping expression %s: unclosed ${", v)
			}
			name, i = v[i+2:i+end], i+end+1
		} else {
			j := i + 1
			for j < len(v) && variableChar(v[j]) {
				j++
			}
			if root, _, _ := strings.Cut(v[i+1:j], "."); !variableRoots[root] {
				// A $ that starts no variable is text ("$5").
				text.WriteString(v[i:j])
				i = j
				continue
			}
			name, i = v[i+1:j], j
		}
		if !knownVariable(name, response) {
			return nil, mappingError("Invalid mapping expression %s: $%s is not a value a %s parameter can map from", v, name, map[bool]string{false: "request", true: "response"}[response])
		}
		if text.Len() > 0 {
			parts = append(parts, mappingPart{text: text.String()})
			text.Reset()
		}
		parts = append(parts, mappingPart{variable: name})
	}
	if text.Len() > 0 {
		parts = append(parts, mappingPart{text: text.String()})
	}
	return parts, nil
}

// variableRoots are the first names of the variables a mapping may read.
var variableRoots = map[string]bool{"request": true, "response": true, "context": true, "stageVariables": true}

func knownVariable(name string, response bool) bool {
	named := func(prefix string) bool { return strings.HasPrefix(name, prefix) && len(name) > len(prefix) }
	switch {
	case named("context.") || named("stageVariables."):
		return true
	case response:
		return named("response.header.") || name == "response.body" || named("response.body.")
	default:
		return named("request.header.") || named("request.querystring.") || name == "request.body" || named("request.body.") ||
			name == "request.path" || named("request.path.")
	}
}

// checkRequestParameters validates an HTTP API integration's request parameter mappings.
func checkRequestParameters(params map[string]string) error {
	for key, v := range params {
		k, err := parseMappingKey(key, false)
		if err != nil {
			return err
		}
		if k.op == "remove" {
			continue
		}
		if _, err := parseMappingValue(v, false); err != nil {
			return err
		}
	}
	return nil
}

// checkResponseParameters validates response parameter mappings by status code.
func checkResponseParameters(params map[string]map[string]string) error {
	for code, m := range params {
		if n, err := strconv.Atoi(code); err != nil || n < 200 || n > 599 {
			return badRequest("Invalid status code %s for response parameters. Status codes must be between 200 and 599", code)
		}
		for key, v := range m {
			k, err := parseMappingKey(key, true)
			if err != nil {
				return err
			}
			if k.op == "remove" {
				continue
			}
			parts, err := parseMappingValue(v, true)
			if err != nil {
				return err
			}
			if k.target == "statuscode" && len(parts) == 1 && parts[0].variable == "" {
				if n, err := strconv.Atoi(v); err != nil || n < 100 || n > 599 {
					return mappingError("Invalid status code %s for overwrite:statuscode", v)
				}
			}
		}
	}
	return nil
}

// mergeMappings applies an update's mappings to the integration's: a request parameter given
// an empty value, or a status code given no response parameters, loses its mappings.
func mergeMappings[V string | map[string]string](cur, update map[string]V) map[string]V {
	out := make(map[string]V, len(cur)+len(update))
	for k, v := range cur {
		out[k] = v
	}
	for k, v := range update {
		if len(v) == 0 {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// mappingInput is what mapping values read: the request (and its authorizer's findings), and
// for response mappings the integration's answer.
type mappingInput struct {
	req        *proxyRequest
	rec        *accessRecord
	respHeader http.Header
	respBody   []byte
}

// eval renders a value for this input; a variable with no value renders as "".
func (in *mappingInput) eval(v string, response bool) string {
	parts, err := parseMappingValue(v, response)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, p := range parts {
		if p.variable == "" {
			b.WriteString(p.text)
		} else {
			b.WriteString(in.variable(p.variable))
		}
	}
	return b.String()
}

func (in *mappingInput) variable(name string) string {
	p := in.req
	switch {
	case name == "request.body":
		return string(p.body)
	case strings.HasPrefix(name, "request.body."):
		return jsonPath(p.body, strings.TrimPrefix(name, "request.body."))
	case name == "request.path":
		return p.d.path
	case name == "response.body":
		return string(in.respBody)
	case strings.HasPrefix(name, "response.body."):
		return jsonPath(in.respBody, strings.TrimPrefix(name, "response.body."))
	}
	if h, ok := strings.CutPrefix(name, "request.header."); ok {
		return strings.Join(p.r.Header.Values(h), ",")
	}
	if h, ok := strings.CutPrefix(name, "response.header."); ok {
		return strings.Join(in.respHeader.Values(h), ",")
	}
	if q, ok := strings.CutPrefix(name, "request.querystring."); ok {
		return strings.Join(p.r.URL.Query()[q], ",")
	}
	if n, ok := strings.CutPrefix(name, "request.path."); ok {
		return p.match.params[n]
	}
	if n, ok := strings.CutPrefix(name, "stageVariables."); ok {
		return p.d.stage.StageVariables[n]
	}
	if n, ok := strings.CutPrefix(name, "context."); ok {
		return in.contextVariable(n)
	}
	return ""
}

// contextVariable is a $context variable: the authorizer's findings, else those access logs
// know.
func (in *mappingInput) contextVariable(name string) string {
	p := in.req
	if n, ok := strings.CutPrefix(name, "authorizer."); ok && p.auth != nil {
		switch a := p.auth; {
		case a.jwt != nil:
			if c, ok := strings.CutPrefix(n, "claims."); ok {
				return a.jwt.claims[c]
			}
		case a.iam != nil:
		default:
			if n == "principalId" {
				return a.principalID
			}
			if v, ok := a.lambda[n]; ok {
				return claimString(v)
			}
		}
		return ""
	}
	if name == "requestId" {
		return p.requestID
	}
	if in.rec == nil {
		return ""
	}
	if v := in.rec.render(p.r, "$context."+name, p.now); v != "-" {
		return v
	}
	return ""
}

// jsonPath reads a JSON path (a.b[0]['c d']) from the first 100 KB of a JSON body: a string as
// it is, anything else as JSON, "" when the body or the path has nothing there.
func jsonPath(body []byte, path string) string {
	if len(body) > maxMappedBody {
		body = body[:maxMappedBody]
	}
	var cur any
	if json.Unmarshal(body, &cur) != nil {
		return ""
	}
	for path != "" {
		var key string
		index := -1
		switch {
		case strings.HasPrefix(path, "['"):
			end := strings.Index(path, "']")
			if end < 0 {
				return ""
			}
			key, path = path[2:end], path[end+2:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return ""
			}
			n, err := strconv.Atoi(path[1:end])
			if err != nil {
				return ""
			}
			index, path = n, path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			key, path = path[:end], path[end:]
		}
		path = strings.TrimPrefix(path, ".")
		if index >= 0 {
			list, ok := cur.([]any)
			if !ok || index >= len(list) {
				return ""
			}
			cur = list[index]
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[key]
	}
	switch c := cur.(type) {
	case nil:
		return ""
	case string:
		return c
	default:
		b, _ := json.Marshal(c)
		return string(b)
	}
}

// sortedKeys are a mapping's keys in a stable order: removes first, then overwrites, then
// appends, so that a header renamed by appending one and removing another ends as asked.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch {
		case strings.HasPrefix(k, "remove:"):
			return 0
		case strings.HasPrefix(k, "overwrite:"):
			return 1
		}
		return 2
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return keys[i] < keys[j]
	})
	return keys
}

// mapRequest applies the integration's request parameters: it returns a copy of the request
// with its headers, query string and path changed, and the overwritten path ("" when the path
// is kept). Every value is read from the request as the client sent it.
func (s *Service) mapRequest(req *proxyRequest, rec *accessRecord, params map[string]string) (*http.Request, string) {
	in := &mappingInput{req: req, rec: rec}
	values := make(map[string]string, len(params))
	for k, v := range params {
		values[k] = in.eval(v, false)
	}
	r := req.r.Clone(req.r.Context())
	query := r.URL.Query()
	path := ""
	for _, key := range sortedKeys(params) {
		k, err := parseMappingKey(key, false)
		if err != nil {
			continue
		}
		v := values[key]
		switch k.target {
		case "header":
			switch k.op {
			case "remove":
				r.Header.Del(k.name)
			case "overwrite":
				r.Header.Set(k.name, v)
			default:
				r.Header.Add(k.name, v)
			}
		case "querystring":
			switch k.op {
			case "remove":
				query.Del(k.name)
			case "overwrite":
				query.Set(k.name, v)
			default:
				query.Add(k.name, v)
			}
		case "path":
			path = v
			if !strings.HasPrefix(path, "/") {
				path = "/" + path
			}
		}
	}
	r.URL.RawQuery = query.Encode()
	if path != "" {
		r.URL.Path, r.URL.RawPath = path, ""
	}
	return r, path
}

// mapResponse applies the response parameters of the integration's answer's status code to
// its headers, and returns the status code to answer with.
func (s *Service) mapResponse(req *proxyRequest, rec *accessRecord, params map[string]map[string]string, status int, h http.Header, body []byte) int {
	m := params[strconv.Itoa(status)]
	if len(m) == 0 {
		return status
	}
	in := &mappingInput{req: req, rec: rec, respHeader: h.Clone(), respBody: body}
	for _, key := range sortedKeys(m) {
		k, err := parseMappingKey(key, true)
		if err != nil {
			continue
		}
		v := in.eval(m[key], true)
		switch {
		case k.target == "statuscode":
			if n, err := strconv.Atoi(v); err == nil && n >= 100 && n <= 599 {
				status = n
			}
		case k.op == "remove":
			h.Del(k.name)
		case k.op == "overwrite":
			h.Set(k.name, v)
		default:
			h.Add(k.name, v)
		}
	}
	return status
}
