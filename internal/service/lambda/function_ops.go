package lambda

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerFunctionOps() {
	awsproto.Handle(s.api, "CreateFunction", s.createFunction)
	awsproto.Handle(s.api, "GetFunction", s.getFunction)
	awsproto.Handle(s.api, "GetFunctionConfiguration", s.getFunctionConfiguration)
	awsproto.Handle(s.api, "ListFunctions", s.listFunctions)
	awsproto.Handle(s.api, "UpdateFunctionCode", s.updateFunctionCode)
	awsproto.Handle(s.api, "UpdateFunctionConfiguration", s.updateFunctionConfiguration)
	awsproto.Handle(s.api, "DeleteFunction", s.deleteFunction)
}

func (s *Service) createFunction(ctx context.Context, in *CreateFunctionRequest) (*FunctionConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	if pt := awsproto.Value(in.PackageType); pt != "" && pt != "Zip" {
		return nil, invalidParameter("PackageType %s is not supported: Kiri runs Zip packages only.", pt)
	}
	if in.Runtime == nil || in.Handler == nil {
		return nil, invalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	// A new function is likely to be invoked soon: the runtime gets ready while its code is
	// taken in, checked and unpacked.
	s.warm()
	c := &fnConfig{
		Version:     latest,
		MemoryMB:    defaultMemoryMB,
		Timeout:     defaultTimeout,
		EphemeralMB: defaultEphemeralMB,
	}
	if err := applyConfig(c, configChange{
		Runtime: in.Runtime, Handler: in.Handler, Role: in.Role, Description: in.Description,
		MemorySize: in.MemorySize, Timeout: in.Timeout, Environment: in.Environment, EphemeralStorage: in.EphemeralStorage,
		DeadLetterConfig: in.DeadLetterConfig, TracingConfig: in.TracingConfig, Layers: in.Layers, KMSKeyArn: in.KMSKeyArn,
		VpcConfig: in.VpcConfig, LoggingConfig: in.LoggingConfig, Architectures: in.Architectures,
	}); err != nil {
		return nil, err
	}
	if err := s.checkRoleAccount(ctx, r.account, c.Role); err != nil {
		return nil, err
	}
	if err := s.checkDeadLetterDelivery(c.DeadLetterTarget); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	src := codeSource{}
	if in.Code != nil {
		src = codeSource{ZipFile: in.Code.ZipFile, S3Bucket: awsproto.Value(in.Code.S3Bucket), S3Key: awsproto.Value(in.Code.S3Key),
			S3Version: awsproto.Value(in.Code.S3ObjectVersion), ImageURI: awsproto.Value(in.Code.ImageUri)}
	}
	cd, err := s.intakeCode(ctx, "CreateFunction", r.account, r.region, src)
	if err != nil {
		return nil, err
	}
	now := s.now()
	c.CodeSha, c.CodeSize = cd.sha, cd.size
	c.RevisionID = newRevisionID()
	c.LastModified = now
	c.State, c.StateReason, c.StateReasonCode = statePending, "The function is being created.", "Creating"
	var out *fnConfig
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err == nil {
			return conflict("Function already exist: %s", r.name)
		} else if !isNotFound(err) {
			return err
		}
		row := &fnRow{Created: now.UnixMilli(), Tags: maps.Clone(in.Tags)}
		out = c
		if awsproto.Value(in.Publish) {
			v := c.clone()
			row.LastVersion = 1
			v.Version, v.RevisionID = "1", newRevisionID()
			if err := saveVersion(tx, r, v); err != nil {
				return err
			}
			out = v
		}
		if err := saveFunction(tx, r, row); err != nil {
			return err
		}
		if err := saveVersion(tx, r, c); err != nil {
			return err
		}
		return s.enqueueSettle(tx, r)
	})
	if err != nil {
		s.abandonCode(ctx, cd.sha)
		return nil, err
	}
	cfg := out.render(r, false)
	return &cfg, nil
}

// abandonCode lets collection consider a zip stored for a change that did not commit.
func (s *Service) abandonCode(ctx context.Context, sha string) {
	err := s.write(context.WithoutCancel(ctx), func(tx *store.Tx) error { return s.releaseCode(tx, sha) })
	if err != nil {
		s.log.Warn("schedule code collection", "sha", sha, "err", err)
	}
}

func (s *Service) getFunction(ctx context.Context, in *GetFunctionRequest) (*GetFunctionResponse, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	q := s.reader(ctx)
	c, _, err := loadQualified(q, r, true)
	if err != nil {
		return nil, err
	}
	row, err := loadFunction(q, r)
	if err != nil {
		return nil, err
	}
	cfg := c.render(r, false)
	out := &GetFunctionResponse{
		Configuration: &cfg,
		Code:          &FunctionCodeLocation{RepositoryType: ptr("S3"), Location: ptr(s.codeLocation(ctx, r, c.CodeSha))},
	}
	if len(row.Tags) > 0 {
		out.Tags = row.Tags
	}
	if row.Reserved != nil {
		out.Concurrency = &Concurrency{ReservedConcurrentExecutions: row.Reserved}
	}
	return out, nil
}

