package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/blob"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
)

// topicCodeGC queues the messages that delete a code zip (and its unpacked directory) once no
// version references it. They are written in the transaction that drops a reference.
const topicCodeGC = "lambda.code-gc"

// codePin is how long an uploaded zip is protected from collection while the function change
// that references it commits.
const codePin = 15 * time.Minute

// codeSource is where new code comes from: a zip in the request, or an S3 object.
type codeSource struct {
	ZipFile                    []byte
	S3Bucket, S3Key, S3Version string
	ImageURI                   string
}

func (c codeSource) empty() bool {
	return c.ZipFile == nil && c.S3Bucket == "" && c.S3Key == "" && c.ImageURI == ""
}

// code is a stored zip.
type code struct {
	sha      string // hex SHA-256
	size     int64
	unzipped int64
}

func codeBlobKey(sha string) string { return "lambda-code-" + sha }

// intakeCode checks new code against AWS's limits, stores the zip durably in the blob store
// (once per digest) and pins it so that collection leaves it alone until the change that
// references it has committed. op names the operation in size errors.
func (s *Service) intakeCode(ctx context.Context, op, account, region string, src codeSource) (code, error) {
	if src.ImageURI != "" {
		return code{}, invalidParameter("Please don't provide ImageUri when updating a function with packageType Zip.")
	}
	var (
		ra     io.ReaderAt
		size   int64
		digest string
	)
	switch {
	case src.ZipFile != nil && (src.S3Bucket != "" || src.S3Key != ""):
		return code{}, invalidParameter("Please do not provide other FunctionCode parameters when providing a ZipFile.")
	case src.ZipFile != nil:
		if len(src.ZipFile) > maxZippedDirect {
			return code{}, lambdaError("RequestEntityTooLargeException", 413, "Request must be smaller than %d bytes for the %s operation", maxRequestBytes, op)
		}
		sum := sha256.Sum256(src.ZipFile)
		ra, size, digest = bytes.NewReader(src.ZipFile), int64(len(src.ZipFile)), hex.EncodeToString(sum[:])
	case src.S3Bucket != "" && src.S3Key != "":
		f, n, sum, err := s.fetchS3Code(ctx, account, src)
		if err != nil {
			return code{}, err
		}
		defer os.Remove(f.Name())
		defer f.Close()
		ra, size, digest = f, n, sum
	case src.S3Bucket != "" || src.S3Key != "":
		return code{}, invalidParameter("Please provide a source for function code.")
	default:
		return code{}, invalidParameter("Please provide a source for function code.")
	}
	unzipped, err := s.checkZip(ra, size)
	if err != nil {
		return code{}, err
	}
	if err := s.checkCodeStorage(ctx, account, region, size); err != nil {
		return code{}, err
	}
	c := code{sha: digest, size: size, unzipped: unzipped}
	if err := s.pinCode(ctx, c); err != nil {
		return code{}, err
	}
	if n, err := s.blobs.Size(ctx, codeBlobKey(digest)); err == nil && n == size {
		return c, nil
	}
	if _, err := s.blobs.Put(ctx, codeBlobKey(digest), io.NewSectionReader(ra, 0, size)); err != nil {
		return code{}, fmt.Errorf("store code: %w", err)
	}
	return c, nil
}

