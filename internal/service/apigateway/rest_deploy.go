package apigateway

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// restSnapshot is a REST API deployment: its description and the API and resources it froze,
// which are what its stages serve.
type restSnapshot struct {
	restapi.Deployment
	API        restapi.RestApi
	Resources  []restapi.Resource
	Models     []restapi.Model
	Validators []restapi.RequestValidator
}

// restStageName is the characters a REST API stage name may use.
func checkRestStageName(name string) error {
	if name == "" || len(name) > 128 || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
		return badRequest("Stage name only allows a-zA-Z0-9_-")
	}
	return nil
}

// checkStageSettings refuses stage features Kiri does not honour.
func checkStageSettings(cache *bool, tracing *bool, canary bool) error {
	if awsproto.Value(cache) {
		return badRequest("Stage caches are not supported by this server yet")
	}
	if awsproto.Value(tracing) {
		return badRequest("X-Ray tracing is not supported by this server yet")
	}
	if canary {
		return badRequest("Canary settings are not supported by this server yet")
	}
	return nil
}

func (s *RESTService) createDeployment(ctx context.Context, in *restapi.CreateDeploymentRequest) (*restapi.Deployment, error) {
	if err := checkStageSettings(in.CacheClusterEnabled, in.TracingEnabled, in.CanarySettings != nil); err != nil {
		return nil, err
	}
	stage := awsproto.Value(in.StageName)
	if stage != "" {
		if err := checkRestStageName(stage); err != nil {
			return nil, err
		}
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	var snap restSnapshot
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireRestAPI(tx.QueryRow, sc, apiID)
		if err != nil {
			return err
		}
		resources, err := listAll[restapi.Resource](tx.Query, sc, apiID, kindRestResource)
		if err != nil {
			return err
		}
		methods := 0
		for _, r := range resources {
			for name, m := range r.ResourceMethods {
				if m.MethodIntegration == nil {
					return badRequest("No integration defined for method %s %s", name, awsproto.Value(r.Path))
				}
				methods++
			}
		}
		if methods == 0 {
			return badRequest("The REST API doesn't contain any methods")
		}
		models, err := listAll[restapi.Model](tx.Query, sc, apiID, kindRestModel)
		if err != nil {
			return err
		}
		validators, err := listAll[restapi.RequestValidator](tx.Query, sc, apiID, kindRestValidator)
		if err != nil {
			return err
		}
		now := s.now().UTC()
		snap = restSnapshot{Deployment: restapi.Deployment{Id: awsproto.Ptr(newID(6)), CreatedDate: &now, Description: in.Description},
			API: *a, Resources: resources, Models: models, Validators: validators}
		if err := putDoc(tx, sc, apiID, kindRestDeployment, *snap.Id, &snap); err != nil {
			return err
		}
		if stage == "" {
			return nil
		}
		var st restapi.Stage
		ok, err := getDoc(tx.QueryRow, sc, apiID, kindRestStage, stage, &st)
		if err != nil {
			return err
		}
		if !ok {
			st = restapi.Stage{StageName: &stage, CreatedDate: &now, Description: in.StageDescription, Tags: map[string]string{},
				CacheClusterEnabled: awsproto.Ptr(false), CacheClusterStatus: awsproto.Ptr("NOT_AVAILABLE"), TracingEnabled: awsproto.Ptr(false)}
		}
		for k, v := range in.Variables {
			st.Variables = withEntry(st.Variables, k, v)
		}
		st.DeploymentId, st.LastUpdatedDate = snap.Id, &now
		return putDoc(tx, sc, apiID, kindRestStage, stage, &st)
	})
	if err != nil {
		return nil, wrap("create deployment", err)
	}
	return &snap.Deployment, nil
}

// loadDeployment loads a deployment of an existing REST API, or answers NotFoundException.
func loadDeployment(q rowQuery, sc scope, apiID, id string) (*restSnapshot, error) {
	return loadChild[restSnapshot](q, sc, apiID, kindRestDeployment, id, "Deployment")
}

