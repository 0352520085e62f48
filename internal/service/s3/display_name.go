package s3

import "github.com/kiri-run/kiri/internal/awsproto"

// nameAccount fills in the DisplayName S3 shows (the account id) on an owner and on the
// canonical-user grants that name account.
func nameAccount(account string, owner *Owner, grants []Grant) {
	if account == "" || isCanonicalID(account) {
		return
	}
	id := canonicalID(account)
	if owner != nil && awsproto.Value(owner.ID) == id && owner.DisplayName == nil {
		owner.DisplayName = awsproto.Ptr(account)
	}
	for _, g := range grants {
		if g.Grantee != nil && awsproto.Value(g.Grantee.ID) == id && g.Grantee.DisplayName == nil {
			g.Grantee.DisplayName = awsproto.Ptr(account)
		}
	}
}
