package lambda

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
)

// CodePath is where GetFunction's Code.Location URLs point: /_kiri/lambda-code/<sha hex>.
const CodePath = "/_kiri/lambda-code/"

// codeURLTTL is how long a code download URL stays valid, as AWS's presigned URLs do.
const codeURLTTL = 10 * time.Minute

// codeLocation is a presigned-looking URL, on the host the caller used, from which the
// version's zip can be downloaded (served by CodeHandler).
func (s *Service) codeLocation(ctx context.Context, r funcRef, sha string) string {
	host := "localhost:4566"
	if c := awsproto.CallFrom(ctx); c != nil && c.Request != nil && c.Request.Host != "" {
		host = c.Request.Host
	}
	expires := s.now().Add(codeURLTTL).Unix()
	return "http://" + host + CodePath + sha + "?X-Amz-Expires=" + strconv.Itoa(int(codeURLTTL.Seconds())) +
		"&Expires=" + strconv.FormatInt(expires, 10) + "&X-Amz-Signature=" + s.signCode(sha, expires)
}

func (s *Service) signCode(sha string, expires int64) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(sha + "\n" + strconv.FormatInt(expires, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// CodeHandler serves the zips behind GetFunction's Code.Location URLs: a valid, unexpired
// signature is the only credential, as with a presigned S3 URL.
func (s *Service) CodeHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sha := strings.TrimPrefix(req.URL.Path, CodePath)
		expires, err := strconv.ParseInt(req.URL.Query().Get("Expires"), 10, 64)
		sig := req.URL.Query().Get("X-Amz-Signature")
		if err != nil || !hmac.Equal([]byte(sig), []byte(s.signCode(sha, expires))) || s.now().Unix() > expires {
			http.Error(w, "AccessDenied", http.StatusForbidden)
			return
		}
		rc, err := s.blobs.Open(req.Context(), codeBlobKey(sha), 0, -1)
		if err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, blob.ErrNotFound) {
				status = http.StatusNotFound
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", "application/zip")
		io.Copy(w, rc)
	})
}
