package s3

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
	"github.com/kiri-run/kiri/internal/iam/policy"
)

// principal is who a request acts for.
type principal struct {
	Account   string // "" when anonymous
	ARN       string
	Anonymous bool
	// policy is the principal as the policy engine sees it.
	policy policy.Principal
}

// callerPrincipal works out the caller: a call without an account is an anonymous request (the
// edge lets unsigned S3 requests through in strict mode); no call at all (unit tests) is the
// dev account.
func callerPrincipal(ctx context.Context) principal {
	c := awsproto.CallFrom(ctx)
	if c == nil {
		c = &awsproto.Call{AccountID: callerAccount(ctx)}
	}
	p := authz.Principal(c)
	if p.Type == policy.Anonymous {
		return principal{Anonymous: true, policy: p}
	}
	p.CanonicalID = canonicalID(c.AccountID)
	return principal{Account: c.AccountID, ARN: p.ARN, policy: p}
}

// bucketACLPermissions maps the actions a bucket ACL can grant to the permission that grants them.
var bucketACLPermissions = map[string]string{
	"s3:ListBucket": "READ", "s3:ListBucketVersions": "READ", "s3:ListBucketMultipartUploads": "READ",
	"s3:PutObject": "WRITE", "s3:DeleteObject": "WRITE", "s3:DeleteObjectVersion": "WRITE",
	"s3:AbortMultipartUpload": "WRITE", "s3:ListMultipartUploadParts": "WRITE",
	"s3:GetBucketAcl": "READ_ACP", "s3:PutBucketAcl": "WRITE_ACP",
}

// objectACLPermissions maps the actions an object ACL can grant to the permission that grants them.
var objectACLPermissions = map[string]string{
	"s3:GetObject": "READ", "s3:GetObjectVersion": "READ", "s3:GetObjectAttributes": "READ",
	"s3:GetObjectAcl": "READ_ACP", "s3:GetObjectVersionAcl": "READ_ACP",
	"s3:PutObjectAcl": "WRITE_ACP", "s3:PutObjectVersionAcl": "WRITE_ACP",
}

// authorize loads a bucket and decides whether the caller may perform a bucket-level action
// (e.g. "s3:ListBucket") on it. See decide for the rules.
func (s *Service) authorize(ctx context.Context, q querier, bucketName, action string) (bucket, error) {
	return s.authorizeObject(ctx, q, bucketName, "", "", action)
}

// authorizeObject loads a bucket and decides whether the caller may perform action on the
// object key (version versionID, "" for the latest) in it.
func (s *Service) authorizeObject(ctx context.Context, q querier, bucketName, key, versionID, action string) (bucket, error) {
	b, err := loadBucket(q, bucketName)
	if err != nil {
		return bucket{}, err
	}
	if err := checkExpectedOwner(ctx, b); err != nil {
		return bucket{}, err
	}
	if err := s.decide(ctx, q, b, key, versionID, action); err != nil {
		return bucket{}, err
	}
	return b, nil
}

// accessCheck holds what one authorization decision has loaded so far.
type accessCheck struct {
	ctx      context.Context
	q        querier
	b        bucket
	key, ver string
	caller   principal
	// iam is the caller's identity-based, boundary and session policies in enforce mode; nil
	// when IAM is off (signed callers then have their account's full rights).
	iam       *authz.Caller
	now       time.Time
	policy    *policy.Policy
	pab       *PublicAccessBlockConfiguration
	obj       *object
	objLoaded bool
	objErr    error
}

// decide applies S3's rules to one request, as S3 authorizes it in the user, bucket and object
// contexts: an explicit Deny in the caller's policies or the bucket policy refuses; an Allow
// grants (unless RestrictPublicBuckets drops a public policy for other accounts); an IAM user
// or role session needs its own account's permission (its identity-based policies, in enforce
// mode) for anything else; the bucket owner's account may then do anything; other callers need
// an ACL grant (bucket ACL for listing and writing, object ACL for reading an object and its
// ACL), which a BucketOwnerEnforced bucket ignores and IgnorePublicAcls narrows to named
// grantees. A missing object is NoSuchKey only for a caller allowed to list the bucket.
func (s *Service) decide(ctx context.Context, q querier, b bucket, key, versionID, action string) error {
	ac := &accessCheck{ctx: ctx, q: q, b: b, key: key, ver: versionID, caller: callerPrincipal(ctx), now: s.now()}
	var err error
	if ac.iam, err = s.deps.Authz.Caller(ctx); err != nil {
		return err
	}
	owner := ac.owner()
	if b.mayHave(configPolicy) {
		ac.policy, err = s.loadPolicy(q, b.Name)
		switch {
		case errors.Is(err, errUnreadablePolicy) && !owner:
			return errAccessDenied()
		case err != nil && !errors.Is(err, errUnreadablePolicy):
			return err
		}
	}
	allowed, err := ac.policyAllows(action, key, nil)
	if err != nil || allowed {
		return err
	}
	if !ac.userAllows(action, key) {
		return errAccessDenied()
	}
	if owner {
		return nil
	}
	ok, err := ac.aclAllows(action)
	if err != nil {
		return err
	}
	if !ok {
		return errAccessDenied()
	}
	return nil
}

