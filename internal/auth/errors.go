package auth

import (
	"fmt"
	"net/http"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// failure is an authentication failure before it is given the codes of a
// particular service. Parse cannot know the target service, so it records the
// kind and Verify turns it into the AWS error of the target.
type failure struct {
	kind    failureKind
	message string            // "" → the kind's standard AWS message
	fields  map[string]string // extra error fields (S3 puts these in its XML)
	cause   error             // what made an internal failure, for logs
}

type failureKind int

const (
	failMalformedHeader    failureKind = iota + 1 // Authorization header unreadable
	failMalformedQuery                            // presigned query unreadable
	failUnsupported                               // SigV2, SigV4a: not supported
	failUnknownKey                                // access key id not found
	failBadSignature                              // signature mismatch
	failSkew                                      // header-signed request outside the 15 minute window
	failPresignExpired                            // presigned URL past X-Amz-Expires
	failPresignNotYetValid                        // presigned URL dated in the future
	failAnonymous                                 // no credentials where they are required
	failBadToken                                  // temporary key with a missing or wrong session token
	failExpiredToken                              // temporary key past its expiration
	failBadPayloadHash                            // x-amz-content-sha256 is not a recognised value
	failPayloadMismatch                           // body does not hash to the claimed value
	failBodyTooLarge                              // body over the hashing limit
	failBodyRead                                  // body could not be read
	failInternal                                  // a dependency (temporary key store) failed
)

const (
	msgS3BadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your key and signing method."
	msgBadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken = "The security token included in the request is invalid."
	msgExpiredToken = "The security token included in the request is expired"
)

// targetError turns f into the AWS error that t's service returns for it.
func targetError(f *failure, t Target) *awsproto.Error {
	s3 := t.Service == "s3"
	json := t.Protocol == "json" || t.Protocol == "rest-json"
	var code string
	var status int
	var msg string
	switch f.kind {
	case failMalformedHeader:
		code, status = pick(s3, "AuthorizationHeaderMalformed", "IncompleteSignature"), http.StatusBadRequest
	case failMalformedQuery:
		code, status = pick(s3, "AuthorizationQueryParametersError", "IncompleteSignature"), http.StatusBadRequest
	case failUnsupported:
		code, status = "NotImplemented", http.StatusNotImplemented
	case failUnknownKey:
		status = http.StatusForbidden
		switch {
		case s3:
			code, msg = "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
		case json:
			code, msg = "UnrecognizedClientException", msgInvalidToken
		default:
			code, msg = "InvalidClientTokenId", msgInvalidToken
		}
	case failBadSignature:
		status = http.StatusForbidden
		switch {
		case s3:
			code, msg = "SignatureDoesNotMatch", msgS3BadSignature
		case json:
			code, msg = "InvalidSignatureException", msgBadSignature
		default:
			code, msg = "SignatureDoesNotMatch", msgBadSignature
		}
	case failSkew:
		status = http.StatusForbidden
		switch {
		case s3:
			code, msg = "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
		case json:
			code = "InvalidSignatureException"
		default:
			code = "SignatureDoesNotMatch"
		}
	case failPresignExpired:
		code, status, msg = "AccessDenied", http.StatusForbidden, "Request has expired"
	case failPresignNotYetValid:
		code, status, msg = "AccessDenied", http.StatusForbidden, "Request is not valid yet"
	case failAnonymous:
		status = http.StatusForbidden
		switch {
		case s3:
			code, msg = "AccessDenied", "Access Denied"
		case json:
			code, msg = "MissingAuthenticationTokenException", "Missing Authentication Token"
		default:
			code, msg = "MissingAuthenticationToken", "Request is missing Authentication Token"
		}
	case failBadToken:
		switch {
		case s3:
			code, status, msg = "InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid."
		case json:
			code, status, msg = "UnrecognizedClientException", http.StatusForbidden, msgInvalidToken
		default:
			code, status, msg = "InvalidClientTokenId", http.StatusForbidden, msgInvalidToken
		}
	case failExpiredToken:
		switch {
		case s3:
			code, status, msg = "ExpiredToken", http.StatusBadRequest, "The provided token has expired."
		case json:
			code, status, msg = "ExpiredTokenException", http.StatusBadRequest, msgExpiredToken
		default:
			code, status, msg = "ExpiredToken", http.StatusForbidden, msgExpiredToken
		}
	case failBadPayloadHash:
		code, status = pick(s3, "InvalidArgument", "IncompleteSignature"), http.StatusBadRequest
	case failPayloadMismatch:
		if s3 {
			code, status, msg = "XAmzContentSHA256Mismatch", http.StatusBadRequest, msgSHA256Mismatch
		} else {
			code, status = pick(json, "InvalidSignatureException", "SignatureDoesNotMatch"), http.StatusForbidden
		}
	case failBodyTooLarge:
		code, status = "RequestEntityTooLarge", http.StatusRequestEntityTooLarge
	case failBodyRead:
		code, status, msg = "IncompleteBody", http.StatusBadRequest, "The request body could not be read."
	default:
		code, status = pick(json, "InternalFailure", "InternalError"), http.StatusInternalServerError
	}
	if f.message != "" && (msg == "" || f.kind != failSkew) {
		msg = f.message
	}
	e := awsproto.Errorf(code, status, "%s", msg)
	e.Cause = f.cause
	if s3 && len(f.fields) > 0 {
		e.Fields = f.fields
	}
	return e
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}

// skewFailure reports a header-signed request dated outside the allowed
// window, in the wording AWS uses.
func skewFailure(reqTime, now time.Time) *failure {
	var msg string
	if reqTime.Before(now) {
		msg = fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			reqTime.Format(amzDateFormat), now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	} else {
		msg = fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			reqTime.Format(amzDateFormat), now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	return &failure{kind: failSkew, message: msg, fields: map[string]string{
		"RequestTime":                reqTime.Format(amzDateFormat),
		"ServerTime":                 now.Format(time.RFC3339),
		"MaxAllowedSkewMilliseconds": "900000",
	}}
}
