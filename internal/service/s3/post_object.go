package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
)

// maxPostFieldBytes bounds the form fields before the file, as S3 does (20 KB).
const maxPostFieldBytes = 20 << 10

// postSignatureField names the form fields that authenticate the form rather than describe
// the object.
var postSignatureField = map[string]bool{"x-amz-algorithm": true, "x-amz-credential": true, "x-amz-date": true,
	"x-amz-signature": true, "x-amz-security-token": true}

// postUpload is what a browser-based upload stored, for its response.
type postUpload struct {
	Bucket, Key, ETag, VersionID string
}

// PostObject serves S3's browser-based upload: a multipart/form-data POST to a bucket whose
// fields (key, acl, Content-Type, x-amz-meta-*, tagging, success_action_*, …) come before the
// file, and whose signed policy (verified with a) says which field values it allows. The file
// streams into storage; fields after it are ignored, as S3 does.
func (s *Service) PostObject(w http.ResponseWriter, r *http.Request, a *auth.Authenticator) {
	ctx := r.Context()
	call := awsproto.CallFrom(ctx)
	if call == nil {
		call = &awsproto.Call{Request: r, ResponseHeader: http.Header{}}
		ctx = awsproto.WithCall(ctx, call)
	}
	bucketName := strings.Trim(r.URL.Path, "/")
	var fields map[string]string
	var up postUpload
	err := s.withinSpace(ctx, "PostObject", func(ctx context.Context) error {
		var err error
		fields, up, err = s.postObject(ctx, r, bucketName, a)
		return err
	})
	if err != nil {
		s.api.WriteError(w, r, call, err)
		return
	}
	writePostResponse(w, r, call, fields, up)
}

// postObject reads the form up to its file, authenticates and authorizes it, checks its
// policy, and stores the file as a new object version.
func (s *Service) postObject(ctx context.Context, r *http.Request, bucketName string, a *auth.Authenticator) (map[string]string, postUpload, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, postUpload{}, errMalformedPOST()
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	fields, file, err := readPostFields(mr)
	if err != nil {
		return nil, postUpload{}, err
	}
	defer file.Close()
	key, ok := fields["key"]
	if !ok {
		return nil, postUpload{}, errInvalidArgument("key", "", "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	}
	fields["key"] = strings.ReplaceAll(key, "${filename}", file.FileName())
	fields["bucket"] = bucketName
	id, err := a.VerifyPostPolicy(ctx, auth.PostForm{
		Policy: fields["policy"], AccessKeyID: fields["awsaccesskeyid"], Signature: fields["signature"],
		Algorithm: fields["x-amz-algorithm"], Credential: fields["x-amz-credential"], Date: fields["x-amz-date"],
		SignatureV4: fields["x-amz-signature"], SecurityToken: fields["x-amz-security-token"],
	})
	if err != nil {
		return nil, postUpload{}, err
	}
	policy := &postPolicy{MaxSize: -1}
	if fields["policy"] != "" {
		if policy, err = parsePostPolicy(fields["policy"]); err != nil {
			return nil, postUpload{}, err
		}
		if err := policy.check(fields, s.now()); err != nil {
			return nil, postUpload{}, err
		}
	}
	up, err := s.storePost(ctx, r, id, fields, policy, file)
	return fields, up, err
}

// readPostFields reads the form's fields (names lower-cased; the first of duplicates wins) up
// to the file part, which it returns unread.
func readPostFields(mr *multipart.Reader) (map[string]string, *multipart.Part, error) {
	fields := map[string]string{}
	total := 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, nil, awsproto.Errorf("InvalidArgument", http.StatusBadRequest, "POST requires exactly one file upload per request.")
		}
		if err != nil {
			return nil, nil, errMalformedPOST()
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			return fields, part, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, int64(maxPostFieldBytes-total+1)))
		part.Close()
		if err != nil {
			return nil, nil, errMalformedPOST()
		}
		if total += len(v); total > maxPostFieldBytes {
			return nil, nil, awsproto.Errorf("MaxPostPreDataLengthExceeded", http.StatusBadRequest,
				"Your POST request fields preceeding the upload file was too large.")
		}
		if _, dup := fields[name]; !dup && name != "" {
			fields[name] = string(v)
		}
	}
}

func errMalformedPOST() *awsproto.Error {
	return awsproto.Errorf("MalformedPOSTRequest", http.StatusBadRequest,
		"The body of your POST request is not well-formed multipart/form-data.")
}

