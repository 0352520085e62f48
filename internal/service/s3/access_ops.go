package s3

import (
	"context"
	"errors"
	"net/http"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/policy"
	"github.com/kiri-run/kiri/internal/store"
)

// configPublicAccessBlock is the s3_bucket_configs kind of a bucket's PublicAccessBlock (JSON).
const configPublicAccessBlock = "publicaccessblock"

var errNoPublicAccessBlock = configNotFound("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")

// registerAccessOps registers the public access block and policy status operations.
func (s *Service) registerAccessOps() {
	awsproto.Handle(s.api, "PutPublicAccessBlock", s.putPublicAccessBlock)
	awsproto.Handle(s.api, "GetPublicAccessBlock", s.getPublicAccessBlock)
	awsproto.Handle(s.api, "DeletePublicAccessBlock", s.deletePublicAccessBlock)
	awsproto.Handle(s.api, "GetBucketPolicyStatus", s.getBucketPolicyStatus)
}

func (s *Service) putPublicAccessBlock(ctx context.Context, in *PutPublicAccessBlockRequest) (*struct{}, error) {
	c := in.PublicAccessBlockConfiguration
	if c == nil {
		return nil, errMalformedXML()
	}
	f := false
	for _, p := range []**bool{&c.BlockPublicAcls, &c.IgnorePublicAcls, &c.BlockPublicPolicy, &c.RestrictPublicBuckets} {
		if *p == nil {
			*p = &f
		}
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorize(ctx, tx, awsproto.Value(in.Bucket), "s3:PutBucketPublicAccessBlock"); err != nil {
			return err
		}
		return s.putConfig(tx, awsproto.Value(in.Bucket), configPublicAccessBlock, c)
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) getPublicAccessBlock(ctx context.Context, in *GetPublicAccessBlockRequest) (*GetPublicAccessBlockOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorize(ctx, q, awsproto.Value(in.Bucket), "s3:GetBucketPublicAccessBlock")
	if err != nil {
		return nil, err
	}
	var c PublicAccessBlockConfiguration
	ok, err := loadConfigJSON(q, b.Name, configPublicAccessBlock, &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoPublicAccessBlock(b.Name)
	}
	return &GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &c}, nil
}

func (s *Service) deletePublicAccessBlock(ctx context.Context, in *DeletePublicAccessBlockRequest) (*struct{}, error) {
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorize(ctx, tx, awsproto.Value(in.Bucket), "s3:PutBucketPublicAccessBlock"); err != nil {
			return err
		}
		return s.deleteConfig(tx, awsproto.Value(in.Bucket), configPublicAccessBlock)
	})
	if err != nil {
		return nil, err
	}
	callOf(ctx).Status = http.StatusNoContent
	return &struct{}{}, nil
}

// getBucketPolicyStatus reports whether the bucket is public: through its policy or its ACL.
func (s *Service) getBucketPolicyStatus(ctx context.Context, in *GetBucketPolicyStatusRequest) (*GetBucketPolicyStatusOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorize(ctx, q, awsproto.Value(in.Bucket), "s3:GetBucketPolicyStatus")
	if err != nil {
		return nil, err
	}
	pol, err := s.loadPolicy(q, b.Name)
	if err != nil && !errors.Is(err, errUnreadablePolicy) {
		return nil, err
	}
	acl, err := loadBucketACL(q, b)
	if err != nil {
		return nil, err
	}
	public := pol != nil && pol.IsPublic() || acl.isPublic()
	return &GetBucketPolicyStatusOutput{PolicyStatus: &PolicyStatus{IsPublic: &public}}, nil
}

// loadPublicAccessBlock returns a bucket's PublicAccessBlock settings (all false when unset).
func loadPublicAccessBlock(q querier, bucketName string) (*PublicAccessBlockConfiguration, error) {
	c := &PublicAccessBlockConfiguration{}
	if _, err := loadConfigJSON(q, bucketName, configPublicAccessBlock, c); err != nil {
		return nil, err
	}
	return c, nil
}

// blockPublicACL refuses a public ACL on a bucket whose PublicAccessBlock has BlockPublicAcls.
func blockPublicACL(q querier, bucketName string, p *aclPolicy) error {
	if p == nil || !p.isPublic() {
		return nil
	}
	c, err := loadPublicAccessBlock(q, bucketName)
	if err != nil {
		return err
	}
	if awsproto.Value(c.BlockPublicAcls) {
		return errAccessDenied()
	}
	return nil
}

// blockPublicPolicy refuses a public policy on a bucket whose PublicAccessBlock has BlockPublicPolicy.
func blockPublicPolicy(q querier, bucketName string, p *policy.Policy) error {
	if p == nil || !p.IsPublic() {
		return nil
	}
	c, err := loadPublicAccessBlock(q, bucketName)
	if err != nil {
		return err
	}
	if awsproto.Value(c.BlockPublicPolicy) {
		return errAccessDenied()
	}
	return nil
}

// putPolicy checks and stores a bucket policy: IAM's rules for resource-based policies, S3's
// own (s3 actions, resources in this bucket), then the caller and BlockPublicPolicy.
func (s *Service) putPolicy(ctx context.Context, bucketName, doc string) error {
	p, err := parseBucketPolicy(s.policies, doc, bucketName)
	if err != nil {
		return err
	}
	return s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := s.authorizeConfig(ctx, tx, bucketName, configPolicy); err != nil {
			return err
		}
		if err := blockPublicPolicy(tx, bucketName, p); err != nil {
			return err
		}
		return s.putConfig(tx, bucketName, configPolicy, doc)
	})
}
