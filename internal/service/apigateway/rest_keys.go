package apigateway

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/apigateway/restapi"
	"github.com/kiri-run/kiri/internal/store"
)

// API keys and usage plans belong to the account, not to one API: their rows have an empty
// api_id. A usage plan's keys are rows under the plan's id.
const (
	kindAPIKey       = "apikey"
	kindUsagePlan    = "usageplan"
	kindUsagePlanKey = "usageplankey"
)

func loadAPIKey(q rowQuery, sc scope, id string) (*restapi.ApiKey, error) {
	var k restapi.ApiKey
	ok, err := getDoc(q, sc, "", kindAPIKey, id, &k)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid API Key identifier specified")
	}
	return &k, nil
}

func loadUsagePlan(q rowQuery, sc scope, id string) (*restapi.UsagePlan, error) {
	var p restapi.UsagePlan
	ok, err := getDoc(q, sc, "", kindUsagePlan, id, &p)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid Usage Plan ID specified")
	}
	return &p, nil
}

// hideValue is a key as answers show it unless its value is asked for.
func hideValue(k restapi.ApiKey, show bool) restapi.ApiKey {
	if !show {
		k.Value = nil
	}
	return k
}

func (s *RESTService) createApiKey(ctx context.Context, in *restapi.CreateApiKeyRequest) (*restapi.ApiKey, error) {
	if len(in.StageKeys) > 0 {
		return nil, badRequest("stageKeys are not supported by this server yet; add the key to a usage plan")
	}
	value := awsproto.Value(in.Value)
	if value == "" {
		value = newID(40)
	} else if len(value) < 20 || len(value) > 128 {
		return nil, badRequest("API Key value should be at least 20 characters")
	}
	now := s.now().UTC()
	k := &restapi.ApiKey{Id: awsproto.Ptr(newID(10)), Name: in.Name, Description: in.Description, CustomerId: in.CustomerId,
		Enabled: awsproto.Ptr(awsproto.Value(in.Enabled)), Value: &value, CreatedDate: &now, LastUpdatedDate: &now,
		Tags: in.Tags, StageKeys: []string{}}
	if k.Tags == nil {
		k.Tags = map[string]string{}
	}
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		keys, err := listAll[restapi.ApiKey](tx.Query, sc, "", kindAPIKey)
		if err != nil {
			return err
		}
		for _, x := range keys {
			if awsproto.Value(x.Value) == value {
				return conflict("API Key already exists")
			}
		}
		return putDoc(tx, sc, "", kindAPIKey, *k.Id, k)
	})
	if err != nil {
		return nil, wrap("create api key", err)
	}
	return k, nil
}

func (s *RESTService) getApiKey(ctx context.Context, in *restapi.GetApiKeyRequest) (*restapi.ApiKey, error) {
	k, err := loadAPIKey(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.ApiKey))
	if err != nil {
		return nil, wrap("get api key", err)
	}
	out := hideValue(*k, awsproto.Value(in.IncludeValue))
	return &out, nil
}

func (s *RESTService) getApiKeys(ctx context.Context, in *restapi.GetApiKeysRequest) (*restapi.ApiKeys, error) {
	limit, err := restPage(in.Limit)
	if err != nil {
		return nil, err
	}
	out := &restapi.ApiKeys{Items: []restapi.ApiKey{}}
	keys, err := listAll[restapi.ApiKey](storeRows(ctx, s.st), scopeOf(ctx), "", kindAPIKey)
	if err != nil {
		return nil, wrap("get api keys", err)
	}
	after := awsproto.Value(in.Position)
	for _, k := range keys {
		if *k.Id <= after || in.NameQuery != nil && !strings.HasPrefix(awsproto.Value(k.Name), *in.NameQuery) ||
			in.CustomerId != nil && awsproto.Value(k.CustomerId) != *in.CustomerId {
			continue
		}
		if len(out.Items) == limit {
			out.Position = out.Items[limit-1].Id
			break
		}
		out.Items = append(out.Items, hideValue(k, awsproto.Value(in.IncludeValues)))
	}
	return out, nil
}

