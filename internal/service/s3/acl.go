package s3

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// ACL grantee groups S3 knows.
const (
	groupAllUsers      = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthenticated = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery   = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// aclPermissions are the permissions a grant may give.
var aclPermissions = map[string]bool{"FULL_CONTROL": true, "READ": true, "READ_ACP": true, "WRITE": true, "WRITE_ACP": true}

// aclPolicy is a stored access control list. Kiri keeps and returns ACLs; it does not enforce them.
type aclPolicy struct {
	Owner  string     `json:"o"` // canonical user id
	Grants []aclGrant `json:"g"`
}

// aclGrant is one grant: a grantee (canonical user, group URI or e-mail) and a permission.
type aclGrant struct {
	Type       string `json:"t"`
	ID         string `json:"id,omitempty"`
	URI        string `json:"u,omitempty"`
	Email      string `json:"e,omitempty"`
	Permission string `json:"p"`
}

// canonicalID is the 64-hex-digit canonical user id S3 shows for an account.
func canonicalID(account string) string {
	if isCanonicalID(account) {
		return account
	}
	sum := sha256.Sum256([]byte("kiri-canonical-user:" + account))
	return hex.EncodeToString(sum[:])
}

func isCanonicalID(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// ownerOf is the Owner element S3 returns for an account.
func ownerOf(account string) *Owner {
	return &Owner{ID: awsproto.Ptr(canonicalID(account)), DisplayName: awsproto.Ptr(account)}
}

// ownerOnly reports whether p grants nothing beyond the owner's full control.
func (p *aclPolicy) ownerOnly(account string) bool {
	id := canonicalID(account)
	for _, g := range p.Grants {
		if g.Type != "CanonicalUser" || g.ID != id || g.Permission != "FULL_CONTROL" {
			return false
		}
	}
	return true
}

// defaultACL is what a resource without an explicit ACL has: its owner's full control.
func defaultACL(account string) *aclPolicy {
	id := canonicalID(account)
	return &aclPolicy{Owner: id, Grants: []aclGrant{{Type: "CanonicalUser", ID: id, Permission: "FULL_CONTROL"}}}
}

// cannedACL expands a canned ACL name; bucketOwner matters for the bucket-owner-* object ACLs.
func cannedACL(name, owner, bucketOwner string, forBucket bool) (*aclPolicy, error) {
	p := defaultACL(owner)
	add := func(typ, who, perm string) {
		g := aclGrant{Type: typ, Permission: perm}
		if typ == "Group" {
			g.URI = who
		} else {
			g.ID = who
		}
		p.Grants = append(p.Grants, g)
	}
	switch name {
	case "private":
	case "public-read":
		add("Group", groupAllUsers, "READ")
	case "public-read-write":
		add("Group", groupAllUsers, "READ")
		add("Group", groupAllUsers, "WRITE")
	case "authenticated-read":
		add("Group", groupAuthenticated, "READ")
	case "log-delivery-write":
		if !forBucket {
			return nil, errInvalidArgument("x-amz-acl", name, "Invalid canned ACL")
		}
		add("Group", groupLogDelivery, "WRITE")
		add("Group", groupLogDelivery, "READ_ACP")
	case "aws-exec-read", "bucket-owner-read", "bucket-owner-full-control":
		if forBucket {
			return nil, errInvalidArgument("x-amz-acl", name, "Invalid canned ACL")
		}
		if name != "aws-exec-read" && canonicalID(bucketOwner) != canonicalID(owner) {
			perm := "READ"
			if name == "bucket-owner-full-control" {
				perm = "FULL_CONTROL"
			}
			add("CanonicalUser", canonicalID(bucketOwner), perm)
		}
	default:
		return nil, errInvalidArgument("x-amz-acl", name, "Invalid canned ACL")
	}
	// AWS lists a canned ACL's group grants before the owner's own grant.
	groups := make([]aclGrant, 0, len(p.Grants))
	others := make([]aclGrant, 0, len(p.Grants))
	for _, g := range p.Grants {
		if g.Type == "Group" {
			groups = append(groups, g)
		} else {
			others = append(others, g)
		}
	}
	p.Grants = append(groups, others...)
	return p, nil
}

// aclRequest is the ACL a request carries in headers: a canned ACL or x-amz-grant-* lists.
type aclRequest struct {
	Canned                                      string
	FullControl, Read, ReadACP, Write, WriteACP string
}

// aclFromRequest builds the ACL a request's headers ask for, or nil when they ask for none.
func aclFromRequest(r aclRequest, owner, bucketOwner string, forBucket bool) (*aclPolicy, error) {
	grants := []struct{ perm, list string }{
		{"FULL_CONTROL", r.FullControl}, {"READ", r.Read}, {"READ_ACP", r.ReadACP}, {"WRITE", r.Write}, {"WRITE_ACP", r.WriteACP},
	}
	hasGrants := false
	for _, g := range grants {
		hasGrants = hasGrants || g.list != ""
	}
	if r.Canned != "" && hasGrants {
		return nil, errInvalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
	}
	if r.Canned != "" {
		return cannedACL(r.Canned, owner, bucketOwner, forBucket)
	}
	if !hasGrants {
		return nil, nil
	}
	p := &aclPolicy{Owner: canonicalID(owner)}
	for _, g := range grants {
		if g.list == "" {
			continue
		}
		parsed, err := parseGrantHeader(g.list, g.perm)
		if err != nil {
			return nil, err
		}
		p.Grants = append(p.Grants, parsed...)
	}
	return p, nil
}

// parseGrantHeader parses an x-amz-grant-* value: `id="…", uri="…", emailAddress="…"`.
func parseGrantHeader(list, perm string) ([]aclGrant, error) {
	var out []aclGrant
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		k, v, ok := strings.Cut(item, "=")
		v = strings.Trim(strings.TrimSpace(v), `"`)
		if !ok || v == "" {
			return nil, errInvalidArgument("x-amz-grant", item, "Invalid grant header")
		}
		g := aclGrant{Permission: perm}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "id":
			g.Type, g.ID = "CanonicalUser", v
		case "uri":
			g.Type, g.URI = "Group", v
		case "emailaddress":
			g.Type, g.Email = "AmazonCustomerByEmail", v
		default:
			return nil, errInvalidArgument("x-amz-grant", item, "Invalid grant header")
		}
		if err := checkGrantee(g); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, nil
}

// checkGrantee rejects grantees S3 cannot resolve.
func checkGrantee(g aclGrant) error {
	switch g.Type {
	case "CanonicalUser":
		if !isCanonicalID(g.ID) {
			return errInvalidArgument("CanonicalUser/ID", g.ID, "Invalid id")
		}
	case "Group":
		if g.URI != groupAllUsers && g.URI != groupAuthenticated && g.URI != groupLogDelivery {
			return errInvalidArgument("Group/URI", g.URI, "Invalid group uri")
		}
	case "AmazonCustomerByEmail":
		return &awsproto.Error{Code: "UnresolvableGrantByEmailAddress", Status: 400,
			Message: "The e-mail address you provided does not match any account on record.", Fields: map[string]string{"EmailAddress": g.Email}}
	default:
		return errMalformedACL()
	}
	return nil
}

func errMalformedACL() *awsproto.Error {
	return awsproto.Errorf("MalformedACLError", 400, "The XML you provided was not well-formed or did not validate against our published schema")
}

// aclFromBody converts an AccessControlPolicy request body.
func aclFromBody(in *AccessControlPolicy, owner string) (*aclPolicy, error) {
	p := &aclPolicy{Owner: canonicalID(owner)}
	if in.Owner != nil && in.Owner.ID != nil && *in.Owner.ID != p.Owner {
		return nil, errAccessDenied()
	}
	for _, g := range in.Grants {
		if g.Grantee == nil || !aclPermissions[awsproto.Value(g.Permission)] {
			return nil, errMalformedACL()
		}
		ag := aclGrant{Type: awsproto.Value(g.Grantee.Type), ID: awsproto.Value(g.Grantee.ID), URI: awsproto.Value(g.Grantee.URI),
			Email: awsproto.Value(g.Grantee.EmailAddress), Permission: *g.Permission}
		if err := checkGrantee(ag); err != nil {
			return nil, err
		}
		p.Grants = append(p.Grants, ag)
	}
	return p, nil
}

// aclToAPI renders p as the owner and grants S3 returns.
func aclToAPI(p *aclPolicy) (*Owner, []Grant) {
	owner := &Owner{ID: awsproto.Ptr(p.Owner)}
	grants := make([]Grant, 0, len(p.Grants))
	for _, g := range p.Grants {
		ge := &Grantee{Type: awsproto.Ptr(g.Type)}
		switch g.Type {
		case "CanonicalUser":
			ge.ID = awsproto.Ptr(g.ID)
		case "Group":
			ge.URI = awsproto.Ptr(g.URI)
		default:
			ge.EmailAddress = awsproto.Ptr(g.Email)
		}
		grants = append(grants, Grant{Grantee: ge, Permission: awsproto.Ptr(g.Permission)})
	}
	return owner, grants
}

func (s *Service) registerACLOps() {
	awsproto.Handle(s.api, "PutBucketAcl", s.putBucketACL)
	awsproto.Handle(s.api, "GetBucketAcl", s.getBucketACL)
	awsproto.Handle(s.api, "PutObjectAcl", s.putObjectACL)
	awsproto.Handle(s.api, "GetObjectAcl", s.getObjectACL)
}

// requestedACL is the ACL a Put*Acl request sets: from its body, or its headers (exactly one).
func requestedACL(body *AccessControlPolicy, hdr aclRequest, owner, bucketOwner string, forBucket bool) (*aclPolicy, error) {
	fromHeaders, err := aclFromRequest(hdr, owner, bucketOwner, forBucket)
	if err != nil {
		return nil, err
	}
	switch {
	case body != nil && fromHeaders != nil:
		return nil, errInvalidRequest("Specifying both an ACL in the request body and in headers is not allowed")
	case body != nil:
		return aclFromBody(body, owner)
	case fromHeaders == nil:
		return nil, awsproto.Errorf("MissingSecurityHeader", 400, "Your request was missing a required header")
	}
	return fromHeaders, nil
}

// errBucketACLWithOwnership refuses to disable the ACLs of a bucket whose ACL grants others.
func errBucketACLWithOwnership() *awsproto.Error {
	return awsproto.Errorf("InvalidBucketAclWithObjectOwnership", 400,
		"Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
}

func errACLNotSupported() *awsproto.Error {
	return awsproto.Errorf("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
}

func (s *Service) putBucketACL(ctx context.Context, in *PutBucketAclRequest) (*struct{}, error) {
	name := awsproto.Value(in.Bucket)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorize(ctx, tx, name, "s3:PutBucketAcl")
		if err != nil {
			return err
		}
		r := aclRequest{
			Canned: awsproto.Value(in.ACL), FullControl: awsproto.Value(in.GrantFullControl), Read: awsproto.Value(in.GrantRead),
			ReadACP: awsproto.Value(in.GrantReadACP), Write: awsproto.Value(in.GrantWrite), WriteACP: awsproto.Value(in.GrantWriteACP),
		}
		p, err := requestedACL(in.AccessControlPolicy, r, b.Account, b.Account, true)
		if err != nil {
			return err
		}
		if err := blockPublicACL(tx, name, p); err != nil {
			return err
		}
		if b.Ownership == "BucketOwnerEnforced" && !bucketOwnerFullControl(r, p, b.Account) {
			return errACLNotSupported()
		}
		return s.putConfig(tx, name, configACL, p)
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) getBucketACL(ctx context.Context, in *GetBucketAclRequest) (*GetBucketAclOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorize(ctx, q, awsproto.Value(in.Bucket), "s3:GetBucketAcl")
	if err != nil {
		return nil, err
	}
	p := defaultACL(b.Account)
	if b.Ownership != "BucketOwnerEnforced" { // ACLs disabled: the owner's full control, always
		if _, err := loadConfigJSON(q, b.Name, configACL, p); err != nil {
			return nil, err
		}
	}
	owner, grants := aclToAPI(p)
	nameAccount(b.Account, owner, grants)
	nameAccount(callerAccount(ctx), owner, grants)
	return &GetBucketAclOutput{Owner: owner, Grants: grants}, nil
}

// aclObject loads the object version an object ACL request addresses: a delete marker is
// NoSuchKey when it is the latest version, and MethodNotAllowed when named by version id.
func aclObject(q querier, bucketName, key, versionID string) (object, error) {
	return loadLiveVersion(q, bucketName, key, versionID, "GET")
}

// storeObjectACL keeps p as the ACL of object version o (nil p: back to the default). Object
// writers call it in their transaction when a request carries x-amz-acl or x-amz-grant-*.
func storeObjectACL(tx *store.Tx, o *object, p *aclPolicy) error {
	if _, err := tx.Exec(`DELETE FROM s3_object_acls WHERE bucket = ? AND okey = ? AND version_id = ?`, o.Bucket, o.Key, o.VersionID); err != nil {
		return err
	}
	if p == nil {
		return nil
	}
	_, err := tx.Exec(`INSERT INTO s3_object_acls (bucket, okey, version_id, seq, last_modified, body) VALUES (?, ?, ?, ?, ?, ?)`,
		o.Bucket, o.Key, o.VersionID, o.Seq, o.LastModified.UnixMilli(), mustJSON(p))
	return err
}

// loadObjectACL returns the ACL of object version o: the stored one, else its owner's full control.
func loadObjectACL(q querier, o *object) (*aclPolicy, error) {
	var body string
	err := q.QueryRow(`SELECT body FROM s3_object_acls WHERE bucket = ? AND okey = ? AND version_id = ? AND seq = ? AND last_modified = ?`,
		o.Bucket, o.Key, o.VersionID, o.Seq, o.LastModified.UnixMilli()).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return defaultACL(o.Owner), nil
	}
	if err != nil {
		return nil, fmt.Errorf("load acl of %q: %w", o.Key, err)
	}
	p := &aclPolicy{}
	if err := json.Unmarshal([]byte(body), p); err != nil {
		return nil, fmt.Errorf("decode acl of %q: %w", o.Key, err)
	}
	return p, nil
}

func (s *Service) putObjectACL(ctx context.Context, in *PutObjectAclRequest) (*PutObjectAclOutput, error) {
	name, key, version := awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.authorizeObject(ctx, tx, name, key, version, versioned("s3:PutObjectAcl", version))
		if err != nil {
			return err
		}
		o, err := aclObject(tx, name, key, version)
		if err != nil {
			return err
		}
		owner := o.Owner
		if owner == "" {
			owner = b.Account
		}
		if err := authorizeForeignObject(ctx, tx, b, &o, "s3:PutObjectAcl"); err != nil {
			return err
		}
		r := aclRequest{
			Canned: awsproto.Value(in.ACL), FullControl: awsproto.Value(in.GrantFullControl), Read: awsproto.Value(in.GrantRead),
			ReadACP: awsproto.Value(in.GrantReadACP), Write: awsproto.Value(in.GrantWrite), WriteACP: awsproto.Value(in.GrantWriteACP),
		}
		p, err := requestedACL(in.AccessControlPolicy, r, owner, b.Account, false)
		if err != nil {
			return err
		}
		if b.Ownership == "BucketOwnerEnforced" && !bucketOwnerFullControl(r, p, b.Account) {
			return errACLNotSupported()
		}
		if err := blockPublicACL(tx, name, p); err != nil {
			return err
		}
		if version != "" {
			callOf(ctx).ResponseHeader.Set("x-amz-version-id", version)
		}
		return storeObjectACL(tx, &o, p)
	})
	if err != nil {
		return nil, err
	}
	return &PutObjectAclOutput{}, nil
}

