package logs

import (
	"encoding/base64"
	"encoding/json"
)

// cursor is the position a paginated read continues after, sent as an opaque nextToken.
// Kind guards against a token of one operation being replayed to another.
type cursor struct {
	Kind string `json:"k"`
	Name string `json:"n,omitempty"`
	Time int64  `json:"t,omitempty"`
	ID   int64  `json:"i,omitempty"`
}

func encodeCursor(c cursor) *string {
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeCursor reads a nextToken of kind; a nil token is the start.
func decodeCursor(token *string, kind string) (c cursor, start bool, err error) {
	if token == nil {
		return cursor{}, true, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*token)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Kind != kind {
		return cursor{}, false, invalidToken()
	}
	return c, false, nil
}

// pageSize is a request's limit, or def when it has none (the model bounds it).
func pageSize(limit *int32, def int) int {
	if limit == nil {
		return def
	}
	return int(*limit)
}
