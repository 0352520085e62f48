package mapping

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

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
		return base64Decode(s), nil
	}
	return nil, nil
}

// base64Decode decodes leniently, as Apache Commons Codec does: characters outside the
// standard and URL-safe alphabets are skipped, padding is optional and a dangling
// character is dropped.
func base64Decode(s string) string {
	clean := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '-':
			clean = append(clean, '+')
		case c == '_':
			clean = append(clean, '/')
		case c == '=':
			i = len(s) // padding ends the data
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return utf8String(out[:n])
}

// utf8String decodes b as Java's new String(b, UTF_8): each invalid byte becomes U+FFFD.
func utf8String(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for _, r := range string(b) {
		sb.WriteRune(r)
	}
	return sb.String()
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
	return utf8String(b), nil
}
