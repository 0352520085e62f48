package apigateway

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/kiri-run/kiri/internal/store"
)

// Invoke URLs read an API, its stage and the stage's deployment on every request. Those
// documents change only through the control plane, so the request path keeps what it read in
// memory until a write to the API says otherwise: every write of an API's rows announces the
// API id on changedTopic when it commits (to this process and, on PostgreSQL, to every node),
// and the announcement drops that API's entry. A read that raced a write is never kept: entries
// are stored only when no announcement arrived since the read began.
const changedTopic = "apigateway.changed"

// maxMissedStages bounds the stage names an API's entry remembers as absent (request paths
// choose them), so arbitrary paths cannot grow the cache.
const maxMissedStages = 64

// deployedCache holds what invoke URLs read, per API id.
type deployedCache struct {
	mu   sync.Mutex
	gen  atomic.Uint64 // bumped by every announcement
	apis map[string]*cachedAPI
}

// cachedAPI is one API's entry: the API (nil when there is none or its invoke URLs are off)
// and the stages looked up so far, by name.
type cachedAPI struct {
	api    *Api
	sc     scope
	stages map[string]*cachedStage
}

// cachedStage is a stage and its deployment; nil when the API has no such deployed stage.
type cachedStage struct {
	stage    Stage
	deployed snapshot
}

// watch drops entries as announcements of writes arrive; an empty payload (a PostgreSQL
// listener that reconnected) drops everything.
func (c *deployedCache) watch(st *store.Store) {
	st.Subscribe(changedTopic, func(apiID string) {
		c.gen.Add(1)
		c.mu.Lock()
		if apiID == "" {
			c.apis = nil
		} else {
			delete(c.apis, apiID)
		}
		c.mu.Unlock()
	})
}

// changed announces, when tx commits, that an API's rows changed.
func changed(tx *store.Tx, apiID string) { tx.Notify(changedTopic, apiID) }

// api returns the entry of an API, or loads it with load and keeps it unless a write was
// announced meanwhile.
func (c *deployedCache) api(apiID string, load func() (*Api, scope, error)) (*cachedAPI, error) {
	c.mu.Lock()
	e := c.apis[apiID]
	c.mu.Unlock()
	if e != nil {
		return e, nil
	}
	gen := c.gen.Load()
	a, sc, err := load()
	if err != nil {
		return nil, err
	}
	e = &cachedAPI{api: a, sc: sc, stages: map[string]*cachedStage{}}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen {
		if c.apis == nil {
			c.apis = map[string]*cachedAPI{}
		}
		c.apis[apiID] = e
	}
	return e, nil
}

// stage returns an API's deployed stage by name (nil when there is none), or loads it with load
// and keeps it as api does.
func (c *deployedCache) stage(e *cachedAPI, name string, load func() (*cachedStage, error)) (*cachedStage, error) {
	c.mu.Lock()
	cs, ok := e.stages[name]
	c.mu.Unlock()
	if ok {
		return cs, nil
	}
	gen := c.gen.Load()
	cs, err := load()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen.Load() == gen && (cs != nil || len(e.stages) < maxMissedStages) {
		e.stages[name] = cs
	}
	return cs, nil
}

// deployedStage reads a stage and the deployment it points at; nil when either is missing.
func (s *Service) deployedStage(ctx context.Context, sc scope, apiID, name string) (*cachedStage, error) {
	q := storeRow(ctx, s.st)
	var cs cachedStage
	found, err := getDoc(q, sc, apiID, kindStage, name, &cs.stage)
	if err != nil || !found || cs.stage.DeploymentId == nil {
		return nil, err
	}
	found, err = getDoc(q, sc, apiID, kindDeployment, *cs.stage.DeploymentId, &cs.deployed)
	if err != nil || !found {
		return nil, err
	}
	return &cs, nil
}
