package jsonata

import (
	"regexp"
	"strings"
)

// signature is a function signature such as <s-nn?:s>: it validates the
// arguments of a call and supplies the context for a '-' parameter.
type signature struct {
	definition string
	params     []sigParam
	re         *regexp.Regexp
}

type sigParam struct {
	typ       string
	regex     string
	context   bool
	contextRe *regexp.Regexp
	subtype   string
	isArray   bool
}

var arraySubtypeNames = map[string]string{"a": "arrays", "b": "booleans", "f": "functions", "n": "numbers", "o": "objects", "s": "strings"}

func mustSignature(s string) *signature { return parseSignature(s, 0) }

func parseSignature(sig string, pos int) *signature {
	runes := []rune(sig)
	var params []sigParam
	var param sigParam
	prev := -1
	closing := func(start int, open, close rune) int {
		depth := 1
		p := start
		for p < len(runes) {
			p++
			if p >= len(runes) {
				break
			}
			if runes[p] == close {
				depth--
				if depth == 0 {
					break
				}
			} else if runes[p] == open {
				depth++
			}
		}
		return p
	}
	next := func() {
		params = append(params, param)
		prev = len(params) - 1
		param = sigParam{}
	}
	for p := 1; p < len(runes); p++ {
		c := runes[p]
		if c == ':' {
			break
		}
		switch c {
		case 's', 'n', 'b', 'l', 'o':
			param.regex = "[" + string(c) + "m]"
			param.typ = string(c)
			next()
		case 'a':
			param.regex = "[asnblfom]"
			param.typ = "a"
			param.isArray = true
			next()
		case 'f':
			param.regex = "f"
			param.typ = "f"
			next()
		case 'j':
			param.regex = "[asnblom]"
			param.typ = "j"
			next()
		case 'x':
			param.regex = "[asnblfom]"
			param.typ = "x"
			next()
		case '-':
			if prev >= 0 {
				pp := &params[prev]
				pp.context = true
				pp.contextRe = regexp.MustCompile("^" + pp.regex + "$")
				pp.regex += "?"
			}
		case '?', '+':
			if prev >= 0 {
				params[prev].regex += string(c)
			}
		case '(':
			end := closing(p, '(', ')')
			if end > len(runes) {
				end = len(runes)
			}
			choice := string(runes[p+1 : end])
			if strings.Contains(choice, "<") {
				throw(&Error{Code: "S0402", Position: pos + p, Value: choice})
			}
			param.regex = "[" + choice + "m]"
			param.typ = "(" + choice + ")"
			p = end
			next()
		case '<':
			if prev >= 0 && (params[prev].typ == "a" || params[prev].typ == "f") {
				end := closing(p, '<', '>')
				if end > len(runes) {
					end = len(runes)
				}
				params[prev].subtype = string(runes[p+1 : end])
				p = end
			} else {
				t := ""
				if prev >= 0 {
					t = params[prev].typ
				}
				throw(&Error{Code: "S0401", Position: pos + p, Value: t})
			}
		}
	}
	regexes := make([]string, len(params))
	for i, p := range params {
		regexes[i] = p.regex
	}
	re, err := groupsRegex("", regexes)
	if err != nil {
		throw(&Error{Code: "S0401", Position: pos, Value: sig})
	}
	return &signature{definition: sig, params: params, re: re}
}

// groupsRegex compiles the anchored concatenation of one capturing group per
// regex, after flags.
func groupsRegex(flags string, regexes []string) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString(flags + "^")
	for _, r := range regexes {
		sb.WriteString("(" + r + ")")
	}
	sb.WriteString("$")
	return regexp.Compile(sb.String())
}

func typeSymbol(v any) byte {
	switch v.(type) {
	case nil:
		return 'm'
	case string:
		return 's'
	case float64:
		return 'n'
	case bool:
		return 'b'
	case null:
		return 'l'
	case *array:
		return 'a'
	case *object, tuple:
		return 'o'
	}
	if isFunction(v) {
		return 'f'
	}
	return 'm'
}

func (s *signature) validate(args []any, context any) []any {
	sym := make([]byte, len(args))
	for i, a := range args {
		sym[i] = typeSymbol(a)
	}
	supplied := string(sym)
	m := s.re.FindStringSubmatch(supplied)
	if m == nil {
		s.fail(args, supplied)
	}
	out := make([]any, 0, len(s.params))
	ai := 0
	for i, p := range s.params {
		match := m[i+1]
		if match == "" {
			if p.context && p.contextRe != nil {
				if p.contextRe.MatchString(string(typeSymbol(context))) {
					out = append(out, context)
				} else {
					throw(&Error{Code: "T0411", Value: context, index: ai + 1})
				}
			} else {
				var a any
				if ai < len(args) {
					a = args[ai]
				}
				out = append(out, a)
				ai++
			}
			continue
		}
		for _, single := range match {
			var a any
			if ai < len(args) {
				a = args[ai]
			}
			if p.typ == "a" {
				if single == 'm' {
					a = nil
				} else {
					ok := true
					if p.subtype != "" {
						if single != 'a' && match != p.subtype {
							ok = false
						} else if arr, isArr := a.(*array); isArr && single == 'a' {
							if len(arr.items) > 0 {
								it := typeSymbol(arr.items[0])
								if string(it) != p.subtype[:1] {
									ok = false
								} else {
									for _, x := range arr.items {
										if typeSymbol(x) != it {
											ok = false
											break
										}
									}
								}
							}
						}
					}
					if !ok {
						throw(&Error{Code: "T0412", Value: a, index: ai + 1, typeName: arraySubtypeNames[p.subtype]})
					}
					if single != 'a' {
						a = &array{items: []any{a}}
					}
				}
			}
			out = append(out, a)
			ai++
		}
	}
	return out
}

func (s *signature) fail(args []any, supplied string) {
	partial := "^"
	good := 0
	for _, p := range s.params {
		partial += p.regex
		re, err := regexp.Compile(partial)
		if err != nil {
			break
		}
		loc := re.FindStringIndex(supplied)
		if loc == nil {
			break
		}
		good = loc[1]
	}
	var v any
	if good < len(args) {
		v = args[good]
	}
	throw(&Error{Code: "T0410", Value: v, index: good + 1})
}
