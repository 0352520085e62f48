package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"testing"
)

func TestCTRStreamSeeksToAnyOffset(t *testing.T) {
	key, iv := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{0xff}, 16) // iv overflows its low word
	plain := make([]byte, 1000)
	for i := range plain {
		plain[i] = byte(i * 31)
	}
	full, _ := ctrStream(key, iv, 0)
	cipherText := make([]byte, len(plain))
	full.XORKeyStream(cipherText, plain)
	for _, tc := range []struct {
		name   string
		offset int64
	}{{"from the start", 0}, {"inside the first block", 5}, {"on a block boundary", 32}, {"inside a later block", 517}, {"in the last byte", 999}} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := decryptAt(io.NopCloser(bytes.NewReader(cipherText[tc.offset:])), key, iv, tc.offset)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			if !bytes.Equal(got, plain[tc.offset:]) {
				t.Fatalf("decrypted bytes from %d differ", tc.offset)
			}
		})
	}
}

func TestParseCustomerKey(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	sum := md5.Sum(key)
	good := base64.StdEncoding.EncodeToString(key)
	goodMD5 := base64.StdEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		name           string
		algo, k, kmd5  string
		wantErr, given bool
	}{
		{name: "no headers is no key"},
		{name: "a valid key is accepted", algo: "AES256", k: good, kmd5: goodMD5, given: true},
		{name: "a key without algorithm is refused", k: good, kmd5: goodMD5, wantErr: true},
		{name: "an algorithm without key is refused", algo: "AES256", wantErr: true},
		{name: "a key without MD5 is refused", algo: "AES256", k: good, wantErr: true},
		{name: "a wrong MD5 is refused", algo: "AES256", k: good, kmd5: "AAAAAAAAAAAAAAAAAAAAAA==", wantErr: true},
		{name: "a short key is refused", algo: "AES256", k: "c2hvcnQ=", kmd5: goodMD5, wantErr: true},
		{name: "another algorithm is refused", algo: "AES128", k: good, kmd5: goodMD5, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for n, v := range map[string]string{"Algorithm": tc.algo, "Key": tc.k, "Key-Md5": tc.kmd5} {
				if v != "" {
					h.Set(ssecHeaders+n, v)
				}
			}
			k, err := parseCustomerKey(h, ssecHeaders)
			if (err != nil) != tc.wantErr || k.given() != tc.given {
				t.Fatalf("got key %v, err %v", k.given(), err)
			}
		})
	}
}