// owner reports whether the caller acts for the bucket owner's account.
func (ac *accessCheck) owner() bool { return !ac.caller.Anonymous && ac.caller.Account == ac.b.Account }

// policyAllows evaluates the bucket policy, with the caller's own policies in enforce mode,
// with the policy engine: an error for an explicit Deny (and for a public Allow that
// RestrictPublicBuckets voids), true for an Allow. extra overrides condition keys.
func (ac *accessCheck) policyAllows(action, key string, extra map[string][]string) (bool, error) {
	if ac.policy == nil && ac.iam == nil {
		return false, nil
	}
	req := ac.policyRequest(action, key, extra)
	d := policy.Evaluate(req, ac.policySet(ac.policy))
	switch {
	case d.Explicit:
		return false, errAccessDenied()
	case !d.Allowed:
		return false, nil
	case ac.owner():
		return true, nil
	}
	pab, err := ac.publicAccessBlock()
	if err != nil {
		return false, err
	}
	if awsproto.Value(pab.RestrictPublicBuckets) && ac.policy != nil && ac.policy.IsPublic() {
		return false, errAccessDenied()
	}
	return true, nil
}

// userAllows reports whether the caller's own account lets it act, S3's user context: an IAM
// user or role session needs its identity-based policies (within its boundary and session
// policies) to allow the action; the root user and anonymous callers pass. With IAM off every
// signed caller has its account's rights.
func (ac *accessCheck) userAllows(action, key string) bool {
	if ac.iam == nil {
		return true
	}
	switch ac.iam.Principal.Type {
	case policy.User, policy.AssumedRole, policy.FederatedUser:
	default:
		return true
	}
	req := ac.policyRequest(action, key, nil)
	req.ResourceAccount = req.Principal.Account
	set := ac.iam.Set(nil)
	return policy.Evaluate(req, &set).Allowed
}

// policySet is what applies to a request on the bucket with policy p: in enforce mode the
// caller's policies; otherwise, for IAM users and sessions, their account's full rights.
func (ac *accessCheck) policySet(p *policy.Policy) *policy.Set {
	if ac.iam != nil {
		set := ac.iam.Set(p)
		return &set
	}
	return interimSet(p, ac.caller.policy)
}

// policyRequest is the request context of an action on the bucket or one of its objects.
func (ac *accessCheck) policyRequest(action, key string, extra map[string][]string) *policy.Request {
	req := &policy.Request{Principal: ac.caller.policy, Action: action, Resource: resourceARN(ac.b.Name, key),
		ResourceAccount: ac.b.Account, Time: ac.now, Values: conditionKeys{ac, extra}}
	if c := awsproto.CallFrom(ac.ctx); c != nil {
		req.Region = c.Region
	}
	if r := callRequest(ac.ctx); r != nil {
		req.SecureTransport = r.TLS != nil
		req.UserAgent, req.Referer = r.UserAgent(), r.Header.Get("Referer")
		if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
			req.SourceIP = ap.Addr()
		} else if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			req.SourceIP = a
		}
	}
	return req
}

// conditionKeys gives the policy engine S3's condition keys; extra overrides them.
type conditionKeys struct {
	ac    *accessCheck
	extra map[string][]string
}

func (k conditionKeys) Value(key string) ([]string, bool) {
	lower := strings.ToLower(key)
	if v, ok := k.extra[lower]; ok {
		return v, true
	}
	return k.ac.conditionValue(key, lower)
}

