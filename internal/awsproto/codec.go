package awsproto

import (
	"fmt"
	"io"
	"net/textproto"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// kind is the wire kind of a shape as the codec sees it.
type kind uint8

const (
	kindStruct kind = iota + 1
	kindList
	kindMap
	kindString
	kindBool
	kindInt
	kindFloat
	kindTimestamp
	kindBlob
	kindStream
	kindDocument
	kindEventStream
)

var (
	timeType   = reflect.TypeFor[time.Time]()
	readerType = reflect.TypeFor[io.Reader]()
	eventsType = reflect.TypeFor[EventStream]()
	bytesType  = reflect.TypeFor[[]byte]()
)

// codec is the plan for moving one shape in and out of one Go type. Plans are built once per
// (shape, type) at registration and shared by all requests.
type codec struct {
	kind  kind
	shape *shape
	typ   reflect.Type // Go type as declared (may be a pointer)
	base  reflect.Type // typ without the pointer
	ptr   bool

	fields   []*field              // structures, sorted by member name
	byName   map[string]*field     // body members by wire name (json key / XML element)
	attrs    []*field              // XML attributes
	payload  *field                // rest payload member
	hasBody  bool                  // structure has members bound to the body
	elem     *codec                // list member or map value
	elemRef  *shapeRef             // list member / map value ref
	keyRef   *shapeRef             // map key ref
	enum     map[string]bool       // allowed values
	enumList string                // allowed values as validation messages list them
	check    func(string) []string // ServiceOptions.StringChecks of the shape
	validate bool                  // shape or a descendant carries constraints
	events   *eventCodecs          // event streams: how each event type is encoded
}

// field binds one structure member to a Go struct field.
type field struct {
	name     string // member name
	ref      *shapeRef
	index    int
	c        *codec
	required bool
	location string // "", "header", "headers", "uri", "querystring", "statusCode"
	wire     string // locationName, else member name
	header   string // wire in canonical MIME form, the key of an http.Header
	path     string // lowerCamel name for validation messages
}

// isAbsent reports whether v (a field value) is absent.
func isAbsent(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
		return v.IsNil()
	}
	return v.IsZero()
}

type codecKey struct {
	shape *shape
	typ   reflect.Type
}

// planner builds codecs for one service, sharing nodes so recursive shapes terminate.
type planner struct {
	cache map[codecKey]*codec
	// openEnums are the enum shapes left unchecked (ServiceOptions.HandlerEnums).
	openEnums []string
	// checks and enumOrder are ServiceOptions.StringChecks and EnumOrder.
	checks    map[string]func(string) []string
	enumOrder map[string][]string
	// lenient skips Go fields the shape has no member for, instead of failing: a query twin's
	// model may be older than the types generated from its json model.
	lenient bool
}

func shapeKind(s *shape, ref *shapeRef) (kind, error) {
	switch s.Type {
	case "structure":
		if s.Document {
			return kindDocument, nil
		}
		if s.EventStream {
			return kindEventStream, nil
		}
		return kindStruct, nil
	case "list":
		return kindList, nil
	case "map":
		return kindMap, nil
	case "string":
		return kindString, nil
	case "boolean":
		return kindBool, nil
	case "integer", "long", "short", "byte", "biginteger":
		return kindInt, nil
	case "double", "float", "bigdecimal":
		return kindFloat, nil
	case "timestamp":
		return kindTimestamp, nil
	case "blob":
		if s.Streaming || (ref != nil && ref.Streaming) {
			return kindStream, nil
		}
		return kindBlob, nil
	case "document":
		return kindDocument, nil
	}
	return 0, fmt.Errorf("unsupported shape type %q", s.Type)
}

