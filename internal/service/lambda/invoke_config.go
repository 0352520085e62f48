package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerInvokeConfigOps() {
	awsproto.Handle(s.api, "PutFunctionEventInvokeConfig", s.putEventInvokeConfig)
	awsproto.Handle(s.api, "UpdateFunctionEventInvokeConfig", s.updateEventInvokeConfig)
	awsproto.Handle(s.api, "GetFunctionEventInvokeConfig", s.getEventInvokeConfig)
	awsproto.Handle(s.api, "DeleteFunctionEventInvokeConfig", s.deleteEventInvokeConfig)
	awsproto.Handle(s.api, "ListFunctionEventInvokeConfigs", s.listEventInvokeConfigs)
}

// invokeConfig is a function version's or alias's asynchronous invocation settings.
type invokeConfig struct {
	Qualifier    string    `json:"qualifier"`
	Retries      *int32    `json:"retries,omitempty"`
	MaxAge       *int32    `json:"maxAge,omitempty"`
	OnSuccess    string    `json:"onSuccess,omitempty"`
	OnFailure    string    `json:"onFailure,omitempty"`
	LastModified time.Time `json:"lastModified"`
}

// destinationARN matches the destinations AWS accepts: SQS, SNS, Lambda, EventBridge and S3.
var destinationARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events|s3):[a-z0-9-]*:(\d{12})?:.+$`)

func (c *invokeConfig) render(r funcRef) *FunctionEventInvokeConfig {
	out := &FunctionEventInvokeConfig{
		FunctionArn:              ptr(qualifiedARN(r.account, r.region, r.name, c.Qualifier)),
		LastModified:             ptr(c.LastModified.UTC()),
		MaximumRetryAttempts:     c.Retries,
		MaximumEventAgeInSeconds: c.MaxAge,
		DestinationConfig:        &DestinationConfig{OnSuccess: &OnSuccess{}, OnFailure: &OnFailure{}},
	}
	if c.OnSuccess != "" {
		out.DestinationConfig.OnSuccess.Destination = ptr(c.OnSuccess)
	}
	if c.OnFailure != "" {
		out.DestinationConfig.OnFailure.Destination = ptr(c.OnFailure)
	}
	return out
}

// apply merges the request's settings into c (put replaces: c starts empty).
func (c *invokeConfig) apply(retries, maxAge *int32, dest *DestinationConfig) error {
	if retries != nil {
		c.Retries = retries
	}
	if maxAge != nil {
		c.MaxAge = maxAge
	}
	if dest != nil {
		if dest.OnSuccess != nil {
			c.OnSuccess = awsproto.Value(dest.OnSuccess.Destination)
		}
		if dest.OnFailure != nil {
			c.OnFailure = awsproto.Value(dest.OnFailure.Destination)
		}
	}
	for _, d := range []string{c.OnSuccess, c.OnFailure} {
		if d != "" && !destinationARN.MatchString(d) {
			return invalidParameter("The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=%s), onFailure=OnFailure(destination=%s)) is invalid.", c.OnSuccess, c.OnFailure)
		}
	}
	return nil
}

// invokeTarget resolves the function and qualifier an event invoke config belongs to
// ($LATEST when unqualified), requiring both to exist.
func (s *Service) invokeTarget(ctx context.Context, q rowQuerier, name, qualifier *string) (funcRef, error) {
	r, err := s.ref(ctx, name, qualifier)
	if err != nil {
		return r, err
	}
	if r.qualifier == "" {
		r.qualifier = latest
	}
	if _, _, err := loadQualified(q, r, true); err != nil {
		return r, err
	}
	return r, nil
}

func loadInvokeConfig(q rowQuerier, r funcRef) (*invokeConfig, bool, error) {
	return loadJSONRow[invokeConfig](q, "event invoke config", `SELECT body FROM lambda_invoke_configs WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
		r.account, r.region, r.name, r.qualifier)
}

