package lambda

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerURLOps() {
	awsproto.Handle(s.api, "CreateFunctionUrlConfig", s.createURLConfig)
	awsproto.Handle(s.api, "GetFunctionUrlConfig", s.getURLConfig)
	awsproto.Handle(s.api, "UpdateFunctionUrlConfig", s.updateURLConfig)
	awsproto.Handle(s.api, "DeleteFunctionUrlConfig", s.deleteURLConfig)
	awsproto.Handle(s.api, "ListFunctionUrlConfigs", s.listURLConfigs)
}

// urlConfig is a function URL: its id (the host label) and how it is served.
type urlConfig struct {
	ID         string    `json:"id"`
	Qualifier  string    `json:"qualifier,omitempty"`
	AuthType   string    `json:"authType"`
	InvokeMode string    `json:"invokeMode"`
	Cors       *Cors     `json:"cors,omitempty"`
	Created    time.Time `json:"created"`
	Modified   time.Time `json:"modified"`
}

// urlTime formats times as function URL configs show them.
func urlTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// newURLID returns 32 random lower-case letters and digits.
func newURLID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 32)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Service) functionURL(id, region string) string {
	if s.deps.URLBase != nil {
		return s.deps.URLBase(id, region)
	}
	return "http://" + id + ".lambda-url." + region + ".localhost:4566/"
}

func (s *Service) renderURL(r funcRef, u *urlConfig) FunctionUrlConfig {
	return FunctionUrlConfig{
		AuthType:         ptr(u.AuthType),
		Cors:             u.Cors,
		CreationTime:     ptr(urlTime(u.Created)),
		LastModifiedTime: ptr(urlTime(u.Modified)),
		FunctionArn:      ptr(qualifiedARN(r.account, r.region, r.name, u.Qualifier)),
		FunctionUrl:      ptr(s.functionURL(u.ID, r.region)),
		InvokeMode:       ptr(u.InvokeMode),
	}
}

// urlRef resolves the function (and alias) a URL config request addresses; URLs belong to the
// unqualified function or to an alias, which must exist.
func (s *Service) urlRef(ctx context.Context, q rowQuerier, name, qualifier *string) (funcRef, error) {
	r, err := s.ref(ctx, name, qualifier)
	if err != nil {
		return r, err
	}
	if r.qualifier == latest || isVersionNumber(r.qualifier) {
		return r, validation(fmt.Sprintf("Value '%s' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((?!^\\d+$)^[0-9a-zA-Z-_]+$)", r.qualifier))
	}
	if _, _, err := loadQualified(q, r, true); err != nil {
		return r, err
	}
	return r, nil
}

func loadURL(q rowQuerier, r funcRef) (*urlConfig, bool, error) {
	return loadJSONRow[urlConfig](q, "function url", `SELECT body FROM lambda_urls WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
		r.account, r.region, r.name, r.qualifier)
}

func saveURL(tx txExec, r funcRef, u *urlConfig) error {
	body, err := json.Marshal(u)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_urls (url_id, account, region, name, qualifier, body) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (url_id) DO UPDATE SET body = excluded.body`,
		u.ID, r.account, r.region, r.name, r.qualifier, string(body))
	if err != nil {
		return fmt.Errorf("save function url: %w", err)
	}
	return nil
}

func urlNotFound() error { return notFound("The resource you requested does not exist.") }

func (s *Service) createURLConfig(ctx context.Context, in *CreateFunctionUrlConfigRequest) (*CreateFunctionUrlConfigResponse, error) {
	var out FunctionUrlConfig
	err := s.write(ctx, func(tx *store.Tx) error {
		r, err := s.urlRef(ctx, tx, in.FunctionName, in.Qualifier)
		if err != nil {
			return err
		}
		if _, ok, err := loadURL(tx, r); err != nil {
			return err
		} else if ok {
			return conflict("Failed to create function url config for [functionArn = %s]. Error message:  FunctionUrlConfig exists for this Lambda function", r.arn())
		}
		now := s.now()
		u := &urlConfig{ID: newURLID(), Qualifier: r.qualifier, AuthType: awsproto.Value(in.AuthType),
			InvokeMode: orDefault(awsproto.Value(in.InvokeMode), "BUFFERED"), Cors: in.Cors, Created: now, Modified: now}
		out = s.renderURL(r, u)
		return saveURL(tx, r, u)
	})
	if err != nil {
		return nil, err
	}
	return &CreateFunctionUrlConfigResponse{AuthType: out.AuthType, Cors: out.Cors, CreationTime: out.CreationTime,
		FunctionArn: out.FunctionArn, FunctionUrl: out.FunctionUrl, InvokeMode: out.InvokeMode}, nil
}