// plan returns the codec for shape s (reached through ref, which may be nil) held in Go type t.
func (p *planner) plan(s *shape, ref *shapeRef, t reflect.Type) (*codec, error) {
	k, err := shapeKind(s, ref)
	if err != nil {
		return nil, err
	}
	key := codecKey{s, t}
	if k != kindStream {
		if c, ok := p.cache[key]; ok {
			return c, nil
		}
	}
	c := &codec{kind: k, shape: s, typ: t, base: t}
	if t.Kind() == reflect.Pointer && k != kindDocument {
		c.ptr, c.base = true, t.Elem()
	}
	if k != kindStream {
		p.cache[key] = c
	}
	if len(s.Enum) > 0 && !slices.Contains(p.openEnums, s.name) {
		c.enum = make(map[string]bool, len(s.Enum))
		for _, e := range s.Enum {
			c.enum[e] = true
		}
		order := s.Enum
		if o, ok := p.enumOrder[s.name]; ok {
			order = o
		}
		c.enumList = strings.Join(order, ", ")
	}
	if k == kindString {
		c.check = p.checks[s.name]
	}
	bad := func() (*codec, error) {
		return nil, fmt.Errorf("Go type %s does not fit shape %s (%s)", t, s.name, s.Type)
	}
	b := c.base
	switch k {
	case kindString:
		if b.Kind() != reflect.String {
			return bad()
		}
	case kindBool:
		if b.Kind() != reflect.Bool {
			return bad()
		}
	case kindInt:
		switch b.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		default:
			return bad()
		}
	case kindFloat:
		if b.Kind() != reflect.Float32 && b.Kind() != reflect.Float64 {
			return bad()
		}
	case kindTimestamp:
		if b != timeType {
			return bad()
		}
	case kindBlob:
		if c.ptr || b != bytesType {
			return bad()
		}
	case kindStream:
		if c.ptr || (b != bytesType && b != readerType) {
			return bad()
		}
	case kindDocument:
		if t.Kind() != reflect.Interface {
			return bad()
		}
	case kindEventStream:
		if t != eventsType {
			return bad()
		}
		c.events = &eventCodecs{stream: s}
	case kindList:
		if c.ptr || b.Kind() != reflect.Slice || s.Member == nil {
			return bad()
		}
		c.elemRef = s.Member
		if c.elem, err = p.plan(s.Member.target, s.Member, b.Elem()); err != nil {
			return nil, err
		}
	case kindMap:
		if c.ptr || b.Kind() != reflect.Map || b.Key().Kind() != reflect.String || s.Value == nil {
			return bad()
		}
		c.elemRef, c.keyRef = s.Value, s.Key
		if c.elem, err = p.plan(s.Value.target, s.Value, b.Elem()); err != nil {
			return nil, err
		}
	case kindStruct:
		if b.Kind() != reflect.Struct {
			return bad()
		}
		if err := p.planStruct(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (p *planner) planStruct(c *codec) error {
	s, b := c.shape, c.base
	c.byName = make(map[string]*field)
	for i := 0; i < b.NumField(); i++ {
		sf := b.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, ok := sf.Tag.Lookup("aws")
		if name == "-" {
			continue
		}
		if !ok {
			name = sf.Name
		}
		ref, ok := s.Members[name]
		if !ok && p.lenient {
			continue
		}
		if !ok {
			return fmt.Errorf("field %s.%s: shape %s has no member %q", b, sf.Name, s.name, name)
		}
		fc, err := p.plan(ref.target, ref, sf.Type)
		if err != nil {
			return fmt.Errorf("member %s.%s: %w", s.name, name, err)
		}
		f := &field{name: name, ref: ref, index: i, c: fc, required: s.required[name], location: ref.Location, wire: name, path: lowerCamel(name)}
		if ref.LocationName != "" {
			f.wire = ref.LocationName
		}
		f.header = textproto.CanonicalMIMEHeaderKey(f.wire)
		c.fields = append(c.fields, f)
		switch {
		case s.Payload == name:
			c.payload = f
		case ref.XMLAttribute:
			c.attrs = append(c.attrs, f)
		case f.location == "":
			c.byName[f.wire] = f
			c.hasBody = true
		}
	}
	// Model members without a Go field are neither decoded nor validated: the handler's
	// type says what it needs.
	sortFields(c.fields)
	return nil
}

func sortFields(fs []*field) {
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].name < fs[j-1].name; j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
}

// markValidation sets codec.validate where a shape or a descendant carries constraints.
func markValidation(c *codec, seen map[*codec]bool) bool {
	if v, ok := seen[c]; ok {
		return v
	}
	seen[c] = false
	s := c.shape
	v := len(s.Required) > 0 || c.enum != nil || c.check != nil || s.Min != nil || s.Max != nil
	if c.elem != nil && markValidation(c.elem, seen) {
		v = true
	}
	for _, f := range c.fields {
		if markValidation(f.c, seen) {
			v = true
		}
	}
	seen[c] = v
	c.validate = v
	return v
}

func lowerCamel(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || unicode.IsLower(r) {
		return s
	}
	// Leading acronyms ("SSEKMSKeyId") lower only the first letter, as AWS's messages do.
	return strings.ToLower(s[:n]) + s[n:]
}
