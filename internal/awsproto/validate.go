package awsproto

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// validator collects AWS-style constraint violations.
// The member path is kept as a stack and only joined when a problem is reported, so valid
// input costs no allocations.
type validator struct {
	skipEnum bool
	problems []string
	path     []string
}

func (vd *validator) add(format string, args ...any) {
	vd.problems = append(vd.problems, fmt.Sprintf(format, args...))
}

func (vd *validator) where() string { return strings.Join(vd.path, ".") }

func (vd *validator) push(name string) { vd.path = append(vd.path, name) }

func (vd *validator) pop() { vd.path = vd.path[:len(vd.path)-1] }

func (vd *validator) structure(c *codec, v reflect.Value) {
	for _, f := range c.fields {
		fv := v.Field(f.index)
		if isAbsent(fv) {
			if f.required && (fv.Kind() == reflect.Pointer || fv.Kind() == reflect.Interface || fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map || fv.Kind() == reflect.String) {
				vd.push(f.path)
				vd.add("Value null at '%s' failed to satisfy constraint: Member must not be null", vd.where())
				vd.pop()
			}
			continue
		}
		if f.c.validate {
			vd.push(f.path)
			vd.value(f.c, fv)
			vd.pop()
		}
	}
}

func fmtLimit(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func (vd *validator) length(s *shape, n int, shown string) {
	if s.Min != nil && float64(n) < *s.Min {
		vd.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length greater than or equal to %s", shown, vd.where(), fmtLimit(*s.Min))
	}
	if s.Max != nil && float64(n) > *s.Max {
		vd.add("Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %s", shown, vd.where(), fmtLimit(*s.Max))
	}
}

func (vd *validator) value(c *codec, v reflect.Value) {
	if c.ptr {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	s := c.shape
	switch c.kind {
	case kindStruct:
		vd.structure(c, v)
	case kindString:
		str := v.String()
		if c.enum != nil && !vd.skipEnum && !c.enum[str] {
			vd.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", truncate(str), vd.where(), c.enumList)
		}
		if c.check != nil {
			for _, problem := range c.check(str) {
				vd.add("Value '%s' at '%s' failed to satisfy constraint: %s", strings.ToValidUTF8(str, "?"), vd.where(), problem)
			}
		}
		if s.Min != nil || s.Max != nil {
			vd.length(s, utf8.RuneCountInString(str), truncate(str))
		}
	case kindBlob:
		vd.length(s, v.Len(), "java.nio.HeapByteBuffer")
	case kindInt, kindFloat:
		var f float64
		if c.kind == kindInt {
			f = float64(v.Int())
		} else {
			f = v.Float()
		}
		if s.Min != nil && f < *s.Min {
			vd.add("Value '%s' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %s", fmtLimit(f), vd.where(), fmtLimit(*s.Min))
		}
		if s.Max != nil && f > *s.Max {
			vd.add("Value '%s' at '%s' failed to satisfy constraint: Member must have value less than or equal to %s", fmtLimit(f), vd.where(), fmtLimit(*s.Max))
		}
	case kindList:
		if s.Min != nil || s.Max != nil {
			vd.length(s, v.Len(), shownCollection("[", v.Len(), " items]"))
		}
		if c.elem.validate {
			for i := 0; i < v.Len(); i++ {
				vd.push(strconv.Itoa(i+1) + ".member")
				vd.value(c.elem, v.Index(i))
				vd.pop()
			}
		}
	case kindMap:
		if s.Min != nil || s.Max != nil {
			vd.length(s, v.Len(), shownCollection("{", v.Len(), " entries}"))
		}
		if c.elem.validate {
			kv, ev := mapCells(c)
			var iter reflect.MapIter
			iter.Reset(v)
			for iter.Next() {
				kv.SetIterKey(&iter)
				ev.SetIterValue(&iter)
				vd.push(kv.String())
				vd.value(c.elem, ev)
				vd.pop()
			}
		}
	}
}

// shownCollection is how a problem shows a list or map of n elements: empty as AWS's Java
// servers print it ("[]", "{}"), else by its size.
func shownCollection(open string, n int, close string) string {
	if n == 0 {
		return open + close[len(close)-1:]
	}
	return open + strconv.Itoa(n) + close
}

// ValidationMessage joins validation problems the way AWS does ("2 validation errors
// detected: …"), for a ServiceOptions.ValidationError that rewords some of them.
func ValidationMessage(problems []string) string { return validationMessage(problems) }

// validationMessage joins problems the way AWS does.
func validationMessage(problems []string) string {
	noun := "errors"
	if len(problems) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; "))
}
