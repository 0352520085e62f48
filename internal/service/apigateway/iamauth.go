package apigateway

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// signingName is the SigV4 service name of requests to invoke URLs.
const signingName = "execute-api"

// authenticatorKey carries the edge's authenticator from Serve to the AWS_IAM authorizer.
type authenticatorKey struct{}

// authorizeIAM admits a request to an AWS_IAM route when it is SigV4-signed for execute-api
// by a caller whose policies allow execute-api:Invoke on the route's ARN; API Gateway answers
// 403 otherwise, with the signature's error message or Forbidden.
func (s *Service) authorizeIAM(w http.ResponseWriter, req *proxyRequest) bool {
	r := req.r
	authn, _ := r.Context().Value(authenticatorKey{}).(*auth.Authenticator)
	sig := auth.Parse(r)
	if sig.Anonymous || authn == nil {
		writeMessage(w, http.StatusForbidden, "Missing Authentication Token")
		return false
	}
	if sig.Err == nil && sig.Service != signingName {
		writeMessage(w, http.StatusForbidden, "Credential should be scoped to correct service: '"+signingName+"'. ")
		return false
	}
	id, err := authn.Verify(r.Context(), r, sig, auth.Target{Service: signingName, Protocol: "rest-json"})
	if err != nil {
		msg := err.Error()
		if e, ok := err.(*awsproto.Error); ok {
			msg = e.Message
			w.Header().Set("X-Amzn-Errortype", e.Code)
		}
		writeMessage(w, http.StatusForbidden, msg)
		return false
	}
	call := &awsproto.Call{
		RequestID: req.requestID, Service: "apigateway", Operation: "Invoke", Request: r,
		Region: id.Region, AccountID: id.AccountID, AccessKeyID: id.AccessKeyID, PrincipalARN: id.PrincipalARN, UserID: id.UserID,
		ParentARN: id.Session.ParentARN, PrincipalTags: id.Session.Tags, SessionPolicies: id.Session.Policies, TokenIssued: id.Session.Issued,
	}
	err = s.authz.Authorize(awsproto.WithCall(r.Context(), call),
		authz.Request{Action: invokeAction, Resource: req.routeARN(), ResourceAccount: req.d.sc.account})
	if d, denied := authz.IsDenied(err); denied {
		s.log.Info("AWS_IAM route denied", "api", req.d.apiID, "reason", d.Message)
		writeMessage(w, http.StatusForbidden, "Forbidden")
		return false
	}
	if err != nil {
		s.log.Error("AWS_IAM authorization", "api", req.d.apiID, "error", err)
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return false
	}
	req.auth = &authContext{iam: &iamAuth{accessKey: id.AccessKeyID, accountID: id.AccountID, callerID: id.UserID, userARN: id.PrincipalARN, userID: id.UserID}}
	return true
}