func saveInvokeConfig(tx txExec, r funcRef, c *invokeConfig) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_invoke_configs (account, region, name, qualifier, body) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name, qualifier) DO UPDATE SET body = excluded.body`,
		r.account, r.region, r.name, r.qualifier, string(body))
	if err != nil {
		return fmt.Errorf("save event invoke config: %w", err)
	}
	return nil
}

func invokeConfigNotFound(r funcRef) error {
	return notFound("The function %s doesn't have an EventInvokeConfig", r.arn())
}

func (s *Service) putEventInvokeConfig(ctx context.Context, in *PutFunctionEventInvokeConfigRequest) (*FunctionEventInvokeConfig, error) {
	return s.writeEventInvokeConfig(ctx, in.FunctionName, in.Qualifier, true, in.MaximumRetryAttempts, in.MaximumEventAgeInSeconds, in.DestinationConfig)
}

func (s *Service) updateEventInvokeConfig(ctx context.Context, in *UpdateFunctionEventInvokeConfigRequest) (*FunctionEventInvokeConfig, error) {
	return s.writeEventInvokeConfig(ctx, in.FunctionName, in.Qualifier, false, in.MaximumRetryAttempts, in.MaximumEventAgeInSeconds, in.DestinationConfig)
}

// writeEventInvokeConfig puts (replace, creating) or updates (merge, existing only) a config.
func (s *Service) writeEventInvokeConfig(ctx context.Context, name, qualifier *string, replace bool, retries, maxAge *int32, dest *DestinationConfig) (*FunctionEventInvokeConfig, error) {
	if retries == nil && maxAge == nil && dest == nil {
		return nil, invalidParameter("You must specify at least one of error handling or destination setting.")
	}
	var out *FunctionEventInvokeConfig
	err := s.write(ctx, func(tx *store.Tx) error {
		r, err := s.invokeTarget(ctx, tx, name, qualifier)
		if err != nil {
			return err
		}
		c := &invokeConfig{Qualifier: r.qualifier}
		if !replace {
			old, ok, err := loadInvokeConfig(tx, r)
			if err != nil {
				return err
			}
			if !ok {
				return invokeConfigNotFound(r)
			}
			c = old
		}
		if err := c.apply(retries, maxAge, dest); err != nil {
			return err
		}
		if err := s.checkDestinations(c.OnSuccess, c.OnFailure); err != nil {
			return err
		}
		c.LastModified = s.now()
		out = c.render(r)
		return saveInvokeConfig(tx, r, c)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) getEventInvokeConfig(ctx context.Context, in *GetFunctionEventInvokeConfigRequest) (*FunctionEventInvokeConfig, error) {
	q := s.reader(ctx)
	r, err := s.invokeTarget(ctx, q, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	c, ok, err := loadInvokeConfig(q, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, invokeConfigNotFound(r)
	}
	return c.render(r), nil
}

func (s *Service) deleteEventInvokeConfig(ctx context.Context, in *DeleteFunctionEventInvokeConfigRequest) (*struct{}, error) {
	err := s.write(ctx, func(tx *store.Tx) error {
		r, err := s.invokeTarget(ctx, tx, in.FunctionName, in.Qualifier)
		if err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM lambda_invoke_configs WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
			r.account, r.region, r.name, r.qualifier)
		if err != nil {
			return fmt.Errorf("delete event invoke config: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return invokeConfigNotFound(r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listEventInvokeConfigs(ctx context.Context, in *ListFunctionEventInvokeConfigsRequest) (*ListFunctionEventInvokeConfigsResponse, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	max, err := maxItems(in.MaxItems, 50)
	if err != nil {
		return nil, err
	}
	var after listMarker
	if m := awsproto.Value(in.Marker); m != "" {
		if after, err = decodeMarker(m); err != nil {
			return nil, err
		}
	}
	if _, err := loadFunction(s.reader(ctx), r); err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, `SELECT qualifier, body FROM lambda_invoke_configs WHERE account = ? AND region = ? AND name = ?
		AND qualifier > ? ORDER BY qualifier LIMIT ?`, r.account, r.region, r.name, after.Name, max+1)
	if err != nil {
		return nil, fmt.Errorf("list event invoke configs: %w", err)
	}
	out := &ListFunctionEventInvokeConfigsResponse{FunctionEventInvokeConfigs: []FunctionEventInvokeConfig{}}
	out.NextMarker, err = scanJSONPage(rows, max, "event invoke config", func(c *invokeConfig) {
		out.FunctionEventInvokeConfigs = append(out.FunctionEventInvokeConfigs, *c.render(r))
	})
	return out, err
}
