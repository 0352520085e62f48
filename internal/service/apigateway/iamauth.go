package apigateway

import (
	"log/slog"
	"net/http"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// signingName is the SigV4 service name of requests to invoke URLs.
const signingName = "execute-api"

// missingTokenMessage is API Gateway's answer to an unsigned request where a signature is needed
// (and, for REST APIs, to a request no method matches).
const missingTokenMessage = "Missing Authentication Token"

// authenticatorKey carries the edge's authenticator from Serve to the AWS_IAM authorizer.
type authenticatorKey struct{}

// iamRefusal is why an AWS_IAM route, method or $connect refused a request: API Gateway answers
// 403 with message (and errType, the signature error's code, as X-Amzn-Errortype when set);
// denied is set when the caller was identified but its policies do not allow
// execute-api:Invoke, and status is 500 when the decision could not be made.
type iamRefusal struct {
	status           int
	errType, message string
	denied           *authz.Denied
}

// verifyIAM checks a request to an AWS_IAM route, method or $connect, for HTTP, REST and
// WebSocket APIs alike: it must be SigV4-signed (or presigned) for execute-api by a caller
// whose policies allow execute-api:Invoke on resourceARN, of account.
func verifyIAM(r *http.Request, az *authz.Authorizer, log *slog.Logger, requestID, resourceARN, account string) (*iamAuth, *iamRefusal) {
	authn, _ := r.Context().Value(authenticatorKey{}).(*auth.Authenticator)
	sig := auth.Parse(r)
	if sig.Anonymous || authn == nil {
		return nil, &iamRefusal{status: http.StatusForbidden, message: missingTokenMessage}
	}
	if sig.Err == nil && sig.Service != signingName {
		return nil, &iamRefusal{status: http.StatusForbidden, message: "Credential should be scoped to correct service: '" + signingName + "'. "}
	}
	id, err := authn.Verify(r.Context(), r, sig, auth.Target{Service: signingName, Protocol: "rest-json"})
	if err != nil {
		ref := &iamRefusal{status: http.StatusForbidden, message: err.Error()}
		if e, ok := err.(*awsproto.Error); ok {
			ref.message, ref.errType = e.Message, e.Code
		}
		return nil, ref
	}
	call := &awsproto.Call{
		RequestID: requestID, Service: "apigateway", Operation: "Invoke", Request: r,
		Region: id.Region, AccountID: id.AccountID, AccessKeyID: id.AccessKeyID, PrincipalARN: id.PrincipalARN, UserID: id.UserID,
		ParentARN: id.Session.ParentARN, PrincipalTags: id.Session.Tags, SessionPolicies: id.Session.Policies, TokenIssued: id.Session.Issued,
	}
	err = az.Authorize(awsproto.WithCall(r.Context(), call), authz.Request{Action: invokeAction, Resource: resourceARN, ResourceAccount: account})
	if d, denied := authz.IsDenied(err); denied {
		log.Info("AWS_IAM authorization denied", "resource", resourceARN, "reason", d.Message)
		return nil, &iamRefusal{status: http.StatusForbidden, message: "Forbidden", denied: d}
	}
	if err != nil {
		log.Error("AWS_IAM authorization", "resource", resourceARN, "error", err)
		return nil, &iamRefusal{status: http.StatusInternalServerError, message: "Internal Server Error"}
	}
	return &iamAuth{accessKey: id.AccessKeyID, accountID: id.AccountID, callerID: id.UserID, userARN: id.PrincipalARN, userID: id.UserID}, nil
}

// authorizeIAM admits a request to an AWS_IAM route of an HTTP API; HTTP APIs answer 403 with
// the signature's error message, or Forbidden when the caller's policies do not allow it.
func (s *Service) authorizeIAM(w http.ResponseWriter, req *proxyRequest) bool {
	id, ref := verifyIAM(req.r, s.authz, s.log, req.requestID, req.routeARN(), req.d.sc.account)
	if ref != nil {
		if ref.errType != "" {
			w.Header().Set("X-Amzn-Errortype", ref.errType)
		}
		writeMessage(w, ref.status, ref.message)
		return false
	}
	req.auth = &authContext{iam: id}
	return true
}

// identityFields are the caller's fields of requestContext.identity ($context.identity), as
// an AWS_IAM route or method fills them.
func (a *iamAuth) identityFields() map[string]any {
	return map[string]any{"accessKey": a.accessKey, "accountId": a.accountID, "caller": a.callerID, "user": a.userID, "userArn": a.userARN}
}

// fill sets the caller's fields of a payload format 1.0 (or REST) identity.
func (a *iamAuth) fill(id *identityV1) {
	id.AccessKey, id.AccountID, id.Caller, id.User, id.UserARN = &a.accessKey, &a.accountID, &a.callerID, &a.userID, &a.userARN
}
