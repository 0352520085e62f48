package awsproto

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// errXML marks a malformed XML body or an ill-typed value in it.
var errXML = errors.New("malformed XML")

// xmlNode is one element of a parsed XML document.
type xmlNode struct {
	name     string
	attrs    []xml.Attr
	children []*xmlNode
	text     string
}

func (n *xmlNode) child(name string) *xmlNode {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parseXML parses a document into a tree and returns its root element.
func parseXML(data []byte) (*xmlNode, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xmlNode
	var root *xmlNode
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, fmt.Errorf("%w: more than one root element", errXML)
			}
			if len(stack) >= maxDepth {
				return nil, fmt.Errorf("%w: nesting too deep", errXML)
			}
			n := &xmlNode{name: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
			text.Reset()
		case xml.EndElement:
			n := stack[len(stack)-1]
			if len(n.children) == 0 {
				n.text = text.String()
			}
			text.Reset()
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%w: no root element", errXML)
	}
	return root, nil
}

// decodeXMLValue decodes element n into v (of type c.typ).
func decodeXMLValue(c *codec, v reflect.Value, n *xmlNode) error {
	switch c.kind {
	case kindStruct:
		if c.ptr {
			p := reflect.New(c.base)
			v.Set(p)
			v = p.Elem()
		}
		return decodeXMLStruct(c, v, n)
	case kindList:
		s := reflect.MakeSlice(c.base, 0, len(n.children))
		name := xmlListMemberName(c)
		for _, ch := range n.children {
			if ch.name != name && name != "" {
				continue
			}
			s = reflect.Append(s, reflect.Zero(c.base.Elem()))
			if err := decodeXMLValue(c.elem, s.Index(s.Len()-1), ch); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case kindMap:
		if v.IsNil() {
			v.Set(reflect.MakeMap(c.base))
		}
		for _, e := range n.children {
			if err := decodeXMLMapEntry(c, v, e); err != nil {
				return err
			}
		}
		return nil
	case kindDocument:
		return fmt.Errorf("%w: document in XML", errXML)
	}
	if err := setScalarText(c, v, n.text); err != nil {
		return fmt.Errorf("%w: element %s: %v", errXML, n.name, err)
	}
	return nil
}

func xmlListMemberName(c *codec) string {
	if c.elemRef.LocationName != "" {
		return c.elemRef.LocationName
	}
	return "member"
}

func mapNames(c *codec) (string, string) {
	k, v := "key", "value"
	if c.keyRef != nil && c.keyRef.LocationName != "" {
		k = c.keyRef.LocationName
	}
	if c.elemRef.LocationName != "" {
		v = c.elemRef.LocationName
	}
	return k, v
}

func decodeXMLMapEntry(c *codec, m reflect.Value, e *xmlNode) error {
	kn, vn := mapNames(c)
	k, val := e.child(kn), e.child(vn)
	if k == nil {
		return nil
	}
	ev := reflect.New(c.base.Elem()).Elem()
	if val != nil {
		if err := decodeXMLValue(c.elem, ev, val); err != nil {
			return err
		}
	}
	m.SetMapIndex(reflect.ValueOf(k.text).Convert(c.base.Key()), ev)
	return nil
}

func isFlattened(f *field) bool {
	return f.ref.Flattened || f.c.shape.Flattened
}

func decodeXMLStruct(c *codec, v reflect.Value, n *xmlNode) error {
	for _, f := range c.attrs {
		local := f.wire
		if i := strings.IndexByte(local, ':'); i >= 0 {
			local = local[i+1:]
		}
		for _, a := range n.attrs {
			if a.Name.Local == local {
				if err := setScalarText(f.c, v.Field(f.index), a.Value); err != nil {
					return fmt.Errorf("%w: attribute %s: %v", errXML, local, err)
				}
			}
		}
	}
	for _, ch := range n.children {
		f := c.byName[ch.name]
		if f == nil {
			continue
		}
		fv := v.Field(f.index)
		if isFlattened(f) {
			switch f.c.kind {
			case kindList:
				if fv.IsNil() {
					fv.Set(reflect.MakeSlice(f.c.base, 0, 4))
				}
				fv.Set(reflect.Append(fv, reflect.Zero(f.c.base.Elem())))
				if err := decodeXMLValue(f.c.elem, fv.Index(fv.Len()-1), ch); err != nil {
					return err
				}
				continue
			case kindMap:
				if fv.IsNil() {
					fv.Set(reflect.MakeMap(f.c.base))
				}
				if err := decodeXMLMapEntry(f.c, fv, ch); err != nil {
					return err
				}
				continue
			}
		}
		if err := decodeXMLValue(f.c, fv, ch); err != nil {
			return err
		}
	}
	return nil
}

// xmlWriter appends XML to a buffer.
type xmlWriter struct {
	buf []byte
}

func (w *xmlWriter) text(s string) {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\r':
			esc = "&#xD;"
		case '\n':
			esc = "&#xA;"
		case '\t':
			esc = "&#x9;"
		default:
			switch c := s[i]; {
			case c < 0x20:
				// Not an XML 1.0 character: written as a character reference, as S3 writes
				// such keys (Go's encoding/xml reads it back exactly; clients whose parser
				// refuses it ask for encoding-type=url).
				esc = charRef(rune(c))
			case c < utf8.RuneSelf:
				continue
			default:
				r, size := utf8.DecodeRuneInString(s[i:])
				switch {
				case r == utf8.RuneError && size == 1:
					esc = "\uFFFD" // never ill-formed output, whatever the text
				case r == 0xFFFE || r == 0xFFFF:
					esc = charRef(r)
				default:
					i += size - 1
					continue
				}
				w.buf = append(w.buf, s[start:i]...)
				w.buf = append(w.buf, esc...)
				i += size - 1
				start = i + 1
				continue
			}
		}
		w.buf = append(w.buf, s[start:i]...)
		w.buf = append(w.buf, esc...)
		start = i + 1
	}
	w.buf = append(w.buf, s[start:]...)
}

