package awsproto

import (
	"net/http"
	"reflect"
)

// writeUnwrappedXML writes a rest-xml output whose root element is its one body member, a
// scalar, rather than a structure around it: S3's GetBucketLocation answers
// `<LocationConstraint xmlns="…">eu-west-1</LocationConstraint>`, and an empty element for
// us-east-1. A service asks for this by naming that member as the operation's XML root in
// ServiceOptions.XMLRootNames. It reports whether it wrote the response.
func (s *Service) writeUnwrappedXML(w http.ResponseWriter, req *http.Request, status int, e *opEntry, c *codec, v reflect.Value) bool {
	root := s.opts.XMLRootNames[e.name]
	if root == "" || s.protocol != "rest-xml" {
		return false
	}
	var member *field
	for _, f := range c.fields {
		if f.location != "" {
			continue
		}
		if member != nil {
			return false
		}
		member = f
	}
	if member == nil || member.wire != root {
		return false
	}
	switch member.c.kind {
	case kindStruct, kindList, kindMap, kindStream, kindDocument:
		return false
	}
	bp := s.getBuf()
	defer s.putBuf(bp)
	xw := xmlWriter{buf: append(*bp, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"...)}
	xw.startTag(root, s.xmlNS, nil)
	if fv := v.Field(member.index); !isAbsent(fv) {
		start := len(xw.buf)
		xw.buf = appendScalarText(xw.buf, member.c, member.ref, fv, "iso8601")
		text := string(xw.buf[start:])
		xw.buf = xw.buf[:start]
		xw.text(text)
	}
	xw.close(root)
	*bp = xw.buf
	s.writeBody(w, req, status, "application/xml", *bp)
	return true
}
