package apigateway

import (
	"context"
	"encoding/json"
	"regexp"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

const (
	defaultStage = "$default"
	defaultRoute = "$default"
)

var stageName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// snapshot is a deployment: its description, and the routes, integrations and authorizers it
// froze.
type snapshot struct {
	Deployment
	Routes         []Route
	Integrations   []Integration
	RouteResponses []routeResponse `json:",omitempty"`
	Authorizers    []Authorizer    `json:",omitempty"`
}

// checkStageInput checks access log and route settings, and refuses client certificates, which
// HTTP APIs do not have.
func checkStageInput(sc scope, logs *AccessLogSettings, def *RouteSettings, perRoute map[string]RouteSettings, cert *string) error {
	if err := checkAccessLogs(sc, logs); err != nil {
		return err
	}
	if err := checkRouteSettings(def); err != nil {
		return err
	}
	for _, rs := range perRoute {
		if err := checkRouteSettings(&rs); err != nil {
			return err
		}
	}
	if cert != nil {
		return badRequest("Client certificates are not supported for HTTP APIs")
	}
	return nil
}

// setRouteSettings merges a CreateStage or UpdateStage call's route settings into st.
func setRouteSettings(st *Stage, def *RouteSettings, perRoute map[string]RouteSettings) {
	if def != nil {
		mergeRouteSettings(st.DefaultRouteSettings, def)
	}
	for k, in := range perRoute {
		rs := st.RouteSettings[k]
		mergeRouteSettings(&rs, &in)
		st.RouteSettings[k] = rs
	}
}

// deployInto creates a deployment of the API's current routes and integrations and points st
// at it, then stores st. description describes the deployment; auto marks AutoDeploy's.
func (s *Service) deployInto(tx *store.Tx, sc scope, apiID string, st *Stage, description *string, auto bool) error {
	d, err := s.deploy(tx, sc, apiID, description, auto)
	if err != nil {
		return err
	}
	now := s.now().UTC()
	st.DeploymentId, st.LastUpdatedDate = d.DeploymentId, &now
	if auto {
		st.LastDeploymentStatusMessage = awsproto.Ptr("Successfully deployed stage with deployment ID '" + *d.DeploymentId + "'")
	}
	return putDoc(tx, sc, apiID, kindStage, *st.StageName, st)
}

// deploy freezes the API's routes and integrations in a new deployment.
func (s *Service) deploy(tx *store.Tx, sc scope, apiID string, description *string, auto bool) (*Deployment, error) {
	routes, err := listAll[Route](tx.Query, sc, apiID, kindRoute)
	if err != nil {
		return nil, err
	}
	integrations, err := listAll[Integration](tx.Query, sc, apiID, kindIntegration)
	if err != nil {
		return nil, err
	}
	responses, err := listAll[routeResponse](tx.Query, sc, apiID, kindRouteResponse)
	if err != nil {
		return nil, err
	}
	authorizers, err := listAll[Authorizer](tx.Query, sc, apiID, kindAuthorizer)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	snap := snapshot{
		Deployment: Deployment{
			DeploymentId: awsproto.Ptr(newID(6)), CreatedDate: &now, DeploymentStatus: awsproto.Ptr("DEPLOYED"),
			Description: description, AutoDeployed: awsproto.Ptr(auto),
		},
		Routes: routes, Integrations: integrations, RouteResponses: responses, Authorizers: authorizers,
	}
	if err := putDoc(tx, sc, apiID, kindDeployment, *snap.DeploymentId, &snap); err != nil {
		return nil, err
	}
	return &snap.Deployment, nil
}

// autoDeploy deploys the API's current configuration into each of its AutoDeploy stages.
func (s *Service) autoDeploy(tx *store.Tx, sc scope, apiID string) error {
	stages, err := listAll[Stage](tx.Query, sc, apiID, kindStage)
	if err != nil {
		return err
	}
	for i := range stages {
		if awsproto.Value(stages[i].AutoDeploy) {
			if err := s.deployInto(tx, sc, apiID, &stages[i], nil, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDeployment requires a deployment of the API.
func checkDeployment(tx *store.Tx, sc scope, apiID, id string) error {
	var d snapshot
	ok, err := getDoc(tx.QueryRow, sc, apiID, kindDeployment, id, &d)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Invalid Deployment identifier specified %s:%s:%s", sc.account, apiID, id)
	}
	return nil
}

func (s *Service) createStage(ctx context.Context, in *CreateStageRequest) (*CreateStageResponse, error) {
	name := awsproto.Value(in.StageName)
	if name != defaultStage && !stageName.MatchString(name) {
		return nil, badRequest("Stage name only allows a-zA-Z0-9_- and must be between 1 and 128 characters, or be $default")
	}
	sc := scopeOf(ctx)
	if err := checkStageInput(sc, in.AccessLogSettings, in.DefaultRouteSettings, in.RouteSettings, in.ClientCertificateId); err != nil {
		return nil, err
	}
	apiID := awsproto.Value(in.ApiId)
	now := s.now().UTC()
	st := Stage{
		StageName: &name, AutoDeploy: awsproto.Ptr(awsproto.Value(in.AutoDeploy)), CreatedDate: &now, LastUpdatedDate: &now,
		Description: in.Description, DeploymentId: in.DeploymentId, StageVariables: in.StageVariables, Tags: in.Tags,
		AccessLogSettings:    in.AccessLogSettings,
		DefaultRouteSettings: &RouteSettings{DetailedMetricsEnabled: awsproto.Ptr(false)}, RouteSettings: map[string]RouteSettings{},
		ApiGatewayManaged: awsproto.Ptr(false),
	}
	if st.StageVariables == nil {
		st.StageVariables = map[string]string{}
	}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	setRouteSettings(&st, in.DefaultRouteSettings, in.RouteSettings)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		if err := checkRouteKeys(tx, sc, apiID, in.RouteSettings); err != nil {
			return err
		}
		var old Stage
		if ok, err := getDoc(tx.QueryRow, sc, apiID, kindStage, name, &old); err != nil || ok {
			if ok {
				return conflict("Stage already exists")
			}
			return err
		}
		if in.DeploymentId != nil {
			if err := checkDeployment(tx, sc, apiID, *in.DeploymentId); err != nil {
				return err
			}
		}
		if *st.AutoDeploy {
			return s.deployInto(tx, sc, apiID, &st, nil, true)
		}
		return putDoc(tx, sc, apiID, kindStage, name, &st)
	})
	if err != nil {
		return nil, wrap("create stage", err)
	}
	return (*CreateStageResponse)(&st), nil
}

func (s *Service) getStage(ctx context.Context, in *GetStageRequest) (*GetStageResponse, error) {
	var st Stage
	if err := requireStage(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), awsproto.Value(in.StageName), &st); err != nil {
		return nil, wrap("get stage", err)
	}
	return (*GetStageResponse)(&st), nil
}

// requireStage loads a stage of an existing API, or answers NotFoundException.
func requireStage(q rowQuery, sc scope, apiID, name string, st *Stage) error {
	if _, err := requireAPI(q, sc, apiID); err != nil {
		return err
	}
	ok, err := getDoc(q, sc, apiID, kindStage, name, st)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("Invalid stage identifier specified")
	}
	return nil
}