func (s *Service) getURLConfig(ctx context.Context, in *GetFunctionUrlConfigRequest) (*GetFunctionUrlConfigResponse, error) {
	q := s.reader(ctx)
	r, err := s.urlRef(ctx, q, in.FunctionName, in.Qualifier)
	if err != nil {
		return nil, err
	}
	u, ok, err := loadURL(q, r)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, urlNotFound()
	}
	o := s.renderURL(r, u)
	return &GetFunctionUrlConfigResponse{AuthType: o.AuthType, Cors: o.Cors, CreationTime: o.CreationTime, FunctionArn: o.FunctionArn,
		FunctionUrl: o.FunctionUrl, InvokeMode: o.InvokeMode, LastModifiedTime: o.LastModifiedTime}, nil
}

func (s *Service) updateURLConfig(ctx context.Context, in *UpdateFunctionUrlConfigRequest) (*UpdateFunctionUrlConfigResponse, error) {
	var o FunctionUrlConfig
	err := s.write(ctx, func(tx *store.Tx) error {
		r, err := s.urlRef(ctx, tx, in.FunctionName, in.Qualifier)
		if err != nil {
			return err
		}
		u, ok, err := loadURL(tx, r)
		if err != nil {
			return err
		}
		if !ok {
			return urlNotFound()
		}
		if in.AuthType != nil {
			u.AuthType = *in.AuthType
		}
		if in.InvokeMode != nil {
			u.InvokeMode = *in.InvokeMode
		}
		if in.Cors != nil {
			u.Cors = in.Cors
		}
		u.Modified = s.now()
		o = s.renderURL(r, u)
		return saveURL(tx, r, u)
	})
	if err != nil {
		return nil, err
	}
	return &UpdateFunctionUrlConfigResponse{AuthType: o.AuthType, Cors: o.Cors, CreationTime: o.CreationTime, FunctionArn: o.FunctionArn,
		FunctionUrl: o.FunctionUrl, InvokeMode: o.InvokeMode, LastModifiedTime: o.LastModifiedTime}, nil
}

func (s *Service) deleteURLConfig(ctx context.Context, in *DeleteFunctionUrlConfigRequest) (*struct{}, error) {
	err := s.write(ctx, func(tx *store.Tx) error {
		r, err := s.urlRef(ctx, tx, in.FunctionName, in.Qualifier)
		if err != nil {
			return err
		}
		res, err := tx.Exec(`DELETE FROM lambda_urls WHERE account = ? AND region = ? AND name = ? AND qualifier = ?`,
			r.account, r.region, r.name, r.qualifier)
		if err != nil {
			return fmt.Errorf("delete function url: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return urlNotFound()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

func (s *Service) listURLConfigs(ctx context.Context, in *ListFunctionUrlConfigsRequest) (*ListFunctionUrlConfigsResponse, error) {
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
	from := "qualifier >= ?" // the unqualified function's URL has qualifier ""
	if in.Marker != nil {
		from = "qualifier > ?"
	}
	rows, err := s.st.Query(ctx, `SELECT qualifier, body FROM lambda_urls WHERE account = ? AND region = ? AND name = ?
		AND `+from+` ORDER BY qualifier LIMIT ?`, r.account, r.region, r.name, after.Name, max+1)
	if err != nil {
		return nil, fmt.Errorf("list function urls: %w", err)
	}
	out := &ListFunctionUrlConfigsResponse{FunctionUrlConfigs: []FunctionUrlConfig{}}
	out.NextMarker, err = scanJSONPage(rows, max, "function url", func(u *urlConfig) {
		out.FunctionUrlConfigs = append(out.FunctionUrlConfigs, s.renderURL(r, u))
	})
	return out, err
}
