package events

import (
	"encoding/base64"
	"encoding/json"
)

// token is the position a List operation continues after, sent as an opaque NextToken. Kind
// guards against a token of one operation being replayed to another.
type token struct {
	Kind  string `json:"k"`
	After string `json:"a"`
}

func encodeToken(kind, after string) *string {
	b, _ := json.Marshal(token{Kind: kind, After: after})
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeToken reads a NextToken of kind; nil is the start ("").
func decodeToken(t *string, kind string) (string, error) {
	if t == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*t)
	var tok token
	if err == nil {
		err = json.Unmarshal(b, &tok)
	}
	if err != nil || tok.Kind != kind {
		return "", invalidToken()
	}
	return tok.After, nil
}

// pageSize is a request's limit, or def when it has none (the model bounds it).
func pageSize(limit *int32, def int) int {
	if limit == nil || *limit <= 0 {
		return def
	}
	return int(*limit)
}
