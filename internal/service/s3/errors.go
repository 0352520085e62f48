package s3

import (
	"github.com/kiri-run/kiri/internal/awsproto"
)

// S3 errors carry the resource they are about as extra elements, as S3 does.

func errNoSuchBucket(name string) *awsproto.Error {
	return &awsproto.Error{Code: "NoSuchBucket", Message: "The specified bucket does not exist", Status: 404,
		Fields: map[string]string{"BucketName": name}}
}

func errNoSuchKey(key string) *awsproto.Error {
	return &awsproto.Error{Code: "NoSuchKey", Message: "The specified key does not exist.", Status: 404,
		Fields: map[string]string{"Key": key}}
}

func errNoSuchVersion(key, version string) *awsproto.Error {
	return &awsproto.Error{Code: "NoSuchVersion", Message: "The specified version does not exist.", Status: 404,
		Fields: map[string]string{"Key": key, "VersionId": version}}
}

func errNoSuchUpload(id string) *awsproto.Error {
	return &awsproto.Error{Code: "NoSuchUpload", Status: 404,
		Message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
		Fields:  map[string]string{"UploadId": id}}
}

func errInvalidArgument(name, value, format string, args ...any) *awsproto.Error {
	e := awsproto.Errorf("InvalidArgument", 400, format, args...)
	e.Fields = map[string]string{"ArgumentName": name, "ArgumentValue": value}
	return e
}

func errPreconditionFailed(condition string) *awsproto.Error {
	return &awsproto.Error{Code: "PreconditionFailed", Message: "At least one of the pre-conditions you specified did not hold",
		Status: 412, Fields: map[string]string{"Condition": condition}}
}

func errMalformedXML() *awsproto.Error {
	return awsproto.Errorf("MalformedXML", 400,
		"The XML you provided was not well-formed or did not validate against our published schema")
}
