package s3

import (
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// byteRange is a satisfiable range of an object: offset and length.
type byteRange struct{ Offset, Length int64 }

// parseRange interprets a Range header against an object of size bytes, as S3 does: a header it
// cannot parse (or several ranges) is ignored (ok=false, nil error), a range past the end is
// 416 InvalidRange, and an end past the object is clamped.
func parseRange(header string, size int64) (byteRange, bool, error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, nil
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return byteRange{}, false, nil
		}
		if n == 0 || size == 0 {
			return byteRange{}, false, errInvalidRange(header, size)
		}
		n = min(n, size)
		return byteRange{Offset: size - n, Length: n}, true, nil
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return byteRange{}, false, nil
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return byteRange{}, false, nil
		}
		end = min(e, size-1)
	}
	if start >= size {
		return byteRange{}, false, errInvalidRange(header, size)
	}
	return byteRange{Offset: start, Length: end - start + 1}, true, nil
}

// contentRange is the Content-Range header of a 206 answer.
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.Offset, 10) + "-" + strconv.FormatInt(r.Offset+r.Length-1, 10) + "/" + strconv.FormatInt(size, 10)
}

func errInvalidRange(requested string, size int64) *awsproto.Error {
	return &awsproto.Error{Code: "InvalidRange", Message: "The requested range is not satisfiable", Status: 416,
		Fields: map[string]string{"RangeRequested": requested, "ActualObjectSize": strconv.FormatInt(size, 10)}}
}