func (s *Service) getFunctionConfiguration(ctx context.Context, in *GetFunctionConfigurationRequest) (*FunctionConfiguration, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	c, _, err := loadQualified(s.reader(ctx), r, true)
	if err != nil {
		return nil, err
	}
	cfg := c.render(r, false)
	return &cfg, nil
}

func (s *Service) listFunctions(ctx context.Context, in *ListFunctionsRequest) (*ListFunctionsResponse, error) {
	account, region := callScope(ctx)
	max, err := maxItems(in.MaxItems, defaultListMaxItems)
	if err != nil {
		return nil, err
	}
	var after listMarker
	if m := awsproto.Value(in.Marker); m != "" {
		if after, err = decodeMarker(m); err != nil {
			return nil, err
		}
	}
	all := awsproto.Value(in.FunctionVersion) == "ALL"
	query := `SELECT name, version_num, config FROM lambda_versions WHERE account = ? AND region = ?
		AND (name > ? OR (name = ? AND version_num > ?))`
	if !all {
		query += ` AND version_num = 0`
	}
	rows, err := s.st.Query(ctx, query+` ORDER BY name, version_num LIMIT ?`, account, region, after.Name, after.Name, after.Num, max+1)
	if err != nil {
		return nil, fmt.Errorf("list functions: %w", err)
	}
	out := &ListFunctionsResponse{Functions: []FunctionConfiguration{}}
	err = scanConfigs(rows, max, func(name string, num int64, c *fnConfig) {
		out.Functions = append(out.Functions, c.render(funcRef{account: account, region: region, name: name}, true))
	}, func(name string, num int64) {
		out.NextMarker = ptr(encodeMarker(listMarker{Name: name, Num: num}))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) updateFunctionCode(ctx context.Context, in *UpdateFunctionCodeRequest) (*FunctionConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	if err := checkArchitectures(in.Architectures); err != nil {
		return nil, err
	}
	if _, err := loadFunction(s.reader(ctx), r); err != nil {
		return nil, err
	}
	cd, err := s.intakeCode(ctx, "UpdateFunctionCode", r.account, r.region, codeSource{ZipFile: in.ZipFile,
		S3Bucket: awsproto.Value(in.S3Bucket), S3Key: awsproto.Value(in.S3Key), S3Version: awsproto.Value(in.S3ObjectVersion),
		ImageURI: awsproto.Value(in.ImageUri)})
	if err != nil {
		return nil, err
	}
	dryRun := awsproto.Value(in.DryRun)
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
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != c.RevisionID {
			return revisionMismatch("GetFunction/GetAlias")
		}
		if slices.Contains(deprecatedRuntimes, c.Runtime) {
			return deprecatedRuntime(c.Runtime)
		}
		old := c.CodeSha
		c.CodeSha, c.CodeSize = cd.sha, cd.size
		if in.Architectures != nil {
			c.Architectures = in.Architectures
		}
		if dryRun {
			out = c
			return nil
		}
		s.markUpdating(c)
		out = c
		if err := saveVersion(tx, r, c); err != nil {
			return err
		}
		if awsproto.Value(in.Publish) {
			v, err := s.publish(tx, r, row, c, "")
			if err != nil {
				return err
			}
			out = v
		}
		if old != c.CodeSha {
			if err := s.releaseCode(tx, old); err != nil {
				return err
			}
		}
		return s.enqueueSettle(tx, r)
	})
	if err != nil || dryRun {
		// Nothing references the uploaded zip; collection decides once its pin expires.
		s.abandonCode(ctx, cd.sha)
	}
	if err != nil {
		return nil, err
	}
	if !dryRun {
		s.drain(r)
	}
	cfg := out.render(r, false)
	return &cfg, nil
}

func (s *Service) updateFunctionConfiguration(ctx context.Context, in *UpdateFunctionConfigurationRequest) (*FunctionConfiguration, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	var out *fnConfig
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err != nil {
			return err
		}
		c, ok, err := loadVersion(tx, r, latest)
		if err != nil {
			return err
		}
		if !ok {
			return functionNotFound(r.unqualifiedARN())
		}
		if rev := awsproto.Value(in.RevisionId); rev != "" && rev != c.RevisionID {
			return revisionMismatch("GetFunction/GetAlias")
		}
		if err := applyConfig(c, configChange{
			Runtime: in.Runtime, Handler: in.Handler, Role: in.Role, Description: in.Description,
			MemorySize: in.MemorySize, Timeout: in.Timeout, Environment: in.Environment, EphemeralStorage: in.EphemeralStorage,
			DeadLetterConfig: in.DeadLetterConfig, TracingConfig: in.TracingConfig, Layers: in.Layers, KMSKeyArn: in.KMSKeyArn,
			VpcConfig: in.VpcConfig, LoggingConfig: in.LoggingConfig,
		}); err != nil {
			return err
		}
		if slices.Contains(deprecatedRuntimes, c.Runtime) {
			// A function on a deprecated runtime can only be moved to a supported one.
			return deprecatedRuntime(c.Runtime)
		}
		if in.Role != nil {
			if err := s.checkRoleAccount(ctx, r.account, c.Role); err != nil {
				return err
			}
		}
		if in.DeadLetterConfig != nil {
			if err := s.checkDeadLetterDelivery(c.DeadLetterTarget); err != nil {
				return err
			}
		}
		s.markUpdating(c)
		out = c
		if err := saveVersion(tx, r, c); err != nil {
			return err
		}
		return s.enqueueSettle(tx, r)
	})
	if err != nil {
		return nil, err
	}
	s.drain(r)
	cfg := out.render(r, false)
	return &cfg, nil
}

