package sqs

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/uuid"
)

// maxMessageAttributes is the most message attributes a message carries.
const maxMessageAttributes = 10

// maxAttributeName bounds a message attribute's name and its type.
const maxAttributeName = 256

// Transport types of message attribute values in the MD5 digest.
const (
	transportString = 1
	transportBinary = 2
)

// msgAttr is a checked message (or message system) attribute: name, data type and value (the
// bytes of StringValue, or BinaryValue).
type msgAttr struct {
	Name, Type string
	Value      []byte
}

// binary reports whether the attribute is of the Binary type (custom labels included).
func (a msgAttr) binary() bool { return strings.HasPrefix(a.Type, "Binary") }

// size is what the attribute counts toward the message size: name, type and value.
func (a msgAttr) size() int { return len(a.Name) + len(a.Type) + len(a.Value) }

// value is the attribute as the wire carries it.
func (a msgAttr) value() MessageAttributeValue {
	v := MessageAttributeValue{DataType: awsproto.Ptr(a.Type)}
	if a.binary() {
		v.BinaryValue = a.Value
	} else {
		v.StringValue = awsproto.Ptr(string(a.Value))
	}
	return v
}

var errInvalidContents = awsproto.Errorf("InvalidMessageContents", 400,
	"Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF")

// validContents reports whether s holds only the characters SQS allows in a message:
// #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
func validContents(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || r >= 0xD800 && r < 0xE000 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// checkMessageAttributes checks a message's attributes and returns them sorted by name.
func checkMessageAttributes(in map[string]MessageAttributeValue) ([]msgAttr, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxMessageAttributes {
		return nil, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in), maxMessageAttributes)
	}
	out := make([]msgAttr, 0, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		a, err := checkMessageAttribute(name, in[name])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// checkMessageAttribute checks one message attribute.
func checkMessageAttribute(name string, v MessageAttributeValue) (msgAttr, error) {
	if reason := attributeNameProblem(name); reason != "" {
		return msgAttr{}, invalidParameter("Message (user) attribute name '%s' is invalid. Reason: %s", name, reason)
	}
	typ := awsproto.Value(v.DataType)
	base, label, _ := strings.Cut(typ, ".")
	switch {
	case typ == "":
		return msgAttr{}, invalidParameter("The message attribute '%s' must contain non-empty message attribute type.", name)
	case len(typ) > maxAttributeName:
		return msgAttr{}, invalidParameter("Message (user) attribute '%s' type must be shorter than %d bytes.", name, maxAttributeName)
	case base != "String" && base != "Number" && base != "Binary",
		strings.Contains(typ, ".") && (label == "" || !validTypeLabel(label)):
		return msgAttr{}, invalidParameter("The type of message (user) attribute '%s' is invalid. You must use only the following supported type prefixes: Binary, Number, String.", name)
	case len(v.StringListValues) > 0 || len(v.BinaryListValues) > 0:
		return msgAttr{}, invalidParameter("Message (user) attribute '%s': StringListValues and BinaryListValues are reserved for future use and not supported.", name)
	}
	a := msgAttr{Name: name, Type: typ}
	if base == "Binary" {
		if len(v.BinaryValue) == 0 || v.StringValue != nil {
			return msgAttr{}, invalidParameter("Message (user) attribute '%s' must contain a non-empty value of type 'Binary'.", name)
		}
		a.Value = v.BinaryValue
		return a, nil
	}
	s := awsproto.Value(v.StringValue)
	if s == "" || v.BinaryValue != nil {
		return msgAttr{}, invalidParameter("Message (user) attribute '%s' must contain a non-empty value of type '%s'.", name, base)
	}
	if !validContents(s) {
		return msgAttr{}, errInvalidContents
	}
	if base == "Number" && !validNumber(s) {
		return msgAttr{}, invalidParameter("Can't cast the value of message (user) attribute '%s' to a number.", name)
	}
	a.Value = []byte(s)
	return a, nil
}

// attributeNameProblem explains why name cannot name a message attribute ("" when it can).
func attributeNameProblem(name string) string {
	lower := strings.ToLower(name)
	switch {
	case name == "" || len(name) > maxAttributeName:
		return "Message (user) attribute names must be 1 to 256 characters long."
	case strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon."):
		return "Names starting with 'AWS.' or 'Amazon.' are reserved for use by Amazon Web Services."
	case name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, ".."):
		return "Names must not start or end with a period (.), nor contain successive periods."
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isNameByte(c) && c != '.' {
			return "Names can contain only alphanumeric characters, hyphens (-), underscores (_) and periods (.)."
		}
	}
	return ""
}

func validTypeLabel(l string) bool {
	for i := 0; i < len(l); i++ {
		if c := l[i]; !isNameByte(c) && c != '.' {
			return false
		}
	}
	return true
}

// validNumber reports whether s is a decimal number SQS accepts: an optional sign, digits with
// an optional fraction, an optional exponent, and at most 38 significant digits.
func validNumber(s string) bool {
	s = strings.TrimLeft(s, "+-")
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	if hasExp {
		exp = strings.TrimLeft(exp, "+-")
		if exp == "" || strings.Trim(exp, "0123456789") != "" {
			return false
		}
	}
	whole, frac, _ := strings.Cut(mant, ".")
	if whole+frac == "" || strings.Trim(whole+frac, "0123456789") != "" {
		return false
	}
	digits := strings.Trim(whole+frac, "0")
	return len(digits) <= 38
}