func (s *Service) getStages(ctx context.Context, in *GetStagesRequest) (*GetStagesResponse, error) {
	out := &GetStagesResponse{Items: []Stage{}}
	next, err := s.page(ctx, awsproto.Value(in.ApiId), kindStage, in.MaxResults, in.NextToken, func(doc []byte) error {
		var st Stage
		err := json.Unmarshal(doc, &st)
		out.Items = append(out.Items, st)
		return err
	})
	out.NextToken = next
	return out, wrap("get stages", err)
}

func (s *Service) updateStage(ctx context.Context, in *UpdateStageRequest) (*UpdateStageResponse, error) {
	sc := scopeOf(ctx)
	if err := checkStageInput(sc, in.AccessLogSettings, in.DefaultRouteSettings, in.RouteSettings, in.ClientCertificateId); err != nil {
		return nil, err
	}
	apiID, name := awsproto.Value(in.ApiId), awsproto.Value(in.StageName)
	var st Stage
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := requireStage(tx.QueryRow, sc, apiID, name, &st); err != nil {
			return err
		}
		if in.DeploymentId != nil {
			if awsproto.Value(st.AutoDeploy) && !awsproto.Value(in.AutoDeploy) {
				return badRequest("Cannot set a deployment on a stage with AutoDeploy enabled")
			}
			if err := checkDeployment(tx, sc, apiID, *in.DeploymentId); err != nil {
				return err
			}
		}
		wasAuto := awsproto.Value(st.AutoDeploy)
		set(&st.AutoDeploy, in.AutoDeploy)
		set(&st.Description, in.Description)
		set(&st.DeploymentId, in.DeploymentId)
		set(&st.AccessLogSettings, in.AccessLogSettings)
		if err := checkRouteKeys(tx, sc, apiID, in.RouteSettings); err != nil {
			return err
		}
		stageDefaults(&st)
		setRouteSettings(&st, in.DefaultRouteSettings, in.RouteSettings)
		if in.StageVariables != nil {
			for k, v := range in.StageVariables {
				if v == "" {
					delete(st.StageVariables, k)
				} else {
					st.StageVariables[k] = v
				}
			}
		}
		now := s.now().UTC()
		st.LastUpdatedDate = &now
		if awsproto.Value(st.AutoDeploy) && !wasAuto {
			return s.deployInto(tx, sc, apiID, &st, nil, true)
		}
		return putDoc(tx, sc, apiID, kindStage, name, &st)
	})
	if err != nil {
		return nil, wrap("update stage", err)
	}
	return (*UpdateStageResponse)(&st), nil
}