// charRef writes r as a hexadecimal character reference.
func charRef(r rune) string {
	return "&#x" + strconv.FormatInt(int64(r), 16) + ";"
}

func (w *xmlWriter) open(name string) {
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

func (w *xmlWriter) close(name string) {
	w.buf = append(w.buf, '<', '/')
	w.buf = append(w.buf, name...)
	w.buf = append(w.buf, '>')
}

func (w *xmlWriter) element(name, text string) {
	w.open(name)
	w.text(text)
	w.close(name)
}

// value writes v (type c.typ) as element name; ref is the member reference, if any.
func (w *xmlWriter) value(c *codec, ref *shapeRef, name string, v reflect.Value, ns string) {
	if c.ptr && v.IsNil() {
		return
	}
	switch c.kind {
	case kindStruct:
		if c.ptr {
			v = v.Elem()
		}
		w.structElem(c, ref, name, v, ns)
	case kindList:
		if ref != nil && (ref.Flattened || c.shape.Flattened) {
			// Clients name a flattened list's items by its member's locationName when it has
			// one (SQS's <Message>), else by the structure member's name.
			if c.elemRef.LocationName != "" {
				name = c.elemRef.LocationName
			}
			for i := 0; i < v.Len(); i++ {
				w.value(c.elem, c.elemRef, name, v.Index(i), "")
			}
			return
		}
		w.startTag(name, ns, nil)
		mn := xmlListMemberName(c)
		for i := 0; i < v.Len(); i++ {
			w.value(c.elem, c.elemRef, mn, v.Index(i), "")
		}
		w.close(name)
	case kindMap:
		kn, vn := mapNames(c)
		flat := ref != nil && (ref.Flattened || c.shape.Flattened)
		if !flat {
			w.startTag(name, ns, nil)
		}
		iter := v.MapRange()
		for iter.Next() {
			if flat {
				w.open(name)
			} else {
				w.open("entry")
			}
			w.element(kn, iter.Key().String())
			w.value(c.elem, c.elemRef, vn, iter.Value(), "")
			if flat {
				w.close(name)
			} else {
				w.close("entry")
			}
		}
		if !flat {
			w.close(name)
		}
	case kindStream, kindDocument:
		// Streams are never part of an XML document.
	default:
		w.startTag(name, ns, nil)
		if c.kind == kindString {
			if c.ptr {
				v = v.Elem()
			}
			w.text(v.String())
		} else {
			w.buf = appendScalarText(w.buf, c, ref, v, "iso8601")
		}
		w.close(name)
	}
}

// startTag writes <name>, declaring ns as the default namespace and nsRef as a prefixed one
// when they are set.
func (w *xmlWriter) startTag(name, ns string, nsRef *xmlNS) {
	w.buf = append(w.buf, '<')
	w.buf = append(w.buf, name...)
	if ns != "" {
		w.buf = append(w.buf, ` xmlns="`...)
		w.text(ns)
		w.buf = append(w.buf, '"')
	}
	if nsRef != nil && nsRef.URI != "" {
		w.buf = append(w.buf, " xmlns"...)
		if nsRef.Prefix != "" {
			w.buf = append(w.buf, ':')
			w.buf = append(w.buf, nsRef.Prefix...)
		}
		w.buf = append(w.buf, `="`...)
		w.text(nsRef.URI)
		w.buf = append(w.buf, '"')
	}
	w.buf = append(w.buf, '>')
}

func (w *xmlWriter) structElem(c *codec, ref *shapeRef, name string, v reflect.Value, ns string) {
	nsRef := c.shape.XMLNamespace
	if ref != nil && ref.XMLNamespace != nil {
		nsRef = ref.XMLNamespace
	}
	if nsRef != nil && nsRef.Prefix == "" && ns == "" {
		ns, nsRef = nsRef.URI, nil
	}
	w.startTag(name, ns, nsRef)
	if len(c.attrs) > 0 {
		w.buf = w.buf[:len(w.buf)-1]
		for _, f := range c.attrs {
			fv := v.Field(f.index)
			if isAbsent(fv) {
				continue
			}
			w.buf = append(w.buf, ' ')
			w.buf = append(w.buf, f.wire...)
			w.buf = append(w.buf, `="`...)
			w.text(string(appendScalarText(nil, f.c, f.ref, fv, "iso8601")))
			w.buf = append(w.buf, '"')
		}
		w.buf = append(w.buf, '>')
	}
	w.members(c, v)
	w.close(name)
}

// members writes the body members of a structure.
func (w *xmlWriter) members(c *codec, v reflect.Value) {
	for _, f := range c.fields {
		if f.location != "" || f.ref.XMLAttribute || f == c.payload && c.payload.c.kind != kindStruct {
			continue
		}
		fv := v.Field(f.index)
		if isAbsent(fv) {
			continue
		}
		w.value(f.c, f.ref, f.wire, fv, "")
	}
}
