package sfn

import (
	"encoding/base64"
	"encoding/json"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// token is the position a listing continues after, sent as an opaque nextToken. Kind guards
// against a token of one listing being replayed to another.
type token struct {
	Kind  string `json:"k"`
	After int    `json:"a"`
}

func encodeToken(kind string, after int) *string {
	b, _ := json.Marshal(token{Kind: kind, After: after})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeToken reads a nextToken of kind: the offset the page starts at.
func decodeToken(t *string, kind string) (int, error) {
	if t == nil {
		return 0, nil
	}
	var tok token
	b, err := base64.RawURLEncoding.DecodeString(*t)
	if err == nil {
		err = json.Unmarshal(b, &tok)
	}
	if err != nil || tok.Kind != kind || tok.After < 0 {
		return 0, apiError("InvalidToken", "Invalid Token: '%s'", awsproto.Value(t))
	}
	return tok.After, nil
}

// page cuts items to the page a request's nextToken and maxResults ask for (maxResults 0 is
// the default, 100), and returns the token of the next page, if any.
func page[T any](items []T, kind string, next *string, limit *int32) ([]T, *string, error) {
	from, err := decodeToken(next, kind)
	if err != nil {
		return nil, nil, err
	}
	n := int(awsproto.Value(limit))
	if n <= 0 {
		n = 100
	}
	if from > len(items) {
		from = len(items)
	}
	to := min(from+n, len(items))
	var tok *string
	if to < len(items) {
		tok = encodeToken(kind, to)
	}
	return items[from:to], tok, nil
}
