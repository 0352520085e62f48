package lambda

import (
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
)

// listMarker is the position a paginated list continues after, sent as an opaque Marker.
type listMarker struct {
	Name string `json:"n,omitempty"`
	Num  int64  `json:"v,omitempty"`
}

func encodeMarker(m listMarker) string {
	b, _ := json.Marshal(m)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeMarker(s string) (listMarker, error) {
	var m listMarker
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		return m, invalidParameter("Invalid marker: %s", s)
	}
	return m, nil
}

// maxItems is a list's page size: the request's MaxItems capped at 50, as AWS serves.
func maxItems(v *int32, def int) (int, error) {
	if v == nil {
		return def, nil
	}
	if *v < 1 {
		return 0, validation(fmt.Sprintf("Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1", *v))
	}
	return min(int(*v), def), nil
}

// scanJSONPage reads (key, JSON document) rows as Ts, handing up to max of them to each; when
// one more row exists it returns the marker that continues after the last one handed. what
// names the documents in errors.
func scanJSONPage[T any](rows *sql.Rows, max int, what string, each func(v *T)) (next *string, err error) {
	defer rows.Close()
	n := 0
	var last string
	for rows.Next() {
		var key, body string
		if err := rows.Scan(&key, &body); err != nil {
			return nil, err
		}
		if n == max {
			return ptr(encodeMarker(listMarker{Name: last})), nil
		}
		var v T
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", what, err)
		}
		each(&v)
		last = key
		n++
	}
	return nil, rows.Err()
}
