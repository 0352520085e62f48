package scheduler

import (
	"encoding/base64"
	"encoding/json"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// token is the position a listing continues after, sent as an opaque NextToken. Kind guards
// against a token of one operation being replayed to another.
type token struct {
	Kind  string `json:"k"`
	After string `json:"a"`
}

func encodeToken(kind string, after *string) *string {
	b, _ := json.Marshal(token{Kind: kind, After: awsproto.Value(after)})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeToken reads a NextToken of kind; nil is the start.
func decodeToken(t *string, kind string) (string, error) {
	if t == nil {
		return "", nil
	}
	var tok token
	b, err := base64.RawURLEncoding.DecodeString(*t)
	if err == nil {
		err = json.Unmarshal(b, &tok)
	}
	if err != nil || tok.Kind != kind {
		return "", validation("Invalid NextToken.")
	}
	return tok.After, nil
}

// pageSize is a request's MaxResults, or the default (the model bounds it to 1-100).
func pageSize(limit *int32) int {
	if limit == nil {
		return 100
	}
	return int(*limit)
}