// fetchS3Code copies an S3 object into a temporary file, hashing it on the way.
func (s *Service) fetchS3Code(ctx context.Context, account string, src codeSource) (*os.File, int64, string, error) {
	if s.deps.Objects == nil {
		return nil, 0, "", invalidParameter("Error occurred while GetObject. S3 Error Code: ServiceUnavailable. S3 Error Message: S3 is not available to Lambda.")
	}
	rc, _, err := s.deps.Objects.ReadObject(ctx, account, src.S3Bucket, src.S3Key, src.S3Version)
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return nil, 0, "", invalidParameter("Error occurred while GetObject. S3 Error Code: %s. S3 Error Message: %s", ae.Code, ae.Message)
		}
		return nil, 0, "", fmt.Errorf("read code from s3: %w", err)
	}
	defer rc.Close()
	f, err := os.CreateTemp(filepath.Join(s.deps.FunctionsDir, "tmp"), "s3code-*")
	if err != nil {
		return nil, 0, "", fmt.Errorf("temp file for code: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(rc, maxUnzipped+1))
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, "", fmt.Errorf("read code from s3: %w", err)
	}
	if n > maxUnzipped {
		f.Close()
		os.Remove(f.Name())
		return nil, 0, "", invalidParameter("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return f, n, hex.EncodeToString(h.Sum(nil)), nil
}

// checkZip refuses, with Lambda's errors, a zip that cannot be unpacked as function code (see
// planZip), and returns its unzipped size.
func (s *Service) checkZip(ra io.ReaderAt, size int64) (int64, error) {
	zr, err := zip.NewReader(ra, size)
	if err == nil {
		var total int64
		if _, total, err = planZip(zr, maxUnzipped, true); err == nil {
			return total, nil
		}
	}
	if errors.Is(err, errTooBig) {
		return 0, invalidParameter("Unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	s.log.Info("function code refused", "err", err)
	return 0, invalidParameter("Could not unzip uploaded file. Please check your file, then try to upload again.")
}

// checkCodeStorage refuses code that would take the region's stored code past AWS's quota.
func (s *Service) checkCodeStorage(ctx context.Context, account, region string, add int64) error {
	var used sql.NullInt64
	if err := s.st.QueryRow(ctx, `SELECT SUM(code_size) FROM lambda_versions WHERE account = ? AND region = ?`, account, region).Scan(&used); err != nil {
		return fmt.Errorf("sum code storage: %w", err)
	}
	if used.Int64+add > totalCodeStorage {
		return lambdaError("CodeStorageExceededException", 400, "Code storage limit exceeded.")
	}
	return nil
}

// pinCode records the zip and protects it from collection for codePin. A zip being collected
// at that moment is waited for, then stored afresh.
func (s *Service) pinCode(ctx context.Context, c code) error {
	for attempt := 0; ; attempt++ {
		busy := false
		err := s.write(ctx, func(tx *store.Tx) error {
			var deleting bool
			err := tx.QueryRow(`SELECT deleting FROM lambda_code WHERE sha = ?`, c.sha).Scan(&deleting)
			if err == nil && deleting {
				busy = true
				return nil
			}
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			_, err = tx.Exec(`INSERT INTO lambda_code (sha, size, unzipped_size, pinned_until, deleting) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (sha) DO UPDATE SET pinned_until = excluded.pinned_until`,
				c.sha, c.size, c.unzipped, s.now().Add(codePin).UnixMilli(), false)
			return err
		})
		if err != nil {
			return fmt.Errorf("pin code: %w", err)
		}
		if !busy {
			return nil
		}
		if attempt >= 100 {
			return fmt.Errorf("pin code %s: still being collected", c.sha)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// releaseCode schedules collection of a zip in the transaction that may drop its last
// reference; collection checks again before deleting anything.
func (s *Service) releaseCode(tx *store.Tx, sha string) error {
	if sha == "" {
		return nil
	}
	_, err := s.deps.Queue.Send(tx, topicCodeGC, queue.Outgoing{Body: []byte(sha)})
	return err
}

// collectCode deletes a zip and its unpacked directory when no version references it and no
// change in flight has pinned it.
func (s *Service) collectCode(ctx context.Context, rec queue.Message) error {
	sha := string(rec.Body)
	doomed := false
	err := s.write(ctx, func(tx *store.Tx) error {
		var pinned int64
		var deleting bool
		err := tx.QueryRow(`SELECT pinned_until, deleting FROM lambda_code WHERE sha = ?`, sha).Scan(&pinned, &deleting)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if !deleting {
			var refs int64
			if err := tx.QueryRow(`SELECT COUNT(*) FROM lambda_versions WHERE code_sha = ?`, sha).Scan(&refs); err != nil {
				return err
			}
			if refs > 0 {
				return nil
			}
			if until := time.UnixMilli(pinned); until.After(s.now()) {
				_, err := s.deps.Queue.Send(tx, topicCodeGC, queue.Outgoing{Body: rec.Body, At: until})
				return err
			}
			if _, err := tx.Exec(`UPDATE lambda_code SET deleting = ? WHERE sha = ?`, true, sha); err != nil {
				return err
			}
		}
		doomed = true
		return nil
	})
	if err != nil || !doomed {
		return err
	}
	if err := s.blobs.Delete(ctx, codeBlobKey(sha)); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return fmt.Errorf("delete code blob: %w", err)
	}
	if err := removeTree(filepath.Join(s.deps.FunctionsDir, "code", sha)); err != nil {
		return err
	}
	return s.write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM lambda_code WHERE sha = ? AND deleting = ?`, sha, true)
		return err
	})
}