func (s *Service) getObjectACL(ctx context.Context, in *GetObjectAclRequest) (*GetObjectAclOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorizeObject(ctx, q, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId),
		versioned("s3:GetObjectAcl", awsproto.Value(in.VersionId)))
	if err != nil {
		return nil, err
	}
	o, err := aclObject(q, b.Name, awsproto.Value(in.Key), awsproto.Value(in.VersionId))
	if err != nil {
		return nil, err
	}
	if o.Owner == "" {
		o.Owner = b.Account
	}
	if err := authorizeForeignObject(ctx, q, b, &o, "s3:GetObjectAcl"); err != nil {
		return nil, err
	}
	p, err := loadObjectACL(q, &o)
	if err != nil {
		return nil, err
	}
	if b.Ownership == "BucketOwnerEnforced" {
		// ACLs are disabled: reads show the bucket owner's full control of everything.
		o.Owner, p = b.Account, defaultACL(b.Account)
	}
	if o.VersionID != nullVersion || in.VersionId != nil {
		callOf(ctx).ResponseHeader.Set("x-amz-version-id", o.VersionID)
	}
	owner, grants := aclToAPI(p)
	nameAccount(o.Owner, owner, grants)
	nameAccount(b.Account, owner, grants)
	nameAccount(callerAccount(ctx), owner, grants)
	return &GetObjectAclOutput{Owner: owner, Grants: grants}, nil
}
