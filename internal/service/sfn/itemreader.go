package sfn

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/jsonobj"
	"github.com/kiri-run/kiri/internal/service"
)

// objectStore is what a Distributed Map needs of S3: to read its items and write its results
// acting as the state machine's role (implemented by the S3 service).
type objectStore interface {
	GetObjectAs(ctx context.Context, account, region, role, bucket, key, versionID string) ([]byte, error)
	PutObjectAs(ctx context.Context, account, region, role, bucket, key string, body []byte, contentType string) error
	ListObjectsV2As(ctx context.Context, account, region, role, bucket, prefix, token string,
		each func(key, etag string, modified time.Time, size int64, class string)) (next string, err error)
}

// readerError is an item reader's failure: the Map state fails with States.ItemReaderFailed.
type readerError struct{ msg string }

func (e *readerError) Error() string { return e.msg }

func readerFailed(format string, args ...any) error {
	return &readerError{fmt.Sprintf(format, args...)}
}

// s3Error describes an S3 failure as the reader's or writer's cause.
func s3Error(err error) string {
	var ae interface{ ErrorCode() string }
	if errors.As(err, &ae) {
		return fmt.Sprintf("%s (Service: S3, Error Code: %s)", err.Error(), ae.ErrorCode())
	}
	return err.Error()
}

func (s *Service) objects() (objectStore, error) {
	o, ok := service.Lookup[objectStore](s.services, "s3")
	if !ok {
		return nil, errors.New("S3 is not running")
	}
	return o, nil
}

// itemReader is a Distributed Map's ItemReader as the interpreter evaluated it.
type itemReader struct {
	Resource     string
	ReaderConfig readerConfig
	Parameters   json.RawMessage // JSONPath
	Arguments    json.RawMessage // JSONata
}

// readerConfig is an ItemReader's ReaderConfig.
type readerConfig struct {
	InputType         string
	CSVHeaderLocation string
	CSVHeaders        []string
	CSVDelimiter      string
	MaxItems          int
}

// readItemSource reads a Distributed Map's items as ex's role.
func (s *Service) readItemSource(ctx context.Context, ex *execution, raw json.RawMessage) ([]any, error) {
	store, err := s.objects()
	if err != nil {
		return nil, err
	}
	var ir itemReader
	if err := json.Unmarshal(raw, &ir); err != nil {
		return nil, readerFailed("The ItemReader is not valid: %s", err.Error())
	}
	e := ir.ReaderConfig
	params := ir.Parameters
	if len(params) == 0 {
		params = ir.Arguments
	}
	r, _ := parseARN(ex.ARN)
	account, region := r.scope.account, r.scope.region
	var p struct {
		Bucket    string
		Key       string
		Prefix    string
		VersionId string
	}
	if err := json.Unmarshal(params, &p); err != nil || p.Bucket == "" {
		return nil, readerFailed("The ItemReader's parameters must name a Bucket")
	}
	if ir.Resource == asl.ResourceListObjectsV2 {
		var items []any
		token := ""
		for {
			next, err := store.ListObjectsV2As(ctx, account, region, ex.RoleARN, p.Bucket, p.Prefix, token,
				func(key, etag string, modified time.Time, size int64, class string) {
					item := jsonobj.New(5)
					item.Set("Etag", etag)
					item.Set("Key", key)
					item.Set("LastModified", modified.Unix())
					item.Set("Size", size)
					item.Set("StorageClass", class)
					items = append(items, item)
				})
			if err != nil {
				return nil, readerFailed("%s", s3Error(err))
			}
			if next == "" || e.MaxItems > 0 && len(items) >= e.MaxItems {
				break
			}
			token = next
		}
		return limitItems(items, e.MaxItems), nil
	}
	if p.Key == "" {
		return nil, readerFailed("The ItemReader's parameters must name a Key")
	}
	body, err := store.GetObjectAs(ctx, account, region, ex.RoleARN, p.Bucket, p.Key, p.VersionId)
	if err != nil {
		return nil, readerFailed("%s", s3Error(err))
	}
	if e.InputType == "MANIFEST" {
		return s.readManifest(ctx, store, account, region, ex.RoleARN, body, e.MaxItems)
	}
	items, err := parseItems(body, e)
	if err != nil {
		return nil, err
	}
	return limitItems(items, e.MaxItems), nil
}

func limitItems(items []any, n int) []any {
	if items == nil {
		items = []any{}
	}
	if n > 0 && len(items) > n {
		return items[:n]
	}
	return items
}