func (s *RESTService) updateApiKey(ctx context.Context, in *restapi.UpdateApiKeyRequest) (*restapi.ApiKey, error) {
	sc := scopeOf(ctx)
	var k *restapi.ApiKey
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if k, err = loadAPIKey(tx.QueryRow, sc, awsproto.Value(in.ApiKey)); err != nil {
			return err
		}
		for _, p := range in.PatchOperations {
			op, path, v := awsproto.Value(p.Op), awsproto.Value(p.Path), p.Value
			switch {
			case op == "replace" && path == "/enabled":
				b, err := strconv.ParseBool(awsproto.Value(v))
				if err != nil {
					return badRequest("Invalid value for enabled: %s", awsproto.Value(v))
				}
				k.Enabled = &b
			case op == "replace" && path == "/name":
				k.Name = v
			case op == "replace" && path == "/description":
				k.Description = v
			case op == "replace" && path == "/customerId":
				k.CustomerId = v
			default:
				return badPatch(op, path)
			}
		}
		now := s.now().UTC()
		k.LastUpdatedDate = &now
		return putDoc(tx, sc, "", kindAPIKey, *k.Id, k)
	})
	if err != nil {
		return nil, wrap("update api key", err)
	}
	out := hideValue(*k, false)
	return &out, nil
}