// aclAllows checks the ACL grants for a caller other than the bucket owner.
func (ac *accessCheck) aclAllows(action string) (bool, error) {
	if ac.b.Ownership == "BucketOwnerEnforced" {
		return false, nil
	}
	pab, err := ac.publicAccessBlock()
	if err != nil {
		return false, err
	}
	if awsproto.Value(pab.RestrictPublicBuckets) && ac.policy != nil && ac.policy.IsPublic() {
		return false, nil
	}
	ignorePublic := awsproto.Value(pab.IgnorePublicAcls)
	if perm, ok := bucketACLPermissions[action]; ok {
		p, err := loadBucketACL(ac.q, ac.b)
		if err != nil {
			return false, err
		}
		return p.grants(ac.caller, perm, ignorePublic), nil
	}
	perm, ok := objectACLPermissions[action]
	if !ok {
		return false, nil
	}
	o, err := ac.object()
	if err != nil {
		return false, err
	}
	if o == nil {
		// No such object: the caller learns that only if it may list the bucket.
		return ac.mayList(ignorePublic)
	}
	if !ac.caller.Anonymous && o.Owner == ac.caller.Account && perm != "READ" {
		return true, nil
	}
	p, err := loadObjectACL(ac.q, o)
	if err != nil {
		return false, err
	}
	return p.grants(ac.caller, perm, ignorePublic), nil
}

// mayList reports whether the caller may list the bucket under the request's key, which is
// when S3 tells it an object does not exist rather than refusing.
func (ac *accessCheck) mayList(ignorePublic bool) (bool, error) {
	allowed, err := ac.policyAllows("s3:ListBucket", "", map[string][]string{"s3:prefix": {ac.key}})
	if err != nil || allowed || !ac.userAllows("s3:ListBucket", "") {
		return allowed, err
	}
	p, err := loadBucketACL(ac.q, ac.b)
	if err != nil {
		return false, err
	}
	if p.grants(ac.caller, "READ", ignorePublic) {
		return true, nil
	}
	return false, nil
}

// grants reports whether p gives the caller perm (FULL_CONTROL gives every permission).
func (p *aclPolicy) grants(c principal, perm string, ignorePublic bool) bool {
	id := ""
	if !c.Anonymous {
		id = canonicalID(c.Account)
	}
	for _, g := range p.Grants {
		if g.Permission != perm && g.Permission != "FULL_CONTROL" {
			continue
		}
		switch {
		case g.Type == "CanonicalUser" && id != "" && g.ID == id:
			return true
		case g.Type == "Group" && g.URI == groupAllUsers && !ignorePublic:
			return true
		case g.Type == "Group" && g.URI == groupAuthenticated && !ignorePublic && !c.Anonymous:
			return true
		}
	}
	return false
}

// isPublic reports whether p grants anything to everyone or to every AWS account.
func (p *aclPolicy) isPublic() bool {
	for _, g := range p.Grants {
		if g.Type == "Group" && (g.URI == groupAllUsers || g.URI == groupAuthenticated) {
			return true
		}
	}
	return false
}

// loadBucketACL returns a bucket's ACL: the stored one, else its owner's full control.
func loadBucketACL(q querier, b bucket) (*aclPolicy, error) {
	p := defaultACL(b.Account)
	if _, err := loadBucketConfigJSON(q, b, configACL, p); err != nil {
		return nil, err
	}
	return p, nil
}

// errUnreadablePolicy is a stored bucket policy the engine no longer accepts (one put before
// a stricter check). Not knowing what it denies, S3 refuses every caller but the owner's
// account, which may replace or delete it.
var errUnreadablePolicy = errors.New("stored bucket policy does not parse")

// loadPolicy returns a bucket's compiled policy, or nil when it has none.
func (s *Service) loadPolicy(q querier, bucketName string) (*policy.Policy, error) {
	doc, ok, err := loadConfig(q, bucketName, configPolicy)
	if err != nil || !ok {
		return nil, err
	}
	p, err := s.policies.Parse(doc, policy.Resource)
	if err != nil {
		s.log.Warn("stored bucket policy does not parse; refusing other accounts", "bucket", bucketName, "error", err)
		return nil, errUnreadablePolicy
	}
	return p, nil
}

func (ac *accessCheck) publicAccessBlock() (*PublicAccessBlockConfiguration, error) {
	if ac.pab == nil && !ac.b.mayHave(configPublicAccessBlock) {
		ac.pab = &PublicAccessBlockConfiguration{}
	}
	if ac.pab == nil {
		pab, err := loadPublicAccessBlock(ac.q, ac.b.Name)
		if err != nil {
			return nil, err
		}
		ac.pab = pab
	}
	return ac.pab, nil
}