func (s *Service) deleteStage(ctx context.Context, in *DeleteStageRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, name := awsproto.Value(in.ApiId), awsproto.Value(in.StageName)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var st Stage
		if err := requireStage(tx.QueryRow, sc, apiID, name, &st); err != nil {
			return err
		}
		return deleteDoc(tx, sc, apiID, kindStage, name)
	})
	if err != nil {
		return nil, wrap("delete stage", err)
	}
	s.throttles.forget(apiID, name)
	return &struct{}{}, nil
}

// stageDefaults gives a stage stored before route settings were kept its empty settings.
func stageDefaults(st *Stage) {
	if st.DefaultRouteSettings == nil {
		st.DefaultRouteSettings = &RouteSettings{DetailedMetricsEnabled: awsproto.Ptr(false)}
	}
	if st.RouteSettings == nil {
		st.RouteSettings = map[string]RouteSettings{}
	}
}

func (s *Service) deleteRouteSettings(ctx context.Context, in *DeleteRouteSettingsRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, name, key := awsproto.Value(in.ApiId), awsproto.Value(in.StageName), awsproto.Value(in.RouteKey)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var st Stage
		if err := requireStage(tx.QueryRow, sc, apiID, name, &st); err != nil {
			return err
		}
		if _, ok := st.RouteSettings[key]; !ok {
			return notFound("Unable to find route settings for route key %s", key)
		}
		delete(st.RouteSettings, key)
		now := s.now().UTC()
		st.LastUpdatedDate = &now
		return putDoc(tx, sc, apiID, kindStage, name, &st)
	})
	if err != nil {
		return nil, wrap("delete route settings", err)
	}
	return &struct{}{}, nil
}

func (s *Service) createDeployment(ctx context.Context, in *CreateDeploymentRequest) (*CreateDeploymentResponse, error) {
	sc := scopeOf(ctx)
	apiID := awsproto.Value(in.ApiId)
	var d *Deployment
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := requireAPI(tx.QueryRow, sc, apiID); err != nil {
			return err
		}
		var st Stage
		if in.StageName != nil {
			if err := requireStage(tx.QueryRow, sc, apiID, *in.StageName, &st); err != nil {
				return err
			}
			if awsproto.Value(st.AutoDeploy) {
				return badRequest("The stage %s has AutoDeploy enabled: deployments to it are made automatically", *in.StageName)
			}
		}
		var err error
		if d, err = s.deploy(tx, sc, apiID, in.Description, false); err != nil {
			return err
		}
		if in.StageName == nil {
			return nil
		}
		now := s.now().UTC()
		st.DeploymentId, st.LastUpdatedDate = d.DeploymentId, &now
		return putDoc(tx, sc, apiID, kindStage, *in.StageName, &st)
	})
	if err != nil {
		return nil, wrap("create deployment", err)
	}
	return (*CreateDeploymentResponse)(d), nil
}

func (s *Service) getDeployment(ctx context.Context, in *GetDeploymentRequest) (*GetDeploymentResponse, error) {
	var d snapshot
	if err := requireDoc(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiId), kindDeployment, awsproto.Value(in.DeploymentId), "Deployment", &d); err != nil {
		return nil, wrap("get deployment", err)
	}
	return (*GetDeploymentResponse)(&d.Deployment), nil
}

func (s *Service) getDeployments(ctx context.Context, in *GetDeploymentsRequest) (*GetDeploymentsResponse, error) {
	out := &GetDeploymentsResponse{Items: []Deployment{}}
	next, err := s.page(ctx, awsproto.Value(in.ApiId), kindDeployment, in.MaxResults, in.NextToken, func(doc []byte) error {
		var d snapshot
		err := json.Unmarshal(doc, &d)
		out.Items = append(out.Items, d.Deployment)
		return err
	})
	out.NextToken = next
	return out, wrap("get deployments", err)
}

func (s *Service) deleteDeployment(ctx context.Context, in *DeleteDeploymentRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	apiID, id := awsproto.Value(in.ApiId), awsproto.Value(in.DeploymentId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var d snapshot
		if err := requireDoc(tx.QueryRow, sc, apiID, kindDeployment, id, "Deployment", &d); err != nil {
			return err
		}
		stages, err := listAll[Stage](tx.Query, sc, apiID, kindStage)
		if err != nil {
			return err
		}
		for _, st := range stages {
			if awsproto.Value(st.DeploymentId) == id {
				return badRequest("Active stages pointing to this deployment must be moved or deleted")
			}
		}
		return deleteDoc(tx, sc, apiID, kindDeployment, id)
	})
	if err != nil {
		return nil, wrap("delete deployment", err)
	}
	return &struct{}{}, nil
}
