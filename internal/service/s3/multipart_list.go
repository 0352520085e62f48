package s3

import (
	"context"
	"fmt"
	"strings"
)

// uploadQuery selects one page of ListMultipartUploads.
type uploadQuery struct {
	bucket, prefix, delimiter string
	keyMarker, idMarker       string
	max                       int
}

// uploadPage is one page of ListMultipartUploads: uploads and common prefixes in key order.
type uploadPage struct {
	uploads         []upload
	prefixes        []string
	truncated       bool
	nextKey, nextID string
}

// scanUploads lists a bucket's uploads by key, then initiation time, after the markers. With a
// delimiter, keys that share a prefix up to it roll up into one common prefix, which counts as
// one entry against the page size.
func (s *Service) scanUploads(ctx context.Context, q uploadQuery) (uploadPage, error) {
	var page uploadPage
	start := max(q.prefix, q.keyMarker)
	rows, err := s.st.Query(ctx, `SELECT `+uploadColumns+` FROM s3_uploads WHERE bucket = ? AND okey >= ?
		ORDER BY okey, initiated, upload_id`, q.bucket, start)
	if err != nil {
		return page, fmt.Errorf("list uploads of %s: %w", q.bucket, err)
	}
	defer rows.Close()
	skipPrefix := ""
	if q.delimiter != "" && strings.HasSuffix(q.keyMarker, q.delimiter) && strings.HasPrefix(q.keyMarker, q.prefix) {
		skipPrefix = q.keyMarker // the marker is a common prefix already returned
	}
	passedMarker := q.idMarker == ""
	count := 0
	for rows.Next() {
		u, err := scanUpload(rows)
		if err != nil {
			return page, err
		}
		if !strings.HasPrefix(u.Key, q.prefix) {
			break
		}
		if u.Key == q.keyMarker {
			if !passedMarker {
				passedMarker = u.ID == q.idMarker
				continue
			}
			if q.idMarker == "" {
				continue
			}
		} else if skipPrefix != "" && strings.HasPrefix(u.Key, skipPrefix) {
			continue
		}
		cp := ""
		if q.delimiter != "" {
			if i := strings.Index(u.Key[len(q.prefix):], q.delimiter); i >= 0 {
				cp = u.Key[:len(q.prefix)+i+len(q.delimiter)]
			}
		}
		if cp != "" && len(page.prefixes) > 0 && page.prefixes[len(page.prefixes)-1] == cp {
			continue
		}
		if count == q.max {
			page.truncated = q.max > 0
			break
		}
		count++
		if cp != "" {
			page.prefixes = append(page.prefixes, cp)
			page.nextKey, page.nextID = cp, ""
			continue
		}
		page.uploads = append(page.uploads, u)
		page.nextKey, page.nextID = u.Key, u.ID
	}
	if err := rows.Err(); err != nil {
		return page, fmt.Errorf("list uploads of %s: %w", q.bucket, err)
	}
	return page, nil
}