// object loads the addressed object version once; nil when there is none (or it is a delete marker).
func (ac *accessCheck) object() (*object, error) {
	if !ac.objLoaded {
		ac.objLoaded = true
		o, err := loadObject(ac.q, ac.b.Name, ac.key, ac.ver)
		var apiErr *awsproto.Error
		switch {
		case errors.As(err, &apiErr):
		case err != nil:
			ac.objErr = err
		case !o.DeleteMarker:
			if o.Owner == "" {
				o.Owner = ac.b.Account
			}
			ac.obj = &o
		}
	}
	return ac.obj, ac.objErr
}

// conditionValue returns the request's values of an S3 condition key (lower is key in lower
// case); the policy engine derives the global aws: keys itself.
func (ac *accessCheck) conditionValue(key, lower string) ([]string, bool) {
	r := callRequest(ac.ctx)
	switch {
	case strings.HasPrefix(lower, "s3:existingobjecttag/"):
		o, err := ac.object()
		if err != nil || o == nil {
			return nil, false
		}
		name := key[len("s3:existingobjecttag/"):]
		for _, t := range o.Tags {
			if t.Key == name {
				return []string{t.Value}, true
			}
		}
		return nil, false
	case r == nil:
		return nil, false
	}
	return requestConditionValue(r.URL.Query(), r, lower, key)
}

// requestConditionValue returns the condition keys that come from the HTTP request itself.
func requestConditionValue(query url.Values, r *http.Request, lower, key string) ([]string, bool) {
	switch {
	case lower == "s3:prefix" || lower == "s3:delimiter" || lower == "s3:max-keys" || lower == "s3:versionid":
		name := strings.TrimPrefix(lower, "s3:")
		if name == "versionid" {
			name = "versionId"
		}
		if !query.Has(name) {
			return nil, false
		}
		return []string{query.Get(name)}, true
	case strings.HasPrefix(lower, "s3:x-amz-"):
		v := r.Header.Values(lower[len("s3:"):])
		return v, len(v) > 0
	case strings.HasPrefix(lower, "s3:requestobjecttag/"), lower == "s3:requestobjecttagkeys":
		h := r.Header.Get("x-amz-tagging")
		if h == "" {
			return nil, false
		}
		tags, err := url.ParseQuery(h)
		if err != nil {
			return nil, false
		}
		if lower == "s3:requestobjecttagkeys" {
			keys := make([]string, 0, len(tags))
			for k := range tags {
				keys = append(keys, k)
			}
			return keys, true
		}
		v, ok := tags[key[len("s3:requestobjecttag/"):]]
		return v, ok
	}
	return nil, false
}

