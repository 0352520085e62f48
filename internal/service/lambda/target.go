package lambda

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"sort"
)

// target is everything an invocation needs about one resolved function version.
type target struct {
	account, region, name string
	// version is the version that runs: "$LATEST" or "N".
	version string
	// alias is the alias the invocation went through ("" when none).
	alias string
	// invokedARN is the ARN as invoked (qualified when a qualifier was given); functionARN is
	// the unqualified one.
	invokedARN, functionARN string

	runtime, handler, role string
	memoryMB, timeout      int32
	ephemeralMB            int32
	env                    map[string]string
	architecture           string
	logGroup, logFormat    string
	codeSha                string // hex SHA-256 of the zip; codeDir unpacks it
	codeSize               int64
	revisionID             string
	fingerprint            string
	state, lastUpdate      string
	reservedConcurrency    *int
	// noNetwork is set by the function tag kiri:network=none.
	noNetwork bool
	// eventInvokeConfig applies to asynchronous invocations (nil: AWS's defaults, 2 retries and
	// 6 hours).
	eventInvokeConfig *invokeConfig
	deadLetterTarget  string
	// tags are the function's tags.
	tags map[string]string
	// routed is set when an alias with weighted routing picked the version.
	routed bool
}

// poolPrefix is the prefix of every pool key of one function.
func poolPrefix(account, region, name string) string {
	return account + "/" + region + "/" + name + "/"
}

// poolKey changes whenever the code or configuration this version runs with changes; it starts
// with the function's poolPrefix so Drain(prefix) retires a whole function.
func (t *target) poolKey() string {
	key := poolPrefix(t.account, t.region, t.name) + t.version + "@" + t.fingerprint[:16]
	if t.noNetwork {
		key += "+nonet"
	}
	return key
}

// resolve finds the function version an invocation of (name or ARN, qualifier) runs, picking
// an alias's weighted version at random per AWS's routing, and AWS's errors when absent.
func (s *Service) resolve(ctx context.Context, account, region, function, qualifier string) (*target, error) {
	r, ok := parseFunctionName(function)
	if !ok {
		return nil, validation(fmt.Sprintf("Value '%s' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", function, functionNamePattern))
	}
	if qualifier != "" {
		if r.qualifier != "" && r.qualifier != qualifier {
			return nil, invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
		}
		r.qualifier = qualifier
	}
	if r.region != "" && r.region != region {
		return nil, notFound("Functions from '%s' are not reachable in this region ('%s')", r.region, region)
	}
	if r.account != "" && r.account != account {
		return nil, lambdaError("AccessDeniedException", 403, "User is not authorized to access the function %s of account %s", r.name, r.account)
	}
	r.account, r.region = account, region
	if s.targets == nil {
		return s.resolveRef(ctx, s.reader(ctx), r)
	}
	t, gen, ok := s.targets.get(r)
	if ok {
		return t, nil
	}
	t, err := s.resolveRef(ctx, s.reader(ctx), r)
	if err == nil && !t.routed {
		s.targets.put(r, t, gen)
	}
	return t, err
}

func (s *Service) resolveRef(ctx context.Context, q rowQuerier, r funcRef) (*target, error) {
	row, err := loadFunction(q, r)
	if err != nil {
		return nil, err
	}
	c, alias, err := loadQualified(q, r, true)
	if err != nil {
		return nil, err
	}
	t := &target{account: r.account, region: r.region, name: r.name, invokedARN: r.arn(), functionARN: r.unqualifiedARN()}
	if alias != nil {
		t.alias = alias.Name
		t.routed = len(alias.Weights) > 0
		if v := pickWeighted(alias.FunctionVersion, alias.Weights, rand.Float64()); v != alias.FunctionVersion {
			routed, ok, err := loadVersion(q, r, v)
			if err != nil {
				return nil, err
			}
			if ok {
				c = routed
			}
		}
	}
	t.fill(c, row)
	configQualifier := r.qualifier
	if configQualifier == "" {
		configQualifier = latest
	}
	ic, ok, err := loadInvokeConfig(q, funcRef{r.account, r.region, r.name, configQualifier})
	if err != nil {
		return nil, err
	}
	if ok {
		t.eventInvokeConfig = ic
	}
	return t, nil
}

// pickWeighted chooses between an alias's primary version and its one additional version:
// the additional one when roll (uniform in [0,1)) falls below its weight.
func pickWeighted(primary string, weights map[string]float64, roll float64) string {
	versions := make([]string, 0, len(weights))
	for v := range weights {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	acc := 0.0
	for _, v := range versions {
		acc += weights[v]
		if roll < acc {
			return v
		}
	}
	return primary
}

func (t *target) fill(c *fnConfig, row *fnRow) {
	t.version = c.Version
	t.runtime, t.handler, t.role = c.Runtime, c.Handler, c.Role
	t.memoryMB, t.timeout, t.ephemeralMB = c.MemoryMB, c.Timeout, c.EphemeralMB
	t.env = maps.Clone(c.Env)
	t.architecture = orDefaultSlice(c.Architectures, []string{"x86_64"})[0]
	t.logGroup = orDefault(c.LogGroup, "/aws/lambda/"+t.name)
	t.logFormat = orDefault(c.LogFormat, "Text")
	t.codeSha, t.codeSize = c.CodeSha, c.CodeSize
	t.revisionID = c.RevisionID
	t.fingerprint = c.fingerprint()
	t.state, t.lastUpdate = c.State, c.LastUpdateStatus
	t.deadLetterTarget = c.DeadLetterTarget
	t.tags = maps.Clone(row.Tags)
	t.noNetwork = row.Tags[tagNetwork] == "none"
	if row.Reserved != nil {
		n := int(*row.Reserved)
		t.reservedConcurrency = &n
	}
}

// urlTarget resolves a function URL id to the function and its URL config (for serving URLs).
func (s *Service) urlTarget(ctx context.Context, urlID string) (*target, *urlConfig, error) {
	var r funcRef
	err := s.st.QueryRow(ctx, `SELECT account, region, name, qualifier FROM lambda_urls WHERE url_id = ?`, urlID).
		Scan(&r.account, &r.region, &r.name, &r.qualifier)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, urlNotFound()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up function url: %w", err)
	}
	q := s.reader(ctx)
	u, ok, err := loadURL(q, r)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, urlNotFound()
	}
	t, err := s.resolveRef(ctx, q, r)
	if err != nil {
		return nil, nil, err
	}
	return t, u, nil
}
