package mapping

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/kiri-run/kiri/internal/vtl"
)

// util is $util.
type util struct{}

func (util) Get(string) (any, bool) { return nil, false }

func (util) Call(method string, args []any) (any, error) {
	if len(args) != 1 {
		return nil, nil
	}
	if args[0] == nil {
		return nil, nil
	}
	s := vtl.String(args[0])
	switch method {
	case "escapeJavaScript":
		return escapeJavaScript(s), nil
	case "parseJson":
		v, err := vtl.DecodeJSON([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("$util.parseJson: invalid JSON: %v", err)
		}
		return v, nil
	case "urlEncode":
		return urlEncode(s), nil
	case "urlDecode":
		return urlDecode(s)
	case "base64Encode":
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "base64Decode":
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("$util.base64Decode: %v", err)
		}
		return string(b), nil
	}
	return nil, nil
}

// escapeJavaScript escapes as Apache Commons Lang's StringEscapeUtils.escapeJavaScript,
// which API Gateway uses: quotes, backslash and slash get a backslash, control
// characters their short escapes, and every non-ASCII UTF-16 unit becomes \uXXXX.
func escapeJavaScript(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		switch {
		case u > 0x7f:
			fmt.Fprintf(&b, `\u%04X`, u)
		case u < 32:
			switch u {
			case '\b':
				b.WriteString(`\b`)
			case '\n':
				b.WriteString(`\n`)
			case '\t':
				b.WriteString(`\t`)
			case '\f':
				b.WriteString(`\f`)
			case '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(&b, `\u%04X`, u)
			}
		case u == '\'' || u == '"' || u == '\\' || u == '/':
			b.WriteByte('\\')
			b.WriteByte(byte(u))
		default:
			b.WriteByte(byte(u))
		}
	}
	return b.String()
}

// urlEncode encodes as java.net.URLEncoder with UTF-8: letters, digits and .-*_ stay,
// a space becomes +, all else %XX.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '*', c == '_':
			b.WriteByte(c)
		case c == ' ':
			b.WriteByte('+')
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// urlDecode decodes as java.net.URLDecoder with UTF-8.
func urlDecode(s string) (string, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			b = append(b, ' ')
		case '%':
			if i+2 >= len(s) {
				return "", fmt.Errorf("$util.urlDecode: incomplete trailing escape (%%) pattern")
			}
			n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return "", fmt.Errorf("$util.urlDecode: illegal hex characters in escape (%%) pattern")
			}
			b = append(b, byte(n))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}
