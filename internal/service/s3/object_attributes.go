package s3

import (
	"context"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func (s *Service) getObjectAttributes(ctx context.Context, in *GetObjectAttributesRequest) (*GetObjectAttributesOutput, error) {
	q := s.reader(ctx)
	b, err := s.authorizeObject(ctx, q, awsproto.Value(in.Bucket), awsproto.Value(in.Key), awsproto.Value(in.VersionId),
		versioned("s3:GetObjectAttributes", awsproto.Value(in.VersionId)))
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, a := range in.ObjectAttributes {
		switch a {
		case "ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize":
			want[a] = true
		default:
			return nil, errInvalidArgument("x-amz-object-attributes", a, "Invalid attribute name specified.")
		}
	}
	if len(want) == 0 {
		return nil, errInvalidArgument("x-amz-object-attributes", "", "Invalid attribute name specified.")
	}
	key, versionID := awsproto.Value(in.Key), awsproto.Value(in.VersionId)
	o, err := loadObject(q, b.Name, key, versionID)
	if err != nil {
		return nil, err
	}
	if o.DeleteMarker {
		setResponseHeader(ctx, "x-amz-delete-marker", "true")
		setResponseHeader(ctx, "x-amz-version-id", o.VersionID)
		if versionID != "" {
			return nil, errDeleteMarkerMethod("GET")
		}
		return nil, errNoSuchKey(key)
	}
	if _, err := checkReadSSE(callHeader(ctx), ssecHeaders, o.Headers, false); err != nil {
		return nil, err
	}
	out := &GetObjectAttributesOutput{LastModified: awsproto.Ptr(o.LastModified)}
	if b.Versioning != "" {
		out.VersionId = awsproto.Ptr(o.VersionID)
	}
	if want["ETag"] {
		out.ETag = awsproto.Ptr(unquoteETag(o.ETag))
	}
	if want["StorageClass"] {
		out.StorageClass = awsproto.Ptr(storageClassOf(o))
	}
	if want["ObjectSize"] {
		out.ObjectSize = awsproto.Ptr(o.Size)
	}
	if want["Checksum"] && len(o.Checksums) > 0 {
		c := &Checksum{}
		setChecksumFields(o.Checksums, &c.ChecksumCRC32, &c.ChecksumCRC32C, &c.ChecksumCRC64NVME, &c.ChecksumSHA1, &c.ChecksumSHA256)
		if o.Headers.ChecksumType != "" {
			c.ChecksumType = awsproto.Ptr(o.Headers.ChecksumType)
		}
		out.Checksum = c
	}
	if want["ObjectParts"] && len(o.Parts) > 0 {
		out.ObjectParts = attributeParts(o, awsproto.Value(in.PartNumberMarker), in.MaxParts)
	}
	return out, nil
}

// attributeParts pages through a multipart object's parts for GetObjectAttributes.
func attributeParts(o object, marker int32, maxParts *int32) *GetObjectAttributesParts {
	limit := int32(1000)
	if maxParts != nil && *maxParts >= 0 {
		limit = min(*maxParts, 1000)
	}
	res := &GetObjectAttributesParts{TotalPartsCount: awsproto.Ptr(int32(len(o.Parts))), MaxParts: awsproto.Ptr(limit),
		PartNumberMarker: awsproto.Ptr(marker), IsTruncated: awsproto.Ptr(false)}
	for i, p := range o.Parts {
		n := int32(i + 1)
		if n <= marker {
			continue
		}
		if int32(len(res.Parts)) == limit {
			res.IsTruncated = awsproto.Ptr(true)
			break
		}
		part := ObjectPart{PartNumber: awsproto.Ptr(n), Size: awsproto.Ptr(p.Size)}
		sums := map[string]string{}
		for a, v := range p.Checksums {
			sums[strings.ToUpper(a)] = v
		}
		setChecksumFields(sums, &part.ChecksumCRC32, &part.ChecksumCRC32C, &part.ChecksumCRC64NVME, &part.ChecksumSHA1, &part.ChecksumSHA256)
		res.Parts = append(res.Parts, part)
		res.NextPartNumberMarker = awsproto.Ptr(n)
	}
	return res
}
