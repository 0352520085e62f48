package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
)

// PostForm holds the authentication fields of an S3 browser-based upload (an HTML form POST).
// The form signs its base64 policy document instead of the request: with SigV2 (AWSAccessKeyId
// and signature, an HMAC-SHA1 of the policy) or SigV4 (x-amz-algorithm, x-amz-credential,
// x-amz-date and x-amz-signature, an HMAC-SHA256 of the policy with the derived signing key).
// A form without a policy is anonymous.
type PostForm struct {
	Policy string // the policy field as sent (base64 of the JSON document)
	// SigV2 fields.
	AccessKeyID, Signature string
	// SigV4 fields.
	Algorithm, Credential, Date, SignatureV4 string
	// SecurityToken is x-amz-security-token, required with temporary keys.
	SecurityToken string
}

// GoString keeps the security token out of %#v.
func (f PostForm) GoString() string {
	return "PostForm{AccessKeyID: " + f.AccessKeyID + ", Credential: " + f.Credential + "}"
}

// String is GoString.
func (f PostForm) String() string { return f.GoString() }

// VerifyPostPolicy authenticates a browser-based upload's form and returns who sent it. A form
// without a policy is anonymous (in dev mode it acts as the dev account, as unsigned requests
// do). Errors are *awsproto.Error values with S3's codes: InvalidArgument (400) for missing or
// malformed signature fields, InvalidAccessKeyId and SignatureDoesNotMatch (403).
func (a *Authenticator) VerifyPostPolicy(ctx context.Context, f PostForm) (*Identity, error) {
	if f.Policy == "" {
		if f.Signature != "" || f.SignatureV4 != "" {
			return nil, errS3("InvalidArgument", http.StatusBadRequest, "Bucket POST must contain a field named 'policy'.  If it is specified, please check the order of the fields.")
		}
		if a.mode == Dev {
			id := &Identity{AccountID: DevAccountID, Region: defaultRegion, Anonymous: true}
			fillDefaults(id)
			return id, nil
		}
		return &Identity{Region: defaultRegion, Anonymous: true}, nil
	}
	sig, err := postSignature(f)
	if err != nil {
		return nil, err
	}
	if a.mode == Dev {
		id, fl := a.devIdentity(ctx, sig)
		if fl != nil {
			return nil, targetError(fl, Target{Service: "s3", Protocol: "rest-xml"})
		}
		id.Anonymous = false
		return id, nil
	}
	key, fl := a.lookupKey(ctx, sig)
	if fl != nil {
		return nil, targetError(fl, Target{Service: "s3", Protocol: "rest-xml"})
	}
	if fl := a.checkToken(&key, sig); fl != nil {
		return nil, targetError(fl, Target{Service: "s3", Protocol: "rest-xml"})
	}
	want, got := PostPolicySignatureV2(key.SecretAccessKey, f.Policy), f.Signature
	if f.Algorithm != "" {
		signingKey := a.cache.signingKey(&key, sig)
		sum := hmacSHA256(signingKey[:], f.Policy)
		want, got = hex.EncodeToString(sum[:]), strings.ToLower(f.SignatureV4)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
		return nil, errS3("SignatureDoesNotMatch", http.StatusForbidden,
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	id := &Identity{
		AccessKeyID: key.AccessKeyID, AccountID: key.AccountID, Region: sig.Region,
		PrincipalARN: key.PrincipalARN, UserID: key.UserID, Session: key.Session,
		SessionToken: key.SessionToken, Temporary: key.SessionToken != "",
	}
	if id.Region == "" {
		id.Region = defaultRegion
	}
	fillDefaults(id)
	return id, nil
}

// postSignature checks that f carries one complete set of signature fields and returns them as
// a Signature (key id, scope and token) for key lookup and signing-key derivation.
func postSignature(f PostForm) (*Signature, error) {
	missing := func(name string) error {
		return errS3("InvalidArgument", http.StatusBadRequest,
			"Bucket POST must contain a field named '"+name+"'.  If it is specified, please check the order of the fields.")
	}
	if f.Algorithm == "" {
		switch {
		case f.AccessKeyID == "":
			return nil, missing("AWSAccessKeyId")
		case f.Signature == "":
			return nil, missing("Signature")
		}
		return &Signature{AccessKeyID: f.AccessKeyID, Region: defaultRegion, Service: "s3", securityToken: f.SecurityToken}, nil
	}
	switch {
	case f.Algorithm == "":
		return nil, missing("x-amz-algorithm")
	case f.Credential == "":
		return nil, missing("x-amz-credential")
	case f.Date == "":
		return nil, missing("x-amz-date")
	case f.SignatureV4 == "":
		return nil, missing("x-amz-signature")
	case f.Algorithm != "AWS4-HMAC-SHA256":
		return nil, errS3("InvalidArgument", http.StatusBadRequest, "Unsupported algorithm "+printable(f.Algorithm)+"; only AWS4-HMAC-SHA256 is supported")
	}
	parts := strings.Split(f.Credential, "/")
	if len(parts) != 5 || parts[0] == "" || !isDigits(parts[1], 8) || parts[2] == "" || parts[4] != "aws4_request" {
		return nil, errS3("InvalidArgument", http.StatusBadRequest,
			"Invalid credential: "+printable(f.Credential)+". The credential should be <key>/<YYYYMMDD>/<region>/s3/aws4_request")
	}
	if len(f.Date) != len("20060102T150405Z") || f.Date[:8] != parts[1] {
		return nil, errS3("InvalidArgument", http.StatusBadRequest, "x-amz-date must be an ISO 8601 basic date matching the credential scope")
	}
	return &Signature{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3], securityToken: f.SecurityToken}, nil
}

// PostPolicySignatureV4 is the x-amz-signature a form carries for policy, made with secret
// under the credential scope date/region/service: a helper for clients and tests.
func PostPolicySignatureV4(secret, date, region, service, policy string) string {
	key := deriveSigningKey(secret, date, region, service)
	sum := hmacSHA256(key[:], policy)
	return hex.EncodeToString(sum[:])
}

// PostPolicySignatureV2 is the signature field a SigV2 form carries for policy.
func PostPolicySignatureV2(secret, policy string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(policy))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