// apiSummary is what a deployment shows with embed=apisummary: each path's methods with their
// authorization type and whether they need an API key.
func (d *restSnapshot) apiSummary() map[string]map[string]restapi.MethodSnapshot {
	out := map[string]map[string]restapi.MethodSnapshot{}
	for _, r := range d.Resources {
		for name, m := range r.ResourceMethods {
			if out[*r.Path] == nil {
				out[*r.Path] = map[string]restapi.MethodSnapshot{}
			}
			out[*r.Path][name] = restapi.MethodSnapshot{AuthorizationType: m.AuthorizationType, ApiKeyRequired: m.ApiKeyRequired}
		}
	}
	return out
}

func (s *RESTService) getDeployment(ctx context.Context, in *restapi.GetDeploymentRequest) (*restapi.Deployment, error) {
	d, err := loadDeployment(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), awsproto.Value(in.DeploymentId))
	if err != nil {
		return nil, wrap("get deployment", err)
	}
	out := d.Deployment
	for _, e := range in.Embed {
		if strings.EqualFold(e, "apisummary") {
			out.ApiSummary = d.apiSummary()
		}
	}
	return &out, nil
}

func (s *RESTService) getDeployments(ctx context.Context, in *restapi.GetDeploymentsRequest) (*restapi.Deployments, error) {
	snaps, next, err := listChildren[restSnapshot](ctx, s.st, awsproto.Value(in.RestApiId), kindRestDeployment, in.Position, in.Limit)
	if err != nil {
		return nil, wrap("get deployments", err)
	}
	out := &restapi.Deployments{Items: make([]restapi.Deployment, len(snaps)), Position: next}
	for i := range snaps {
		out.Items[i] = snaps[i].Deployment
	}
	return out, nil
}

func (s *RESTService) deleteDeployment(ctx context.Context, in *restapi.DeleteDeploymentRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.RestApiId), awsproto.Value(in.DeploymentId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadDeployment(tx.QueryRow, sc, apiID, id); err != nil {
			return err
		}
		stages, err := listAll[restapi.Stage](tx.Query, sc, apiID, kindRestStage)
		if err != nil {
			return err
		}
		for _, st := range stages {
			if awsproto.Value(st.DeploymentId) == id {
				return badRequest("Active stages pointing to this deployment must be moved or deleted")
			}
		}
		return deleteDoc(tx, sc, apiID, kindRestDeployment, id)
	})
	if err != nil {
		return nil, wrap("delete deployment", err)
	}
	return &struct{}{}, nil
}

func (s *RESTService) createStage(ctx context.Context, in *restapi.CreateStageRequest) (*restapi.Stage, error) {
	name := awsproto.Value(in.StageName)
	if err := checkRestStageName(name); err != nil {
		return nil, err
	}
	if err := checkStageSettings(in.CacheClusterEnabled, in.TracingEnabled, in.CanarySettings != nil); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	now := s.now().UTC()
	st := restapi.Stage{StageName: &name, DeploymentId: in.DeploymentId, Description: in.Description, Variables: in.Variables,
		Tags: in.Tags, CreatedDate: &now, LastUpdatedDate: &now, CacheClusterEnabled: awsproto.Ptr(false),
		CacheClusterStatus: awsproto.Ptr("NOT_AVAILABLE"), TracingEnabled: awsproto.Ptr(false), DocumentationVersion: in.DocumentationVersion}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadDeployment(tx.QueryRow, sc, apiID, awsproto.Value(in.DeploymentId)); err != nil {
			return err
		}
		var cur restapi.Stage
		ok, err := getDoc(tx.QueryRow, sc, apiID, kindRestStage, name, &cur)
		if err != nil {
			return err
		}
		if ok {
			return conflict("Stage already exists")
		}
		return putDoc(tx, sc, apiID, kindRestStage, name, &st)
	})
	if err != nil {
		return nil, wrap("create stage", err)
	}
	return &st, nil
}

