package s3

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// principal is who a request acts for.
type principal struct {
	Account   string // "" when anonymous
	ARN       string
	Anonymous bool
}

// callerPrincipal works out the caller: a call without an account is an anonymous request (the
// edge lets unsigned S3 requests through in strict mode); no call at all (unit tests) is the
// dev account.
func callerPrincipal(ctx context.Context) principal {
	c := awsproto.CallFrom(ctx)
	if c == nil {
		return principal{Account: callerAccount(ctx)}
	}
	if c.AccountID == "" {
		return principal{Anonymous: true}
	}
	arn := c.PrincipalARN
	if arn == "" {
		arn = "arn:aws:iam::" + c.AccountID + ":root"
	}
	return principal{Account: c.AccountID, ARN: arn}
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
	ctx       context.Context
	q         querier
	b         bucket
	key, ver  string
	caller    principal
	policy    *bucketPolicy
	pab       *PublicAccessBlockConfiguration
	obj       *object
	objLoaded bool
	objErr    error
}

// decide applies S3's rules to one request: an explicit Deny in the bucket policy refuses; an
// Allow grants (unless RestrictPublicBuckets drops a public policy for other accounts); the
// bucket owner's account may do anything else; other callers need an ACL grant (bucket ACL
// for listing and writing, object ACL for reading an object and its ACL), which a
// BucketOwnerEnforced bucket ignores and IgnorePublicAcls narrows to named grantees.
// A missing object is NoSuchKey only for a caller allowed to list the bucket.
func (s *Service) decide(ctx context.Context, q querier, b bucket, key, versionID, action string) error {
	ac := &accessCheck{ctx: ctx, q: q, b: b, key: key, ver: versionID, caller: callerPrincipal(ctx)}
	owner := !ac.caller.Anonymous && ac.caller.Account == b.Account
	var err error
	if b.mayHave(configPolicy) {
		if ac.policy, err = loadPolicy(q, b.Name); err != nil {
			return err
		}
	}
	allowed, err := ac.policyAllows(action, key, nil)
	if err != nil || allowed || owner {
		return err
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

// policyAllows evaluates the bucket policy: an error for Deny (and for a public Allow that
// RestrictPublicBuckets voids), true for an Allow. extra overrides condition keys.
func (ac *accessCheck) policyAllows(action, key string, extra map[string][]string) (bool, error) {
	if ac.policy == nil {
		return false, nil
	}
	rc := &requestContext{Caller: ac.caller, Action: action, Resource: resourceARN(ac.b.Name, key),
		Value: func(k string) ([]string, bool) {
			if v, ok := extra[strings.ToLower(k)]; ok {
				return v, true
			}
			return ac.conditionValue(k)
		}}
	switch ac.policy.evaluate(rc) {
	case policyDeny:
		return false, errAccessDenied()
	case policyAllow:
		if !ac.caller.Anonymous && ac.caller.Account == ac.b.Account {
			return true, nil
		}
		pab, err := ac.publicAccessBlock()
		if err != nil {
			return false, err
		}
		if awsproto.Value(pab.RestrictPublicBuckets) && ac.policy.isPublic() {
			return false, errAccessDenied()
		}
		return true, nil
	}
	return false, nil
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
	if awsproto.Value(pab.RestrictPublicBuckets) && ac.policy != nil && ac.policy.isPublic() {
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
	if err != nil || allowed {
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

// loadPolicy returns a bucket's parsed policy, or nil when it has none.
func loadPolicy(q querier, bucketName string) (*bucketPolicy, error) {
	doc, ok, err := loadConfig(q, bucketName, configPolicy)
	if err != nil || !ok {
		return nil, err
	}
	p, err := parsePolicy(doc)
	if err != nil {
		// A stored policy always parsed when it was put; an unreadable one grants nothing.
		return nil, nil
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

// conditionValue returns the request's values of a policy condition key.
func (ac *accessCheck) conditionValue(key string) ([]string, bool) {
	r := callRequest(ac.ctx)
	lower := strings.ToLower(key)
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
	case lower == "aws:principalaccount":
		return single(ac.caller.Account, !ac.caller.Anonymous)
	case lower == "aws:principalarn":
		return single(ac.caller.ARN, !ac.caller.Anonymous)
	case lower == "aws:principaltype":
		if ac.caller.Anonymous {
			return []string{"Anonymous"}, true
		}
		return []string{"Account"}, true
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
	case lower == "aws:referer":
		return single(r.Header.Get("Referer"), r.Header.Get("Referer") != "")
	case lower == "aws:useragent":
		return single(r.UserAgent(), r.UserAgent() != "")
	case lower == "aws:securetransport":
		return []string{strconv.FormatBool(r.TLS != nil)}, true
	case lower == "aws:sourceip":
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		return single(host, host != "")
	case lower == "aws:currenttime":
		return []string{time.Now().UTC().Format(time.RFC3339)}, true
	case lower == "aws:epochtime":
		return []string{strconv.FormatInt(time.Now().Unix(), 10)}, true
	}
	return nil, false
}

func single(v string, ok bool) ([]string, bool) {
	if !ok {
		return nil, false
	}
	return []string{v}, true
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

// operationActions are the policy actions of operations whose names differ from them.
var operationActions = map[string]string{
	"PutBucketCors": "s3:PutBucketCORS", "GetBucketCors": "s3:GetBucketCORS", "DeleteBucketCors": "s3:PutBucketCORS",
	"PutBucketEncryption": "s3:PutEncryptionConfiguration", "GetBucketEncryption": "s3:GetEncryptionConfiguration",
	"DeleteBucketEncryption":          "s3:PutEncryptionConfiguration",
	"PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration", "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"DeleteBucketLifecycle": "s3:PutLifecycleConfiguration", "DeleteBucketTagging": "s3:PutBucketTagging",
	"PutBucketNotificationConfiguration": "s3:PutBucketNotification", "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
	"PutBucketOwnershipControls": "s3:PutBucketOwnershipControls", "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
	"HeadBucket": "s3:ListBucket", "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
}

// operationAction is the policy action of the call's operation ("s3:" + its name unless it differs).
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
