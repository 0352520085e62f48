package s3

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// Server-side encryption modes, as x-amz-server-side-encryption names them.
const (
	sseS3      = "AES256"
	sseKMS     = "aws:kms"
	sseKMSDSSE = "aws:kms:dsse"
	ssecAES256 = "AES256"
)

// Header prefixes of the customer key (SSE-C) of an object and of a copy source.
const (
	ssecHeaders       = "X-Amz-Server-Side-Encryption-Customer-"
	ssecSourceHeaders = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// customerKey is a validated SSE-C key of a request (zero: none given).
type customerKey struct {
	Key []byte
	MD5 string // base64
}

func (k customerKey) given() bool { return k.Key != nil }

// parseCustomerKey validates the SSE-C headers with the given prefix, as S3 does.
func parseCustomerKey(h http.Header, prefix string) (customerKey, error) {
	algo, key, sum := h.Get(prefix+"Algorithm"), h.Get(prefix+"Key"), h.Get(prefix+"Key-Md5")
	name := strings.ToLower(prefix)
	switch {
	case algo == "" && key == "" && sum == "":
		return customerKey{}, nil
	case algo == "":
		return customerKey{}, errInvalidArgument(name+"algorithm", "",
			"Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	case algo != ssecAES256:
		return customerKey{}, errInvalidArgument(name+"algorithm", algo, "The encryption algorithm specified is not valid.")
	case key == "":
		return customerKey{}, errInvalidArgument(name+"key", "",
			"Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	}
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(raw) != 32 {
		return customerKey{}, errInvalidArgument(name+"key", "", "The secret key was invalid for the specified algorithm.")
	}
	if sum == "" {
		return customerKey{}, errInvalidArgument(name+"key-md5", "",
			"Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	d := md5.Sum(raw)
	if got := base64.StdEncoding.EncodeToString(d[:]); got != sum {
		return customerKey{}, errInvalidArgument(name+"key-md5", sum, "The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	return customerKey{Key: raw, MD5: sum}, nil
}

// sseWrite is the encryption an object write asks for.
type sseWrite struct {
	SSE, KMSKeyID, KMSContext string
	BucketKey                 bool
	Customer                  customerKey
}

// parseSSEWrite validates the encryption headers of an object write (PUT, copy destination,
// CreateMultipartUpload).
func parseSSEWrite(ctx context.Context, h http.Header) (sseWrite, error) {
	w := sseWrite{SSE: h.Get("X-Amz-Server-Side-Encryption"), KMSKeyID: h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"),
		KMSContext: h.Get("X-Amz-Server-Side-Encryption-Context"),
		BucketKey:  strings.EqualFold(h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled"), "true")}
	kms := w.SSE == sseKMS || w.SSE == sseKMSDSSE
	if w.SSE != "" && w.SSE != sseS3 && !kms {
		return sseWrite{}, errInvalidArgument("x-amz-server-side-encryption", w.SSE, "The encryption method specified is not supported")
	}
	if (w.KMSKeyID != "" || w.KMSContext != "") && !kms {
		return sseWrite{}, errInvalidArgument("x-amz-server-side-encryption", w.SSE,
			"Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
	}
	if w.KMSContext != "" {
		if _, err := base64.StdEncoding.DecodeString(w.KMSContext); err != nil {
			return sseWrite{}, errInvalidArgument("x-amz-server-side-encryption-context", w.KMSContext, "The encryption context must be base64-encoded JSON.")
		}
	}
	var err error
	if w.Customer, err = parseCustomerKey(h, ssecHeaders); err != nil {
		return sseWrite{}, err
	}
	if w.Customer.given() && w.SSE != "" {
		return sseWrite{}, errInvalidArgument("x-amz-server-side-encryption", w.SSE,
			"Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
	}
	if kms && w.KMSKeyID == "" {
		w.KMSKeyID = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/s3", callerRegion(ctx), callerAccount(ctx))
	}
	return w, nil
}

// withBucketDefault fills in a bucket's default encryption when the write asks for none; every
// object is at least SSE-S3 encrypted, as S3 does since 2023.
func (s *Service) withBucketDefault(ctx context.Context, q querier, b bucket, w sseWrite) (sseWrite, error) {
	if w.SSE != "" || w.Customer.given() {
		return w, nil
	}
	w.SSE = sseS3
	var cfg ServerSideEncryptionConfiguration
	ok, err := loadBucketConfigJSON(q, b, configEncryption, &cfg)
	if err != nil || !ok {
		return w, err
	}
	for _, r := range cfg.Rules {
		d := r.ApplyServerSideEncryptionByDefault
		if d == nil || d.SSEAlgorithm == nil {
			continue
		}
		w.SSE, w.KMSKeyID, w.BucketKey = *d.SSEAlgorithm, awsproto.Value(d.KMSMasterKeyID), awsproto.Value(r.BucketKeyEnabled)
		if (w.SSE == sseKMS || w.SSE == sseKMSDSSE) && w.KMSKeyID == "" {
			w.KMSKeyID = fmt.Sprintf("arn:aws:kms:%s:%s:alias/aws/s3", callerRegion(ctx), callerAccount(ctx))
		}
		break
	}
	return w, nil
}

// apply records the encryption in the headers stored with the object, with a fresh IV for
// SSE-C.
func (w sseWrite) apply(h *objectHeaders) {
	h.SSE, h.SSEKMSKeyID, h.SSEKMSContext, h.BucketKeyEnabled = w.SSE, "", "", false
	h.SSECAlgorithm, h.SSECKeyMD5, h.SSECIV = "", "", nil
	if w.SSE == sseKMS || w.SSE == sseKMSDSSE {
		h.SSEKMSKeyID, h.SSEKMSContext, h.BucketKeyEnabled = w.KMSKeyID, w.KMSContext, w.BucketKey
	}
	if w.Customer.given() {
		h.SSECAlgorithm, h.SSECKeyMD5, h.SSECIV = ssecAES256, w.Customer.MD5, newIV()
	}
}

func newIV() []byte {
	iv := make([]byte, aes.BlockSize)
	rand.Read(iv)
	return iv
}

// checkReadSSE applies S3's rules to a read of an object (GET, HEAD, copy source, part upload):
// x-amz-server-side-encryption may not be sent, and an SSE-C object needs its key.
func checkReadSSE(h http.Header, prefix string, stored objectHeaders, checkSSEHeader bool) (customerKey, error) {
	if checkSSEHeader && h.Get("X-Amz-Server-Side-Encryption") != "" {
		return customerKey{}, errInvalidArgument("x-amz-server-side-encryption", h.Get("X-Amz-Server-Side-Encryption"),
			"x-amz-server-side-encryption header is not supported for this operation.")
	}
	k, err := parseCustomerKey(h, prefix)
	if err != nil {
		return customerKey{}, err
	}
	return k, matchCustomerKey(stored, k)
}

// matchCustomerKey checks a given SSE-C key against the one an object or upload was stored with.
func matchCustomerKey(stored objectHeaders, k customerKey) error {
	switch {
	case stored.SSECKeyMD5 == "" && k.given():
		return awsproto.Errorf("InvalidRequest", http.StatusBadRequest, "The encryption parameters are not applicable to this object.")
	case stored.SSECKeyMD5 != "" && !k.given():
		return awsproto.Errorf("InvalidRequest", http.StatusBadRequest,
			"The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
	case stored.SSECKeyMD5 != "" && stored.SSECKeyMD5 != k.MD5:
		return awsproto.Errorf("InvalidRequest", http.StatusBadRequest, "The provided encryption parameters did not match the ones used originally.")
	}
	return nil
}

// ctrStream returns AES-256-CTR keyed with key, positioned at byte offset of a body whose
// first counter block is iv.
func ctrStream(key, iv []byte, offset int64) (cipher.Stream, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("sse-c cipher: %w", err)
	}
	ctr := make([]byte, aes.BlockSize)
	copy(ctr, iv)
	addCounter(ctr, uint64(offset/aes.BlockSize))
	st := cipher.NewCTR(block, ctr)
	if skip := offset % aes.BlockSize; skip > 0 {
		var pad [aes.BlockSize]byte
		st.XORKeyStream(pad[:skip], pad[:skip])
	}
	return st, nil
}

// addCounter adds n to a 128-bit big-endian counter block.
func addCounter(ctr []byte, n uint64) {
	lo := binary.BigEndian.Uint64(ctr[8:])
	hi := binary.BigEndian.Uint64(ctr[:8])
	sum := lo + n
	if sum < lo {
		hi++
	}
	binary.BigEndian.PutUint64(ctr[8:], sum)
	binary.BigEndian.PutUint64(ctr[:8], hi)
}

// decryptingReader turns stored SSE-C ciphertext starting at offset back into plaintext.
type decryptingReader struct {
	cipher.StreamReader
	c io.Closer
}

func (d decryptingReader) Close() error { return d.c.Close() }

// decryptAt wraps rc (stored bytes from offset) so it yields plaintext; a nil key or iv
// means the bytes are not SSE-C encrypted.
func decryptAt(rc io.ReadCloser, key, iv []byte, offset int64) (io.ReadCloser, error) {
	if key == nil || iv == nil {
		return rc, nil
	}
	st, err := ctrStream(key, iv, offset)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return decryptingReader{cipher.StreamReader{S: st, R: rc}, rc}, nil
}

// partEncryption checks that a part upload of u carries the upload's SSE-C key, if it has
// one, and returns the stream to encrypt the part with under a new IV (nil, nil: plaintext).
func partEncryption(h http.Header, u upload) (cipher.Stream, []byte, error) {
	k, err := checkReadSSE(h, ssecHeaders, u.Headers, false)
	if err != nil || !k.given() {
		return nil, nil, err
	}
	iv := newIV()
	enc, err := encrypter(k, iv)
	return enc, iv, err
}

// encrypter is the stream a body is encrypted with as it is stored (nil: none).
func encrypter(k customerKey, iv []byte) (cipher.Stream, error) {
	if !k.given() {
		return nil, nil
	}
	return ctrStream(k.Key, iv, 0)
}

// setSSEFields copies the stored encryption of an object into an output's members.
func setSSEFields(h objectHeaders, sse, kmsKey, ssecAlgo, ssecMD5 **string, bucketKey **bool) {
	if h.SSE != "" {
		*sse = awsproto.Ptr(h.SSE)
	}
	if h.SSEKMSKeyID != "" {
		*kmsKey = awsproto.Ptr(h.SSEKMSKeyID)
	}
	if h.SSECKeyMD5 != "" && ssecAlgo != nil {
		*ssecAlgo, *ssecMD5 = awsproto.Ptr(h.SSECAlgorithm), awsproto.Ptr(h.SSECKeyMD5)
	}
	if h.BucketKeyEnabled && bucketKey != nil {
		*bucketKey = awsproto.Ptr(true)
	}
}

// storeWriteBody stores the body of a prepared object write, SSE-C encrypted when the write
// asks for it (every caller of preparePut must store its body through here).
func (s *Service) storeWriteBody(ctx context.Context, w objectWrite, r io.Reader, algos ...string) (body, error) {
	enc, err := encrypter(w.Key, w.Obj.Headers.SSECIV)
	if err != nil {
		return body{}, err
	}
	return s.storeBodyWith(ctx, r, enc, algos...)
}