func (s *Service) deleteFunction(ctx context.Context, in *DeleteFunctionRequest) (*DeleteFunctionResponse, error) {
	r, err := s.ref(ctx, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	switch {
	case r.qualifier == latest:
		return nil, invalidParameter("$LATEST version cannot be deleted without deleting the function.")
	case r.qualifier != "" && !isVersionNumber(r.qualifier):
		return nil, invalidParameter("Deletion of aliases is not currently supported.")
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		if _, err := loadFunction(tx, r); err != nil {
			return err
		}
		if r.qualifier != "" {
			return s.deleteVersion(tx, r)
		}
		return s.deleteWholeFunction(tx, r)
	})
	if err != nil {
		return nil, err
	}
	s.drain(r)
	if r.qualifier == "" {
		s.functionDeleted.fire()
	}
	return &DeleteFunctionResponse{StatusCode: ptr(int32(204))}, nil
}

// deleteVersion removes one published version, refusing while aliases point at it.
func (s *Service) deleteVersion(tx *store.Tx, r funcRef) error {
	c, ok, err := loadVersion(tx, r, r.qualifier)
	if err != nil {
		return err
	}
	if !ok {
		return nil // AWS answers success for a version that is already gone
	}
	aliases, err := aliasesOf(tx, r, r.qualifier)
	if err != nil {
		return err
	}
	if len(aliases) > 0 {
		return conflict("Unable to delete version because the following aliases reference it: %v", aliases)
	}
	for _, q := range []string{
		`DELETE FROM lambda_versions WHERE account = ? AND region = ? AND name = ? AND version_num = ?`,
	} {
		if _, err := tx.Exec(q, r.account, r.region, r.name, versionNum(r.qualifier)); err != nil {
			return fmt.Errorf("delete version: %w", err)
		}
	}
	for _, table := range []string{"lambda_policies", "lambda_invoke_configs"} {
		if _, err := tx.Exec(`DELETE FROM `+table+` WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
			r.account, r.region, r.name, r.qualifier); err != nil {
			return fmt.Errorf("delete version: %w", err)
		}
	}
	return s.releaseCode(tx, c.CodeSha)
}

// deleteWholeFunction removes a function with every version, alias and setting it has.
func (s *Service) deleteWholeFunction(tx *store.Tx, r funcRef) error {
	rows, err := tx.Query(`SELECT DISTINCT code_sha FROM lambda_versions WHERE account = ? AND region = ? AND name = ?`, r.account, r.region, r.name)
	if err != nil {
		return err
	}
	var shas []string
	for rows.Next() {
		var sha string
		if err := rows.Scan(&sha); err != nil {
			rows.Close()
			return err
		}
		shas = append(shas, sha)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, table := range []string{"lambda_functions", "lambda_versions", "lambda_aliases", "lambda_policies", "lambda_invoke_configs", "lambda_urls"} {
		if _, err := tx.Exec(`DELETE FROM `+table+` WHERE account = ? AND region = ? AND name = ?`, r.account, r.region, r.name); err != nil {
			return fmt.Errorf("delete function: %w", err)
		}
	}
	for _, sha := range shas {
		if err := s.releaseCode(tx, sha); err != nil {
			return err
		}
	}
	return nil
}

// markUpdating puts $LATEST into the InProgress update state with a new revision.
func (s *Service) markUpdating(c *fnConfig) {
	c.RevisionID = newRevisionID()
	c.LastModified = s.now()
	c.LastUpdateStatus, c.LastUpdateStatusReason, c.LastUpdateStatusReasonCode = updateInProgress, "The function is being created.", "Creating"
}

func isNotFound(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == codeNotFound
}

// scanConfigs reads (name, version_num, config) rows: up to max go to each, and when one more
// row exists, next is called with the last one returned.
func scanConfigs(rows *sql.Rows, max int, each func(name string, num int64, c *fnConfig), next func(name string, num int64)) error {
	defer rows.Close()
	n := 0
	var lastName string
	var lastNum int64
	for rows.Next() {
		var name, body string
		var num int64
		if err := rows.Scan(&name, &num, &body); err != nil {
			return err
		}
		if n == max {
			next(lastName, lastNum)
			break
		}
		c, err := decodeConfig(body)
		if err != nil {
			return err
		}
		each(name, num, c)
		lastName, lastNum = name, num
		n++
	}
	return rows.Err()
}
