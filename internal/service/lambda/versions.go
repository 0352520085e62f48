package lambda

import (
	"context"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerVersionOps() {
	awsproto.Handle(s.api, "PublishVersion", s.publishVersion)
	awsproto.Handle(s.api, "ListVersionsByFunction", s.listVersionsByFunction)
}

func (s *Service) publishVersion(ctx context.Context, in *PublishVersionRequest) (*FunctionConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	var out *fnConfig
	err = s.write(ctx, func(tx *store.Tx) error {
		row, err := loadFunction(tx, r)
		if err != nil {
			return err
		}
		c, ok, err := loadVersion(tx, r, latest)
		if err != nil {
			return err
		}
		if !ok {
			return functionNotFound(r.unqualifiedARN())
		}
		if sha := awsproto.Value(in.CodeSha256); sha != "" && sha != c.codeSha256() {
			return invalidParameter("CodeSHA256 (%s) is different from current CodeSHA256 in $LATEST (%s). Please try again with the CodeSHA256 in $LATEST.", sha, c.codeSha256())
		}
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != c.RevisionID {
			return revisionMismatch("GetFunction/GetAlias")
		}
		out, err = s.publish(tx, r, row, c, awsproto.Value(in.Description))
		return err
	})
	if err != nil {
		return nil, err
	}
	cfg := out.render(r, false)
	return &cfg, nil
}

// publish snapshots $LATEST as the next version. When neither code nor configuration changed
// since the newest version, AWS publishes nothing and returns that version, and so does this.
func (s *Service) publish(tx *store.Tx, r funcRef, row *fnRow, c *fnConfig, description string) (*fnConfig, error) {
	if row.LastVersion > 0 {
		prev, ok, err := loadVersion(tx, r, fmt.Sprint(row.LastVersion))
		if err != nil {
			return nil, err
		}
		if ok && sameRunnable(prev, c) {
			return prev, nil
		}
	}
	v := c.clone()
	row.LastVersion++
	v.Version = fmt.Sprint(row.LastVersion)
	v.Description = description
	v.RevisionID = newRevisionID()
	v.LastModified = s.now()
	v.State, v.StateReason, v.StateReasonCode = stateActive, "", ""
	v.LastUpdateStatus, v.LastUpdateStatusReason, v.LastUpdateStatusReasonCode = updateSuccessful, "", ""
	if err := saveVersion(tx, r, v); err != nil {
		return nil, err
	}
	if err := saveFunction(tx, r, row); err != nil {
		return nil, err
	}
	return v, nil
}

// sameRunnable compares two versions' code and configuration, descriptions aside (a version's
// description is the one given when it was published).
func sameRunnable(a, b *fnConfig) bool {
	x, y := a.clone(), b.clone()
	x.Description, y.Description = "", ""
	return x.fingerprint() == y.fingerprint()
}

func (s *Service) listVersionsByFunction(ctx context.Context, in *ListVersionsByFunctionRequest) (*ListVersionsByFunctionResponse, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, defaultListMaxItems)
	if err != nil {
		return nil, err
	}
	after := listMarker{Num: -1}
	if m := awsproto.Value(in.Marker); m != "" {
		if after, err = decodeMarker(m); err != nil {
			return nil, err
		}
	}
	if _, err := loadFunction(s.reader(ctx), r); err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, `SELECT name, version_num, config FROM lambda_versions
		WHERE account = ? AND region = ? AND name = ? AND version_num > ? ORDER BY version_num LIMIT ?`,
		r.account, r.region, r.name, after.Num, max+1)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	out := &ListVersionsByFunctionResponse{Versions: []FunctionConfiguration{}}
	err = scanConfigs(rows, max, func(_ string, _ int64, c *fnConfig) {
		out.Versions = append(out.Versions, c.render(r, true))
	}, func(_ string, num int64) {
		out.NextMarker = ptr(encodeMarker(listMarker{Num: num}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