// checkSystemAttributes checks a message's system attributes: only AWSTraceHeader, a String.
func checkSystemAttributes(in map[string]MessageSystemAttributeValue) ([]msgAttr, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]msgAttr, 0, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		v := in[name]
		if name != sysAWSTraceHeader {
			return nil, invalidParameter("Message system attribute name '%s' is invalid.", name)
		}
		if awsproto.Value(v.DataType) != "String" {
			return nil, invalidParameter("Message system attribute '%s' must be of type 'String'.", name)
		}
		s := awsproto.Value(v.StringValue)
		if s == "" || !validContents(s) {
			return nil, invalidParameter("Message system attribute '%s' must contain a non-empty value of type 'String'.", name)
		}
		out = append(out, msgAttr{Name: name, Type: "String", Value: []byte(s)})
	}
	return out, nil
}

// md5OfAttributes is SQS's MD5OfMessageAttributes (and MD5OfMessageSystemAttributes) of
// attributes sorted by name: for each, the name, the data type and the value, each preceded by
// its length as 4 big-endian bytes, with a transport byte (1 string, 2 binary) before the
// value. "" for no attributes.
func md5OfAttributes(attrs []msgAttr) string {
	if len(attrs) == 0 {
		return ""
	}
	h := md5.New()
	var n [4]byte
	put := func(b []byte) {
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, a := range attrs {
		put([]byte(a.Name))
		put([]byte(a.Type))
		if a.binary() {
			h.Write([]byte{transportBinary})
		} else {
			h.Write([]byte{transportString})
		}
		put(a.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// meta is what SQS keeps with a message beside its body, in the engine's opaque Meta.
type meta struct {
	Sender  string    // SenderId
	Origin  string    // the name of the queue it was sent to: DeadLetterQueueSourceArn once moved
	BodyMD5 [16]byte  // MD5OfBody
	Attrs   []msgAttr // message attributes, sorted by name
	Trace   string    // AWSTraceHeader
	DedupID string    // MessageDeduplicationId, when the engine's id differs (group-scoped)
}

const metaVersion = 1

// encode appends m to b: a version byte, then length-prefixed fields.
func (m *meta) encode(b []byte) []byte {
	b = append(b, metaVersion)
	b = appendField(b, []byte(m.Sender))
	b = appendField(b, []byte(m.Origin))
	b = append(b, m.BodyMD5[:]...)
	b = binary.AppendUvarint(b, uint64(len(m.Attrs)))
	for _, a := range m.Attrs {
		b = appendField(b, []byte(a.Name))
		b = appendField(b, []byte(a.Type))
		b = appendField(b, a.Value)
	}
	b = appendField(b, []byte(m.Trace))
	return appendField(b, []byte(m.DedupID))
}

func appendField(b, f []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(f)))
	return append(b, f...)
}

var errBadMeta = errors.New("sqs: malformed message metadata")

// decodeMeta reads what encode wrote.
func decodeMeta(b []byte) (meta, error) {
	var m meta
	if len(b) == 0 || b[0] != metaVersion {
		return m, errBadMeta
	}
	r := metaReader{b: b[1:]}
	m.Sender = string(r.field())
	m.Origin = string(r.field())
	copy(m.BodyMD5[:], r.take(16))
	n := r.uvarint()
	if n > maxMessageAttributes {
		return m, errBadMeta
	}
	for range n {
		m.Attrs = append(m.Attrs, msgAttr{Name: string(r.field()), Type: string(r.field()), Value: r.field()})
	}
	m.Trace = string(r.field())
	m.DedupID = string(r.field())
	if r.bad || len(r.b) != 0 {
		return meta{}, errBadMeta
	}
	return m, nil
}

// metaReader reads encoded fields, remembering the first failure.
type metaReader struct {
	b   []byte
	bad bool
}

func (r *metaReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *metaReader) take(n uint64) []byte {
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		r.b = nil
		return nil
	}
	f := r.b[:n:n]
	r.b = r.b[n:]
	return f
}

func (r *metaReader) field() []byte { return r.take(r.uvarint()) }

// messageID is the MessageId of the engine message id: UUID-shaped, unique per id (its last
// 56 bits are the id) and stable, so a deduplicated send reports its first message's id.
func messageID(id int64) string {
	var b [16]byte
	x := uint64(id) + 0x9e3779b97f4a7c15 // splitmix64: the first half looks random
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	binary.BigEndian.PutUint64(b[:8], x^(x>>31))
	binary.BigEndian.PutUint64(b[8:], uint64(id))
	return uuid.Format(b)
}

// sequenceNumber is the SequenceNumber of a FIFO message: its engine id, which grows in send
// order, as the 20-digit number SQS shows.
func sequenceNumber(id int64) string {
	s := strconv.FormatInt(id, 10)
	return strings.Repeat("0", max(0, 20-len(s))) + s
}