// loadStage loads a stage of an existing REST API, or answers NotFoundException.
func loadStage(q rowQuery, sc scope, apiID, name string) (*restapi.Stage, error) {
	return loadChild[restapi.Stage](q, sc, apiID, kindRestStage, name, "Stage")
}

func (s *RESTService) getStage(ctx context.Context, in *restapi.GetStageRequest) (*restapi.Stage, error) {
	st, err := loadStage(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.RestApiId), awsproto.Value(in.StageName))
	return st, wrap("get stage", err)
}

func (s *RESTService) getStages(ctx context.Context, in *restapi.GetStagesRequest) (*restapi.Stages, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	if _, err := requireRestAPI(storeRow(ctx, s.st), sc, apiID); err != nil {
		return nil, err
	}
	stages, err := listAll[restapi.Stage](storeRows(ctx, s.st), sc, apiID, kindRestStage)
	if err != nil {
		return nil, wrap("get stages", err)
	}
	out := &restapi.Stages{Item: []restapi.Stage{}}
	for _, st := range stages {
		if in.DeploymentId == nil || awsproto.Value(st.DeploymentId) == *in.DeploymentId {
			out.Item = append(out.Item, st)
		}
	}
	return out, nil
}

func (s *RESTService) updateStage(ctx context.Context, in *restapi.UpdateStageRequest) (*restapi.Stage, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	var st *restapi.Stage
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if st, err = loadStage(tx.QueryRow, sc, apiID, awsproto.Value(in.StageName)); err != nil {
			return err
		}
		for _, p := range in.PatchOperations {
			if err := patchStage(tx, sc, apiID, st, p); err != nil {
				return err
			}
		}
		now := s.now().UTC()
		st.LastUpdatedDate = &now
		return putDoc(tx, sc, apiID, kindRestStage, *st.StageName, st)
	})
	if err != nil {
		return nil, wrap("update stage", err)
	}
	return st, nil
}

// patchStage applies one patch operation to a stage.
func patchStage(tx *store.Tx, sc scope, apiID string, st *restapi.Stage, p restapi.PatchOperation) error {
	op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
	switch {
	case strings.HasPrefix(path, "/variables/"):
		name := patchKey(strings.TrimPrefix(path, "/variables/"))
		switch op {
		case "add", "replace":
			st.Variables = withEntry(st.Variables, name, awsproto.Value(v))
		case "remove":
			delete(st.Variables, name)
		default:
			return badPatch(op, path)
		}
	case op == "replace" && path == "/description":
		st.Description = v
	case op == "replace" && path == "/deploymentId":
		if _, err := loadDeployment(tx.QueryRow, sc, apiID, awsproto.Value(v)); err != nil {
			return err
		}
		st.DeploymentId = v
	case op == "replace" && (path == "/tracingEnabled" || path == "/cacheClusterEnabled"):
		b, err := strconv.ParseBool(awsproto.Value(v))
		if err != nil {
			return badRequest("Invalid value for %s: %s", path, awsproto.Value(v))
		}
		if b {
			return checkStageSettings(awsproto.Ptr(path == "/cacheClusterEnabled"), awsproto.Ptr(path == "/tracingEnabled"), false)
		}
	default:
		return badRequest("%s", fmt.Sprintf("Invalid patch path '%s' specified for op '%s'; this server honours /variables/*, /description and /deploymentId", path, op))
	}
	return nil
}

func (s *RESTService) deleteStage(ctx context.Context, in *restapi.DeleteStageRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.RestApiId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		st, err := loadStage(tx.QueryRow, sc, apiID, awsproto.Value(in.StageName))
		if err != nil {
			return err
		}
		return deleteDoc(tx, sc, apiID, kindRestStage, *st.StageName)
	})
	if err != nil {
		return nil, wrap("delete stage", err)
	}
	return &struct{}{}, nil
}