// versionedActions are the policy actions S3 checks instead when a request names a version.
var versionedActions = map[string]string{
	"s3:GetObject": "s3:GetObjectVersion", "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
	"s3:PutObjectAcl": "s3:PutObjectVersionAcl", "s3:DeleteObject": "s3:DeleteObjectVersion",
	"s3:GetObjectTagging": "s3:GetObjectVersionTagging", "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
	"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging", "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}

// versioned is the action a request for versionID checks: the ...Version form when it names one.
func versioned(action, versionID string) string {
	if v, ok := versionedActions[action]; ok && versionID != "" {
		return v
	}
	return action
}

// operationActions is S3's table of how each operation authorizes: its policy action (the
// Service Authorization Reference's "Actions defined by Amazon S3"), which the handlers decide
// with the bucket's policy and ACLs once they have loaded the bucket (see decide), in the
// request's bucket and object context. A request that names a version asks the action's
// ...Version form (versioned); CopyObject and UploadPartCopy also need s3:GetObject on their
// source. ListBuckets and CreateBucket act on no existing bucket: operations decides them
// before the handler runs.
var operationActions = map[string]string{
	"ListBuckets": "s3:ListAllMyBuckets", "CreateBucket": "s3:CreateBucket", "DeleteBucket": "s3:DeleteBucket",
	"HeadBucket": "s3:ListBucket", "GetBucketLocation": "s3:GetBucketLocation",
	"ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions",
	"PutBucketVersioning": "s3:PutBucketVersioning", "GetBucketVersioning": "s3:GetBucketVersioning",
	"PutBucketAcl": "s3:PutBucketAcl", "GetBucketAcl": "s3:GetBucketAcl",
	"PutBucketPolicy": "s3:PutBucketPolicy", "GetBucketPolicy": "s3:GetBucketPolicy", "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
	"GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
	"PutBucketTagging":      "s3:PutBucketTagging", "GetBucketTagging": "s3:GetBucketTagging", "DeleteBucketTagging": "s3:PutBucketTagging",
	"PutBucketCors": "s3:PutBucketCORS", "GetBucketCors": "s3:GetBucketCORS", "DeleteBucketCors": "s3:PutBucketCORS",
	"PutBucketEncryption": "s3:PutEncryptionConfiguration", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
	"DeleteBucketEncryption":          "s3:PutEncryptionConfiguration",
	"PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration", "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"DeleteBucketLifecycle":              "s3:PutLifecycleConfiguration",
	"PutBucketNotificationConfiguration": "s3:PutBucketNotification", "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
	"PutBucketOwnershipControls": "s3:PutBucketOwnershipControls", "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
	"DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
	"PutPublicAccessBlock":          "s3:PutBucketPublicAccessBlock", "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
	"DeletePublicAccessBlock":    "s3:PutBucketPublicAccessBlock",
	"PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration", "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
	"PutObject": "s3:PutObject", "GetObject": "s3:GetObject", "HeadObject": "s3:GetObject", "CopyObject": "s3:PutObject",
	"DeleteObject": "s3:DeleteObject", "DeleteObjects": "s3:DeleteObject", "GetObjectAttributes": "s3:GetObjectAttributes",
	"PutObjectAcl": "s3:PutObjectAcl", "GetObjectAcl": "s3:GetObjectAcl",
	"PutObjectTagging": "s3:PutObjectTagging", "GetObjectTagging": "s3:GetObjectTagging", "DeleteObjectTagging": "s3:DeleteObjectTagging",
	"PutObjectRetention": "s3:PutObjectRetention", "GetObjectRetention": "s3:GetObjectRetention",
	"PutObjectLegalHold": "s3:PutObjectLegalHold", "GetObjectLegalHold": "s3:GetObjectLegalHold",
	"CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "UploadPartCopy": "s3:PutObject",
	"CompleteMultipartUpload": "s3:PutObject", "AbortMultipartUpload": "s3:AbortMultipartUpload",
	"ListParts": "s3:ListMultipartUploadParts", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
}

// operations is the table operationActions makes for the Authorize hook: ListBuckets and
// CreateBucket are decided there by the caller's own policies; the others by their handlers.
func (s *Service) operations() authz.Operations {
	ops := authz.Operations{}
	for op := range operationActions {
		ops[op] = func(context.Context, any) ([]authz.Request, error) { return nil, nil }
	}
	ops["ListBuckets"] = func(context.Context, any) ([]authz.Request, error) {
		return []authz.Request{{Action: "s3:ListAllMyBuckets"}}, nil
	}
	ops["CreateBucket"] = authz.On(func(ctx context.Context, in *CreateBucketRequest) ([]authz.Request, error) {
		return []authz.Request{{Action: "s3:CreateBucket", Resource: resourceARN(awsproto.Value(in.Bucket), "")}}, nil
	})
	return ops
}

// operationAction is the policy action of the call's operation.
func operationAction(ctx context.Context) string {
	op := callOf(ctx).Operation
	if a, ok := operationActions[op]; ok {
		return a
	}
	return "s3:" + op
}

// authorizeConfig authorizes a bucket configuration operation. Only the bucket owner's
// account may read or change the bucket policy, whatever the policy says.
func (s *Service) authorizeConfig(ctx context.Context, q querier, bucketName, kind string) (bucket, error) {
	b, err := s.authorize(ctx, q, bucketName, operationAction(ctx))
	if err != nil {
		return bucket{}, err
	}
	if c := callerPrincipal(ctx); kind == configPolicy && (c.Anonymous || c.Account != b.Account) {
		return bucket{}, errAccessDenied()
	}
	return b, nil
}

// authorizeForeignObject applies S3's rule for an object another account wrote into the
// bucket (ObjectWriter ownership): its bucket owner has no implicit access to it, only what the
// object's ACL grants. Callers other than the bucket owner were decided by decide already.
func authorizeForeignObject(ctx context.Context, q querier, b bucket, o *object, action string) error {
	c := callerPrincipal(ctx)
	if c.Anonymous || c.Account != b.Account || o.Owner == "" || o.Owner == b.Account || b.Ownership == "BucketOwnerEnforced" {
		return nil
	}
	perm, ok := objectACLPermissions[action]
	if !ok {
		return nil
	}
	p, err := loadObjectACL(q, o)
	if err != nil {
		return err
	}
	if !p.grants(c, perm, false) {
		return errAccessDenied()
	}
	return nil
}