func (s *RESTService) deleteApiKey(ctx context.Context, in *restapi.DeleteApiKeyRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		k, err := loadAPIKey(tx.QueryRow, sc, awsproto.Value(in.ApiKey))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND kind = ? AND id = ?`,
			sc.account, sc.region, kindUsagePlanKey, *k.Id); err != nil {
			return err
		}
		return deleteDoc(tx, sc, "", kindAPIKey, *k.Id)
	})
	if err != nil {
		return nil, wrap("delete api key", err)
	}
	return &struct{}{}, nil
}

// checkUsagePlan refuses what Kiri's usage plans do not honour and API stages that do not exist.
func checkUsagePlan(q rowQuery, sc scope, in *restapi.CreateUsagePlanRequest) error {
	if t := in.Throttle; t != nil && (t.RateLimit != nil && *t.RateLimit < 0 || t.BurstLimit != nil && *t.BurstLimit < 0) {
		return badRequest("Throttle limits must not be negative")
	}
	if qs := in.Quota; qs != nil {
		switch awsproto.Value(qs.Period) {
		case "DAY", "WEEK", "MONTH":
		default:
			return badRequest("Invalid quota period specified: %s", awsproto.Value(qs.Period))
		}
		if awsproto.Value(qs.Limit) <= 0 {
			return badRequest("Quota limit must be greater than 0")
		}
		if awsproto.Value(qs.Offset) != 0 {
			return badRequest("Quota offsets are not supported by this server yet")
		}
	}
	for _, st := range in.ApiStages {
		if len(st.Throttle) > 0 {
			return badRequest("Per-method throttling in usage plans is not supported by this server yet")
		}
		if _, err := loadStage(q, sc, awsproto.Value(st.ApiId), awsproto.Value(st.Stage)); err != nil {
			return badRequest("Invalid stage identifier specified: %s/%s", awsproto.Value(st.ApiId), awsproto.Value(st.Stage))
		}
	}
	return nil
}

func (s *RESTService) createUsagePlan(ctx context.Context, in *restapi.CreateUsagePlanRequest) (*restapi.UsagePlan, error) {
	sc := scopeOf(ctx)
	p := &restapi.UsagePlan{Id: awsproto.Ptr(newID(6)), Name: in.Name, Description: in.Description, ApiStages: in.ApiStages,
		Throttle: in.Throttle, Quota: in.Quota, Tags: in.Tags}
	if p.ApiStages == nil {
		p.ApiStages = []restapi.ApiStage{}
	}
	if p.Tags == nil {
		p.Tags = map[string]string{}
	}
	if p.Quota != nil && p.Quota.Offset == nil {
		p.Quota.Offset = awsproto.Ptr(int32(0))
	}
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if err := checkUsagePlan(tx.QueryRow, sc, in); err != nil {
			return err
		}
		return putDoc(tx, sc, "", kindUsagePlan, *p.Id, p)
	})
	if err != nil {
		return nil, wrap("create usage plan", err)
	}
	return p, nil
}

func (s *RESTService) getUsagePlan(ctx context.Context, in *restapi.GetUsagePlanRequest) (*restapi.UsagePlan, error) {
	p, err := loadUsagePlan(storeRow(ctx, s.st), scopeOf(ctx), awsproto.Value(in.UsagePlanId))
	return p, wrap("get usage plan", err)
}

func (s *RESTService) getUsagePlans(ctx context.Context, in *restapi.GetUsagePlansRequest) (*restapi.UsagePlans, error) {
	limit, err := restPage(in.Limit)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	plans, err := listAll[restapi.UsagePlan](storeRows(ctx, s.st), sc, "", kindUsagePlan)
	if err != nil {
		return nil, wrap("get usage plans", err)
	}
	out := &restapi.UsagePlans{Items: []restapi.UsagePlan{}}
	for _, p := range plans {
		if *p.Id <= awsproto.Value(in.Position) {
			continue
		}
		if in.KeyId != nil {
			var k restapi.UsagePlanKey
			if ok, err := getDoc(storeRow(ctx, s.st), sc, *p.Id, kindUsagePlanKey, *in.KeyId, &k); err != nil || !ok {
				if err != nil {
					return nil, wrap("get usage plans", err)
				}
				continue
			}
		}
		if len(out.Items) == limit {
			out.Position = out.Items[limit-1].Id
			break
		}
		out.Items = append(out.Items, p)
	}
	return out, nil
}

func (s *RESTService) deleteUsagePlan(ctx context.Context, in *restapi.DeleteUsagePlanRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		p, err := loadUsagePlan(tx.QueryRow, sc, awsproto.Value(in.UsagePlanId))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`DELETE FROM apigw_resources WHERE account = ? AND region = ? AND api_id = ? AND kind = ?`,
			sc.account, sc.region, *p.Id, kindUsagePlanKey); err != nil {
			return err
		}
		return deleteDoc(tx, sc, "", kindUsagePlan, *p.Id)
	})
	if err != nil {
		return nil, wrap("delete usage plan", err)
	}
	return &struct{}{}, nil
}

// sharesStage reports an API stage two plans both cover.
func sharesStage(a, b *restapi.UsagePlan) (string, bool) {
	for _, x := range a.ApiStages {
		for _, y := range b.ApiStages {
			if awsproto.Value(x.ApiId) == awsproto.Value(y.ApiId) && awsproto.Value(x.Stage) == awsproto.Value(y.Stage) {
				return awsproto.Value(x.ApiId) + ":" + awsproto.Value(x.Stage), true
			}
		}
	}
	return "", false
}

func (s *RESTService) createUsagePlanKey(ctx context.Context, in *restapi.CreateUsagePlanKeyRequest) (*restapi.UsagePlanKey, error) {
	if awsproto.Value(in.KeyType) != "API_KEY" {
		return nil, badRequest("Invalid key type specified: %s", awsproto.Value(in.KeyType))
	}
	sc := scopeOf(ctx)
	var out *restapi.UsagePlanKey
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		p, err := loadUsagePlan(tx.QueryRow, sc, awsproto.Value(in.UsagePlanId))
		if err != nil {
			return err
		}
		k, err := loadAPIKey(tx.QueryRow, sc, awsproto.Value(in.KeyId))
		if err != nil {
			return err
		}
		plans, err := s.plansOfKey(tx.Query, sc, *k.Id)
		if err != nil {
			return err
		}
		for _, other := range plans {
			if *other.Id == *p.Id {
				return conflict("Usage plan key already exists")
			}
			if stage, ok := sharesStage(p, &other); ok {
				return conflict("Usage Plan %s cannot be added because API Key %s cannot reference multiple Usage Plans with the same API Stage: %s", *p.Id, *k.Id, stage)
			}
		}
		out = &restapi.UsagePlanKey{Id: k.Id, Name: k.Name, Type: awsproto.Ptr("API_KEY")}
		return putDoc(tx, sc, *p.Id, kindUsagePlanKey, *k.Id, out)
	})
	if err != nil {
		return nil, wrap("create usage plan key", err)
	}
	return out, nil
}

// plansOfKey is the usage plans an API key is in.
func (s *RESTService) plansOfKey(q rowsQuery, sc scope, keyID string) ([]restapi.UsagePlan, error) {
	rows, err := q(`SELECT p.doc FROM apigw_resources k JOIN apigw_resources p
		ON p.account = k.account AND p.region = k.region AND p.api_id = '' AND p.kind = ? AND p.id = k.api_id
		WHERE k.account = ? AND k.region = ? AND k.kind = ? AND k.id = ? ORDER BY p.id`,
		kindUsagePlan, sc.account, sc.region, kindUsagePlanKey, keyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []restapi.UsagePlan
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, err
		}
		var p restapi.UsagePlan
		if err := json.Unmarshal([]byte(doc), &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// planKey loads a key of a usage plan, with the key's value, or answers NotFoundException.
func (s *RESTService) planKey(ctx context.Context, planID, keyID string) (*restapi.UsagePlanKey, error) {
	sc := scopeOf(ctx)
	q := storeRow(ctx, s.st)
	if _, err := loadUsagePlan(q, sc, planID); err != nil {
		return nil, err
	}
	var pk restapi.UsagePlanKey
	ok, err := getDoc(q, sc, planID, kindUsagePlanKey, keyID, &pk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFound("Invalid Usage Plan Key identifier specified")
	}
	if k, err := loadAPIKey(q, sc, keyID); err == nil {
		pk.Value, pk.Name = k.Value, k.Name
	}
	return &pk, nil
}

func (s *RESTService) getUsagePlanKey(ctx context.Context, in *restapi.GetUsagePlanKeyRequest) (*restapi.UsagePlanKey, error) {
	pk, err := s.planKey(ctx, awsproto.Value(in.UsagePlanId), awsproto.Value(in.KeyId))
	return pk, wrap("get usage plan key", err)
}

func (s *RESTService) getUsagePlanKeys(ctx context.Context, in *restapi.GetUsagePlanKeysRequest) (*restapi.UsagePlanKeys, error) {
	limit, err := restPage(in.Limit)
	if err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	planID := awsproto.Value(in.UsagePlanId)
	if _, err := loadUsagePlan(storeRow(ctx, s.st), sc, planID); err != nil {
		return nil, err
	}
	out := &restapi.UsagePlanKeys{Items: []restapi.UsagePlanKey{}}
	keys, err := listAll[restapi.UsagePlanKey](storeRows(ctx, s.st), sc, planID, kindUsagePlanKey)
	if err != nil {
		return nil, wrap("get usage plan keys", err)
	}
	for _, k := range keys {
		if *k.Id <= awsproto.Value(in.Position) || in.NameQuery != nil && !strings.HasPrefix(awsproto.Value(k.Name), *in.NameQuery) {
			continue
		}
		if len(out.Items) == limit {
			out.Position = out.Items[limit-1].Id
			break
		}
		pk, err := s.planKey(ctx, planID, *k.Id)
		if err != nil {
			return nil, wrap("get usage plan keys", err)
		}
		out.Items = append(out.Items, *pk)
	}
	return out, nil
}

func (s *RESTService) deleteUsagePlanKey(ctx context.Context, in *restapi.DeleteUsagePlanKeyRequest) (*struct{}, error) {
	sc := scopeOf(ctx)
	planID, keyID := awsproto.Value(in.UsagePlanId), awsproto.Value(in.KeyId)
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := loadUsagePlan(tx.QueryRow, sc, planID); err != nil {
			return err
		}
		var pk restapi.UsagePlanKey
		ok, err := getDoc(tx.QueryRow, sc, planID, kindUsagePlanKey, keyID, &pk)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("Invalid Usage Plan Key identifier specified")
		}
		return deleteDoc(tx, sc, planID, kindUsagePlanKey, keyID)
	})
	if err != nil {
		return nil, wrap("delete usage plan key", err)
	}
	return &struct{}{}, nil
}

// usage is the request counts and token buckets of (usage plan, API key) pairs, in memory:
// throttling and quotas are enforced by this Kiri process.
type usage struct {
	throttles throttles
	mu        sync.Mutex
	quotas    map[string]*quotaCount
}

type quotaCount struct {
	period time.Time
	n      int32
}

// periodStart is the start of the quota period holding t: the UTC day, the week from Monday,
// or the month.
func periodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case "WEEK":
		return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	case "MONTH":
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}

// admit counts one request of key under plan at now, reporting the answer that refuses it:
// "Too Many Requests" when the plan's throttle has no token left, "Limit Exceeded" when its
// quota for the period is used up; "" admits it.
func (u *usage) admit(plan *restapi.UsagePlan, keyID string, now time.Time) string {
	id := *plan.Id + "/" + keyID
	if t := plan.Throttle; t != nil && (t.RateLimit != nil || t.BurstLimit != nil) {
		rate, burst := awsproto.Value(t.RateLimit), int(awsproto.Value(t.BurstLimit))
		if burst == 0 {
			burst = int(math.Max(1, math.Ceil(rate)))
		}
		if !u.throttles.allow(throttleKey{apiID: *plan.Id, stage: keyID}, rate, burst, now) {
			return "Too Many Requests"
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if q := plan.Quota; q != nil {
		if u.quotas == nil {
			u.quotas = map[string]*quotaCount{}
		}
		start := periodStart(awsproto.Value(q.Period), now)
		c := u.quotas[id]
		if c == nil || !c.period.Equal(start) {
			c = &quotaCount{period: start}
			u.quotas[id] = c
		}
		if c.n >= awsproto.Value(q.Limit) {
			return "Limit Exceeded"
		}
		c.n++
	}
	return ""
}

// checkAPIKey admits a request to a method that requires an API key: the x-api-key header
// must hold the value of an enabled key in a usage plan covering the stage, within that plan's
// throttle and quota. It returns the refusal's status and message, or 0.
func (s *RESTService) checkAPIKey(ctx context.Context, c *restCall) (int, string, error) {
	value := c.r.Header.Get("X-Api-Key")
	if value == "" {
		return 403, "Forbidden", nil
	}
	keys, err := listAll[restapi.ApiKey](storeRows(ctx, s.st), c.sc, "", kindAPIKey)
	if err != nil {
		return 0, "", err
	}
	var key *restapi.ApiKey
	for i := range keys {
		if awsproto.Value(keys[i].Value) == value && awsproto.Value(keys[i].Enabled) {
			key = &keys[i]
		}
	}
	if key == nil {
		return 403, "Forbidden", nil
	}
	plans, err := s.plansOfKey(storeRows(ctx, s.st), c.sc, *key.Id)
	if err != nil {
		return 0, "", err
	}
	stage := awsproto.Value(c.stage.StageName)
	for i := range plans {
		for _, st := range plans[i].ApiStages {
			if awsproto.Value(st.ApiId) == c.apiID && awsproto.Value(st.Stage) == stage {
				if msg := s.usage.admit(&plans[i], *key.Id, s.now()); msg != "" {
					return 429, msg, nil
				}
				return 0, "", nil
			}
		}
	}
	return 403, "Forbidden", nil
}
