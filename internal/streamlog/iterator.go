package streamlog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"
)

// IteratorLifetime is how long a shard iterator stays valid: DynamoDB Streams and Kinesis
// iterators expire 15 minutes after they are issued.
const IteratorLifetime = 15 * time.Minute

// Iterator is a reader's position in a shard: the next sequence number to read.
type Iterator struct {
	Stream string `json:"a"`
	Shard  string `json:"s"`
	Seq    int64  `json:"q"`
	Issued int64  `json:"t"` // unix ms
}

// ErrBadIterator is DecodeIterator's answer for a string that is not an iterator.
var ErrBadIterator = errors.New("streamlog: invalid shard iterator")

// Encode renders the iterator as the opaque string clients hold.
func (it Iterator) Encode() string {
	b, _ := json.Marshal(it)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeIterator reads a string Encode rendered.
func DecodeIterator(s string) (Iterator, error) {
	var it Iterator
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &it) != nil || it.Stream == "" || it.Shard == "" || it.Seq < 1 {
		return Iterator{}, ErrBadIterator
	}
	return it, nil
}

// Expired reports whether the iterator is older than IteratorLifetime at now.
func (it Iterator) Expired(now time.Time) bool {
	return now.Sub(time.UnixMilli(it.Issued)) > IteratorLifetime
}
