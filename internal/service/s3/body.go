package s3

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// inlineLimit is the largest body kept inside its metadata row. Such objects are durable with
// the row's commit, which group commit shares among concurrent writers, instead of paying a
// file fsync each; larger bodies go to the blob store and are synced before the row commits.
const inlineLimit = 64 << 10

// topicBlobGC queues the messages that delete a blob no row points at any more. They are
// written in the transaction that drops the last reference, so bytes are freed only once the
// change is committed, and never lost to a crash in between.
const topicBlobGC = "s3.blob-gc"

// body is where an object's (or part's) bytes live: inline, or in the blob store.
type body struct {
	Inline  []byte
	BlobKey string
	Size    int64
	ETag    string            // quoted hex MD5
	MD5     []byte            // raw MD5
	Sums    map[string]string // base64 checksums computed while storing, by algorithm
}

// storeBody streams r into durable storage, computing the MD5 and the checksums named in
// algos. A body up to inlineLimit is returned in memory for its row; a larger one is written to
// a new blob. If r fails (a client that went away, a bad chunk signature) nothing is kept.
func (s *Service) storeBody(ctx context.Context, r io.Reader, algos ...string) (body, error) {
	return s.storeBodyWith(ctx, r, nil, algos...)
}

// storeBodyWith is storeBody that encrypts the bytes it stores with enc (nil: none); digests
// are of the plaintext.
// inlineBuffers holds the buffers bodies are first read into, to decide whether they are stored
// inline; reusing them spares every small PUT a 64 KiB allocation.
var inlineBuffers = sync.Pool{New: func() any {
	b := make([]byte, inlineLimit+1)
	return &b
}}

func (s *Service) storeBodyWith(ctx context.Context, r io.Reader, enc cipher.Stream, algos ...string) (body, error) {
	d := newDigests(algos...)
	bp := inlineBuffers.Get().(*[]byte)
	defer inlineBuffers.Put(bp)
	buf := *bp
	n, err := io.ReadFull(r, buf)
	switch {
	case err == nil:
		// More than inlineLimit bytes: stream the rest to a blob.
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		data := bytes.Clone(buf[:n])
		if data == nil {
			data = []byte{}
		}
		d.Write(data)
		if enc != nil {
			enc.XORKeyStream(data, data)
		}
		return body{Inline: data, Size: int64(n), ETag: d.etag(), MD5: d.md5.Sum(nil), Sums: d.checksums()}, nil
	default:
		return body{}, err
	}
	key := newBlobKey()
	if err := s.notePending(ctx, key); err != nil {
		return body{}, err
	}
	var src io.Reader = io.TeeReader(io.MultiReader(bytes.NewReader(buf[:n]), r), d)
	if enc != nil {
		src = cipher.StreamReader{S: enc, R: src}
	}
	if _, err := s.blobs.Put(ctx, key, src); err != nil {
		s.dropBlob(ctx, key)
		return body{}, err
	}
	return body{BlobKey: key, Size: d.size, ETag: d.etag(), MD5: d.md5.Sum(nil), Sums: d.checksums()}, nil
}

// discardBody frees a stored body that will not be committed (a failed precondition, say).
func (s *Service) discardBody(ctx context.Context, b body) {
	if b.BlobKey != "" {
		s.dropBlob(ctx, b.BlobKey)
	}
}

// openBody streams length bytes from offset (length < 0: to the end) of a stored body.
func (s *Service) openBody(ctx context.Context, inline []byte, blobKey string, offset, length int64) (io.ReadCloser, error) {
	if blobKey == "" {
		end := int64(len(inline))
		if length >= 0 && offset+length < end {
			end = offset + length
		}
		if offset > end {
			offset = end
		}
		return io.NopCloser(bytes.NewReader(inline[offset:end])), nil
	}
	return s.blobs.Open(ctx, blobKey, offset, length)
}

// openObject streams length bytes from offset (length < 0: to the end) of an object version,
// whether its bytes are one body or a multipart manifest.
func (s *Service) openObject(ctx context.Context, o object, offset, length int64) (io.ReadCloser, error) {
	if len(o.Parts) == 0 {
		return s.openBody(ctx, o.Inline, o.BlobKey, offset, length)
	}
	if length < 0 {
		length = max(o.Size-offset, 0)
	}
	return &partsReader{ctx: ctx, s: s, parts: o.Parts, offset: offset, remaining: length}, nil
}

// openObjectKey is openObject for an object that may be SSE-C encrypted: key (nil: none)
// decrypts its bytes.
func (s *Service) openObjectKey(ctx context.Context, o object, key []byte, offset, length int64) (io.ReadCloser, error) {
	if key == nil || o.Headers.SSECKeyMD5 == "" {
		return s.openObject(ctx, o, offset, length)
	}
	if len(o.Parts) == 0 {
		rc, err := s.openBody(ctx, o.Inline, o.BlobKey, offset, length)
		if err != nil {
			return nil, err
		}
		return decryptAt(rc, key, o.Headers.SSECIV, offset)
	}
	if length < 0 {
		length = max(o.Size-offset, 0)
	}
	return &partsReader{ctx: ctx, s: s, parts: o.Parts, offset: offset, remaining: length, key: key}, nil
}

// partsReader reads a byte range across a multipart object's part bodies, opening each part
// only when the range reaches it.
type partsReader struct {
	ctx       context.Context
	s         *Service
	parts     []partRef
	offset    int64 // into the remaining parts
	remaining int64
	cur       io.ReadCloser
	key       []byte // SSE-C key of the parts (nil: plaintext)
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.remaining <= 0 {
			return 0, io.EOF
		}
		if p.cur == nil {
			for len(p.parts) > 0 && p.offset >= p.parts[0].Size {
				p.offset -= p.parts[0].Size
				p.parts = p.parts[1:]
			}
			if len(p.parts) == 0 {
				return 0, io.ErrUnexpectedEOF
			}
			part := p.parts[0]
			n := min(part.Size-p.offset, p.remaining)
			rc, err := p.s.openBody(p.ctx, part.Inline, part.BlobKey, p.offset, n)
			if err != nil {
				return 0, err
			}
			if rc, err = decryptAt(rc, p.key, part.IV, p.offset); err != nil {
				return 0, err
			}
			p.cur, p.offset, p.parts = rc, 0, p.parts[1:]
		}
		if int64(len(b)) > p.remaining {
			b = b[:p.remaining]
		}
		n, err := p.cur.Read(b)
		p.remaining -= int64(n)
		if errors.Is(err, io.EOF) {
			p.cur.Close()
			p.cur = nil
			err = nil
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

func (p *partsReader) Close() error {
	if p.cur != nil {
		return p.cur.Close()
	}
	return nil
}

// releaseBlob schedules deletion of a blob in the transaction that drops its last reference.
func (s *Service) releaseBlob(tx *store.Tx, blobKey string) error {
	if blobKey == "" {
		return nil
	}
	_, err := s.deps.Queue.Send(tx, topicBlobGC, queue.Outgoing{Body: []byte(blobKey)})
	return err
}

func (s *Service) collectBlob(ctx context.Context, rec queue.Message) error {
	if err := s.blobs.Delete(ctx, string(rec.Body)); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("delete blob: %w", err)
	}
	return nil
}

func newBlobKey() string {
	var b [16]byte
	rand.Read(b[:])
	return "obj-" + hex.EncodeToString(b[:])
}
