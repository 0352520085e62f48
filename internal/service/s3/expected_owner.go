package s3

import "context"

// checkExpectedOwner applies x-amz-expected-bucket-owner: a request naming an account other
// than the bucket's owner is AccessDenied, whoever sends it.
func checkExpectedOwner(ctx context.Context, b bucket) error {
	want := callHeader(ctx).Get("X-Amz-Expected-Bucket-Owner")
	if want == "" || want == b.Account {
		return nil
	}
	return errAccessDenied()
}