// parseItems reads the items of a CSV, JSON or JSONL object.
func parseItems(body []byte, e readerConfig) ([]any, error) {
	switch e.InputType {
	case "CSV":
		return parseCSV(body, e)
	case "JSON":
		v, more, err := decodeValue(body)
		if err != nil {
			return nil, readerFailed("The object is not valid JSON: %s", err.Error())
		}
		if more {
			return nil, readerFailed("The object is not valid JSON: it holds more than one value")
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, readerFailed("The JSON object must hold an array of items")
		}
		return arr, nil
	case "JSONL":
		return parseJSONL(body)
	}
	return nil, readerFailed("The InputType %s is not supported", e.InputType)
}

// decodeValue decodes one JSON value keeping the order of object keys and the text of
// numbers; more reports data after the value. Errors are worded as encoding/json words them.
func decodeValue(text []byte) (v any, more bool, err error) {
	if v, err := jsonobj.Decode(text); err == nil {
		return v, false, nil
	}
	d := json.NewDecoder(bytes.NewReader(text))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, false, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, true, nil
	}
	return jsonobj.Ordered(v), false, nil
}

// parseJSONL reads one item per line; blank lines are skipped.
func parseJSONL(body []byte) ([]any, error) {
	var items []any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 256*1024+2)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		v, more, err := decodeValue(text)
		if err != nil {
			return nil, readerFailed("Line %d is not valid JSON: %s", line, err.Error())
		}
		if more {
			return nil, readerFailed("Line %d holds more than one JSON value", line)
		}
		items = append(items, v)
	}
	if err := sc.Err(); err != nil {
		return nil, readerFailed("The JSONL object cannot be read: %s", err.Error())
	}
	return items, nil
}

// parseCSV reads one item per row: an object of the row's fields, named by the header row or
// the given headers, each a string. Fields are quoted as RFC 4180 quotes them.
func parseCSV(body []byte, e readerConfig) ([]any, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	switch e.CSVDelimiter {
	case "PIPE":
		r.Comma = '|'
	case "SEMICOLON":
		r.Comma = ';'
	case "SPACE":
		r.Comma = ' '
	case "TAB":
		r.Comma = '\t'
	}
	headers := e.CSVHeaders
	given := e.CSVHeaderLocation == "GIVEN"
	var items []any
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, readerFailed("The CSV object cannot be read: %s", err.Error())
		}
		if !given && headers == nil {
			headers = rec
			seen := map[string]bool{}
			for _, h := range headers {
				if seen[h] {
					return nil, readerFailed("The CSV header row names the column '%s' twice", h)
				}
				seen[h] = true
			}
			continue
		}
		if len(rec) > len(headers) {
			line, _ := r.FieldPos(0)
			return nil, readerFailed("Row %d has %d fields but there are %d headers", line, len(rec), len(headers))
		}
		item := jsonobj.New(len(headers))
		for i, h := range headers {
			if i < len(rec) {
				item.Set(h, rec[i])
			} else {
				item.Set(h, "")
			}
		}
		items = append(items, item)
	}
	return items, nil
}

// readManifest reads the objects an S3 Inventory manifest lists: each row of its CSV files
// (gzip-compressed, without a header row) is an item named by the manifest's fileSchema.
func (s *Service) readManifest(ctx context.Context, store objectStore, account, region, role string, body []byte, maxItems int) ([]any, error) {
	var m struct {
		DestinationBucket string `json:"destinationBucket"`
		FileFormat        string `json:"fileFormat"`
		FileSchema        string `json:"fileSchema"`
		Files             []struct {
			Key string `json:"key"`
		} `json:"files"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, readerFailed("The manifest is not valid JSON: %s", err.Error())
	}
	if m.FileFormat != "CSV" {
		return nil, readerFailed("The manifest's fileFormat %s is not supported: only CSV inventories are read", m.FileFormat)
	}
	bucket := strings.TrimPrefix(m.DestinationBucket, "arn:aws:s3:::")
	var headers []string
	for _, h := range strings.Split(m.FileSchema, ",") {
		headers = append(headers, strings.TrimSpace(h))
	}
	var items []any
	for _, f := range m.Files {
		data, err := store.GetObjectAs(ctx, account, region, role, bucket, f.Key, "")
		if err != nil {
			return nil, readerFailed("%s", s3Error(err))
		}
		if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
			if data, err = io.ReadAll(zr); err != nil {
				return nil, readerFailed("The inventory file %s cannot be read: %s", f.Key, err.Error())
			}
		}
		rows, err := parseCSV(data, readerConfig{CSVHeaderLocation: "GIVEN", CSVHeaders: headers})
		if err != nil {
			return nil, err
		}
		items = append(items, rows...)
		if maxItems > 0 && len(items) >= maxItems {
			break
		}
	}
	return limitItems(items, maxItems), nil
}
