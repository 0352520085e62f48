package apigateway

import (
	"context"
	"net/http"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/cors"
	"github.com/kiri-run/kiri/internal/store"
)

// corsConfig is an API's CORS configuration as package cors takes it.
func corsConfig(c *Cors) *cors.Config {
	return &cors.Config{
		AllowCredentials: awsproto.Value(c.AllowCredentials), AllowHeaders: c.AllowHeaders, AllowMethods: c.AllowMethods,
		AllowOrigins: c.AllowOrigins, ExposeHeaders: c.ExposeHeaders, MaxAge: c.MaxAge,
	}
}

// checkCors refuses a CORS configuration API Gateway refuses.
func checkCors(c *Cors) error {
	if c == nil {
		return nil
	}
	if awsproto.Value(c.AllowCredentials) {
		for _, o := range c.AllowOrigins {
			if o == "*" {
				return badRequest("AllowCredentials cannot be true when AllowOrigins includes *")
			}
		}
	}
	if c.MaxAge != nil && (*c.MaxAge < -1 || *c.MaxAge > 86400) {
		return badRequest("MaxAge must be between -1 and 86400 seconds")
	}
	for _, m := range c.AllowMethods {
		if m != "*" && !routeMethods[strings.ToUpper(m)] {
			return badRequest("Invalid method in AllowMethods: %s", m)
		}
	}
	return nil
}

// corsWriter replaces an integration's CORS headers with the API's, as API Gateway does for a
// request from a page of another origin once the API has a CORS configuration.
type corsWriter struct {
	http.ResponseWriter
	cors   *cors.Config
	origin string
	done   bool
}

func (c *corsWriter) WriteHeader(status int) {
	if !c.done {
		c.done = true
		h := c.Header()
		for k := range h {
			if strings.HasPrefix(k, "Access-Control-") {
				delete(h, k)
			}
		}
		c.cors.SetHeaders(h, c.origin)
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *corsWriter) Write(p []byte) (int, error) {
	if !c.done {
		c.WriteHeader(http.StatusOK)
	}
	return c.ResponseWriter.Write(p)
}

// admitsOrigin reports whether the CORS configuration of API apiID lets pages of origin call it.
func (s *Service) admitsOrigin(ctx context.Context, apiID, origin string) bool {
	a, _, err := s.loadAPI(ctx, apiID)
	return err == nil && a != nil && a.CorsConfiguration != nil && corsConfig(a.CorsConfiguration).AllowsOrigin(origin)
}

func (s *Service) deleteCorsConfiguration(ctx context.Context, in *DeleteCorsConfigurationRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := requireAPI(tx.QueryRow, sc, awsproto.Value(in.ApiId))
		if err != nil {
			return err
		}
		a.CorsConfiguration = nil
		return putDoc(tx, sc, *a.ApiId, kindAPI, *a.ApiId, a)
	})
	if err != nil {
		return nil, wrap("delete cors configuration", err)
	}
	return &struct{}{}, nil
}