// storePost writes the form's file as the object the fields describe, through PutObject's
// authorization, validation and commit, as the form's sender (anonymous for an unsigned form)
// and with the form fields standing in for PutObject's headers.
func (s *Service) storePost(ctx context.Context, r *http.Request, id *auth.Identity, fields map[string]string, policy *postPolicy, file io.Reader) (postUpload, error) {
	in, hdr, err := postPutRequest(fields)
	if err != nil {
		return postUpload{}, err
	}
	call := *callOf(ctx)
	call.AccountID, call.AccessKeyID, call.PrincipalARN, call.UserID = id.AccountID, id.AccessKeyID, id.PrincipalARN, id.UserID
	if id.Anonymous && id.AccountID != auth.DevAccountID {
		call.AccountID, call.PrincipalARN, call.UserID = "", "", ""
	}
	call.Request = r.Clone(ctx)
	call.Request.Header = hdr
	call.Request.Trailer = nil
	ctx = awsproto.WithCall(ctx, &call)
	w, want, err := s.preparePut(ctx, in)
	if err != nil {
		return postUpload{}, err
	}
	w.Event = "ObjectCreated:Post"
	limit := int64(maxPutSize)
	if policy.MaxSize >= 0 {
		limit = policy.MaxSize
	}
	bd, err := s.storeWriteBody(ctx, w, &cappedReader{r: file, left: limit}, want.algorithms()...)
	if err != nil {
		return postUpload{}, bodyError(err)
	}
	if err := policy.checkSize(bd.Size); err != nil {
		s.discardBody(ctx, bd)
		return postUpload{}, err
	}
	if err := want.verify(bd, call.Request); err != nil {
		s.discardBody(ctx, bd)
		return postUpload{}, err
	}
	b, err := s.commitObject(ctx, &w, bd)
	if err != nil {
		return postUpload{}, err
	}
	up := postUpload{Bucket: b.Name, Key: w.Obj.Key, ETag: w.Obj.ETag}
	if b.Versioning == versioningEnabled {
		up.VersionID = w.Obj.VersionID
	}
	return up, nil
}

// postPutRequest maps form fields onto a PutObject request, and the x-amz-* fields (other
// than the form's signature) onto the headers they stand for.
func postPutRequest(f map[string]string) (*PutObjectRequest, http.Header, error) {
	opt := func(name string) *string {
		if v, ok := f[name]; ok {
			return &v
		}
		return nil
	}
	in := &PutObjectRequest{
		Bucket: awsproto.Ptr(f["bucket"]), Key: awsproto.Ptr(f["key"]), ACL: opt("acl"),
		ContentType: opt("content-type"), CacheControl: opt("cache-control"),
		ContentDisposition: opt("content-disposition"), ContentEncoding: opt("content-encoding"),
		Expires: opt("expires"), ContentMD5: opt("content-md5"),
		StorageClass: opt("x-amz-storage-class"), ServerSideEncryption: opt("x-amz-server-side-encryption"),
		SSEKMSKeyId:             opt("x-amz-server-side-encryption-aws-kms-key-id"),
		WebsiteRedirectLocation: opt("x-amz-website-redirect-location"),
		ChecksumAlgorithm:       opt("x-amz-checksum-algorithm"),
	}
	hdr := http.Header{}
	if v, ok := f["content-type"]; ok {
		hdr.Set("Content-Type", v)
	}
	for name, v := range f {
		if meta, ok := strings.CutPrefix(name, "x-amz-meta-"); ok {
			if in.Metadata == nil {
				in.Metadata = map[string]string{}
			}
			in.Metadata[meta] = v
		}
		if strings.HasPrefix(name, "x-amz-") && !postSignatureField[name] {
			hdr.Set(name, v)
		}
	}
	if v, ok := f["tagging"]; ok {
		tags, err := parseTaggingXML(v)
		if err != nil {
			return nil, nil, err
		}
		in.Tagging = &tags
	}
	return in, hdr, nil
}

// parseTaggingXML turns a form's tagging field (a <Tagging> document) into x-amz-tagging form.
func parseTaggingXML(doc string) (string, error) {
	var t struct {
		Tags []struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		} `xml:"TagSet>Tag"`
	}
	if err := xml.Unmarshal([]byte(doc), &t); err != nil {
		return "", errMalformedXML()
	}
	var b strings.Builder
	for i, tg := range t.Tags {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(tg.Key) + "=" + url.QueryEscape(tg.Value))
	}
	return b.String(), nil
}

// cappedReader fails with EntityTooLarge once more than left bytes were read.
type cappedReader struct {
	r    io.Reader
	left int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.left -= int64(n); c.left < 0 {
		return 0, awsproto.Errorf("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size")
	}
	return n, err
}

// writePostResponse answers a stored form upload as S3 does: a 303 to success_action_redirect
// (with bucket, key and etag appended), or success_action_status 200, 201 (with a PostResponse
// document) or, by default, 204.
func writePostResponse(w http.ResponseWriter, r *http.Request, call *awsproto.Call, fields map[string]string, up postUpload) {
	h := w.Header()
	for k, v := range call.ResponseHeader {
		h[k] = v
	}
	if call.RequestID != "" {
		h.Set("x-amz-request-id", call.RequestID)
	}
	h.Set("ETag", up.ETag)
	if up.VersionID != "" {
		h.Set("x-amz-version-id", up.VersionID)
	}
	location := "/" + up.Bucket + "/" + (&url.URL{Path: up.Key}).EscapedPath()
	redirect := fields["success_action_redirect"]
	if redirect == "" {
		redirect = fields["redirect"]
	}
	if u, err := url.Parse(redirect); redirect != "" && err == nil && u.Scheme != "" {
		q := "bucket=" + url.QueryEscape(up.Bucket) + "&key=" + url.QueryEscape(up.Key) + "&etag=" + url.QueryEscape(up.ETag)
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
		h.Set("Location", u.String())
		w.WriteHeader(http.StatusSeeOther)
		return
	}
	h.Set("Location", location)
	switch fields["success_action_status"] {
	case "200":
		w.WriteHeader(http.StatusOK)
	case "201":
		host := r.Host
		doc := struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}{Location: "http://" + host + location, Bucket: up.Bucket, Key: up.Key, ETag: up.ETag}
		out, _ := xml.Marshal(doc)
		body := append([]byte(xml.Header), out...)
		h.Set("Content-Type", "application/xml")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusCreated)
		w.Write(body)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
