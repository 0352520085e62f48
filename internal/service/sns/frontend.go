package sns

import (
	"context"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/auth"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/edge"
)

// Frontend is what SNS adds to the edge besides its API: the signing certificate at the
// SigningCertURL of its messages, and the SubscribeURL and UnsubscribeURL of its messages,
// which endpoints fetch with a plain GET and no AWS signature, also in strict mode.
//
// Those URLs are SNS's own: <endpoint>/?Action=ConfirmSubscription&TopicArn=…&Token=… and
// <endpoint>/?Action=Unsubscribe&SubscriptionArn=…. A GET of them that carries no signature
// is claimed here and served by the ConfirmSubscription and Unsubscribe operations, in the
// account and region of the ARN it names: the token, or the unguessable subscription ARN, is
// the credential, as on AWS. A signed request for them goes through the API as any other.
func (s *Service) Frontend() edge.Frontend {
	return edge.Frontend{Routes: []edge.Route{{
		Service: "sns", Operation: "GetSigningCertificate",
		Match: func(r *http.Request) (*http.Request, bool) {
			p := r.URL.Path
			return r, r.Method == http.MethodGet && strings.HasPrefix(p, certPathPrefix) && strings.HasSuffix(p, certPathSuffix)
		},
		Serve: func(w http.ResponseWriter, r *http.Request, _ *auth.Authenticator) { s.serveCert(w, r) },
	}, s.linkRoute("ConfirmSubscription", "TopicArn"), s.linkRoute("Unsubscribe", "SubscriptionArn")}}
}

// linkRoute claims unsigned GETs of the URL of action, whose ARN parameter names the account
// and region it acts in.
func (s *Service) linkRoute(action, arnParam string) edge.Route {
	return edge.Route{
		Service: "sns", Operation: action,
		Match: func(r *http.Request) (*http.Request, bool) {
			q := r.URL.Query()
			if r.Method != http.MethodGet || r.URL.Path != "/" || q.Get("Action") != action || signed(r) {
				return nil, false
			}
			return r, true
		},
		Serve: func(w http.ResponseWriter, r *http.Request, _ *auth.Authenticator) {
			call := awsproto.CallFrom(r.Context())
			if parts := strings.Split(r.URL.Query().Get(arnParam), ":"); len(parts) >= 6 && call != nil {
				call.Region, call.AccountID = parts[3], parts[4]
			}
			r = r.WithContext(context.WithValue(r.Context(), unsignedKey{}, true))
			rt, err := s.router.Resolve(r, s.api.SigningName())
			if err != nil {
				http.NotFound(w, r)
				return
			}
			rt.Serve(w, r, call)
		},
	}
}

// signed reports whether r carries an AWS signature, in a header or in its query.
func signed(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("Signature") || q.Has("AWSAccessKeyId")
}

// serveCert answers a GET of the signing certificate.
func (s *Service) serveCert(w http.ResponseWriter, r *http.Request) {
	g, err := s.signer(r.Context())
	if err != nil {
		s.log.Error("load signing certificate", "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	if r.URL.Path != g.path {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-x509-ca-cert")
	_, _ = w.Write(g.certPEM)
}
