package apigateway

import (
	"net/http"

	"github.com/kiri-run/kiri/internal/iam/authz"
)

// authorizeIAM admits a request to an AWS_IAM method of a REST API; REST APIs answer 403 with
// the signature's error, or with AccessDeniedException naming the caller and the method's ARN
// (its account masked) when the caller's policies do not allow execute-api:Invoke on it.
func (s *RESTService) authorizeIAM(w http.ResponseWriter, c *restCall) bool {
	id, ref := verifyIAM(c.r, s.authz, s.log, c.requestID, c.sourceARN(), c.sc.account)
	switch {
	case ref == nil:
		c.iam = id
		return true
	case ref.denied != nil:
		w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
		writeJSON(w, http.StatusForbidden, map[string]string{"Message": deniedMessage(ref.denied, c)})
	case ref.message == missingTokenMessage:
		missingToken(w)
	case ref.status == http.StatusForbidden:
		if ref.errType == "" {
			ref.errType = "InvalidSignatureException"
		}
		w.Header().Set("X-Amzn-Errortype", ref.errType)
		writeMessage(w, ref.status, ref.message)
	default:
		internalError(w, ref.status)
	}
	return false
}

// deniedMessage words a refused AWS_IAM method as REST APIs do, the account in the method's
// ARN masked but for its last four digits.
func deniedMessage(d *authz.Denied, c *restCall) string {
	arn := c.sourceARN()
	if a := c.sc.account; len(a) == 12 {
		masked := "********" + a[8:]
		arn = "arn:aws:execute-api:" + c.sc.region + ":" + masked + arn[len("arn:aws:execute-api:"+c.sc.region+":"+a):]
	}
	msg := "User: " + d.Principal + " is not authorized to perform: " + invokeAction + " on resource: " + arn
	if d.Decision.Explicit {
		msg += " with an explicit deny"
	}
	return msg
}
