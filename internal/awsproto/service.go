package awsproto

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// ServiceOptions adjusts how a Service speaks its protocol.
type ServiceOptions struct {
	// XMLRootNames names the root element of rest-xml outputs per operation where the model has
	// none (S3: "ListBuckets" → "ListAllMyBucketsResult"). Default: the output shape's locationName,
	// else operation name + "Result".
	XMLRootNames map[string]string
	// SkipEnumValidation leaves enum checks to handlers (S3 answers those itself).
	SkipEnumValidation bool
	// HandlerEnums names the enum shapes whose values the handlers check themselves, because
	// the service accepts values newer than its model (Lambda's "Runtime").
	HandlerEnums []string
	// ValidationError, when set, builds the client error for failed input validation.
	// problems are AWS-style sentences ("Value null at 'roleArn' failed to satisfy constraint: Member must not be null").
	ValidationError func(op string, problems []string) *Error
	// Intercept, when set, runs every operation's handler: next runs the handler, and what
	// Intercept returns is the call's error (it may refuse the call, or map the handler's
	// error). Default: the handler runs as it is.
	Intercept func(ctx context.Context, op string, next func(context.Context) error) error
	// Authorize, when set, decides whether the call may run, after its input is decoded and
	// validated and before Intercept and the handler: in is the decoded input (a pointer to the
	// handler's input type), and an error refuses the call with that error. Default: every
	// call runs.
	Authorize func(ctx context.Context, op string, in any) error
	// QueryModel names an embedded query-protocol model of the same service, for a json service
	// whose older clients still speak the query protocol (SQS: the AWS CLI v2.9 and boto3 1.26).
	// The Service then has a query twin that the router serves query requests with, running the
	// same handlers. The twin's model may be older than the json one: Go fields it lacks a member
	// for stay unset, and operations it lacks are not served over query. Default: none.
	QueryModel string
	// QueryURLParam names a parameter that a query-protocol request addressed to a path other
	// than "/" may leave out; it is then the request's URL (SQS: a request POSTed to a queue URL
	// names its queue by that URL). Default: none.
	QueryURLParam string
	// StringChecks adds constraints to string shapes, by shape name, where the service checks
	// more than its model says (DynamoDB's TableArn takes a table name of 3 to 255 characters of
	// [a-zA-Z0-9_.-], or an ARN). A check returns the constraints the value fails, each worded
	// as AWS words it ("Member must satisfy regular expression pattern: [a-z]+"); they join the
	// request's other validation problems. Default: none.
	StringChecks map[string]func(string) []string
	// EnumOrder lists an enum shape's values, by shape name, in the order the service's
	// validation messages name them when it differs from the model's. Default: the model's.
	EnumOrder map[string][]string
	// ErrorTypeNamespace, when set, qualifies a json service's "__type" as its servers send it:
	// a modeled error as NAMESPACE#Name, ValidationException as
	// com.amazon.coral.validate#ValidationException and any other error as
	// com.amazon.coral.service#Name (DynamoDB: "com.amazonaws.dynamodb.v20120810"). Default: the
	// bare error name.
	ErrorTypeNamespace string
}

// Service is one AWS service model with the typed handlers registered for its operations.
//
// A Service reads only its model's metadata when it is created. The model itself is parsed,
// and the registered handlers bound to it, on first use (or Load): a server then starts
// without paying for the models of services nobody has called yet.
type Service struct {
	name        string
	model       string // the embedded model's name: name, or the QueryModel of a twin
	meta        metadata
	opts        ServiceOptions
	protocol    string
	ops         map[string]*opEntry
	exceptions  map[string]*shape // by shape name and by error.code
	queryCompat bool
	crc32       bool
	jsonType    string // Content-Type of json protocol bodies
	xmlNS       string
	routes      []*restRoute // rest protocols, most specific first
	twin        *Service     // the query twin of a json service (ServiceOptions.QueryModel)
	lenient     bool         // a twin: Go fields and operations its model lacks are skipped

	mu      sync.Mutex // guards planner during registration
	planner planner
	bufs    sync.Pool

	loadOnce  sync.Once
	loadErr   error
	pendingMu sync.Mutex
	loaded    bool
	pending   []pendingHandler // registered before the model was loaded
	m         *model
}

// pendingHandler is a Handle call waiting for the model to load.
type pendingHandler struct {
	op      string
	in, out reflect.Type
	call    func(context.Context, reflect.Value) (reflect.Value, error)
}

// opEntry is one operation of the model and its handler, once registered.
type opEntry struct {
	name    string
	op      *operation
	in, out *shape
	binding atomic.Pointer[binding]
}

// binding is a registered handler with its codec plans.
type binding struct {
	in, out *codec
	inType  reflect.Type
	call    func(ctx context.Context, in reflect.Value) (reflect.Value, error)
}

// NewService returns the Service for the embedded model named model (e.g. "sts"). It reads
// only the model's metadata; the rest loads on first use.
func NewService(model string, opts ServiceOptions) (*Service, error) {
	meta, err := loadMetadata(model)
	if err != nil {
		return nil, err
	}
	s := &Service{
		name:       model,
		model:      model,
		meta:       meta,
		opts:       opts,
		protocol:   meta.Protocol,
		exceptions: map[string]*shape{},
		planner:    planner{cache: map[codecKey]*codec{}, openEnums: opts.HandlerEnums, checks: opts.StringChecks, enumOrder: opts.EnumOrder},
		xmlNS:      meta.XMLNamespace,
	}
	switch s.protocol {
	case "json", "rest-json", "rest-xml", "query":
	default:
		return nil, fmt.Errorf("awsproto: model %q: unsupported protocol %q", model, s.protocol)
	}
	s.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	s.queryCompat = len(meta.AWSQueryCompatible) > 0
	s.crc32 = strings.HasPrefix(meta.TargetPrefix, "DynamoDB")
	s.jsonType = "application/x-amz-json-" + meta.JSONVersion
	if meta.JSONVersion == "" {
		s.jsonType = "application/x-amz-json-1.0"
	}
	if s.protocol == "rest-xml" && s.xmlNS == "" {
		s.xmlNS = "http://s3.amazonaws.com/doc/" + meta.APIVersion + "/"
	}
	if opts.QueryModel != "" {
		if s.twin, err = newQueryTwin(s, opts); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// newQueryTwin returns the query-protocol twin of s described by opts.QueryModel.
func newQueryTwin(s *Service, opts ServiceOptions) (*Service, error) {
	topts := opts
	topts.QueryModel = ""
	t, err := NewService(opts.QueryModel, topts)
	if err != nil {
		return nil, err
	}
	if t.protocol != "query" || t.meta.APIVersion != s.meta.APIVersion || t.SigningName() != s.SigningName() {
		return nil, fmt.Errorf("awsproto: %s: model %q is not a query model of the same API", s.name, opts.QueryModel)
	}
	t.name = s.name
	t.lenient = true
	t.planner.lenient = true
	return t, nil
}

// Load parses the service's model and binds every handler registered so far, once. It
// reports a handler whose operation is not in the model or whose types do not fit it. Requests
// load a service on first use; servers may call Load to warm up, and tests to check bindings.
func (s *Service) Load() error {
	s.loadOnce.Do(func() {
		s.loadErr = s.build()
		if s.loadErr == nil && s.twin != nil {
			s.loadErr = s.twin.Load()
		}
	})
	return s.loadErr
}

// build parses the model into operations, exceptions and routes, then binds pending handlers.
func (s *Service) build() error {
	m, err := loadModel(s.model)
	if err != nil {
		return err
	}
	s.m = m
	s.ops = make(map[string]*opEntry, len(m.Operations))
	for name, o := range m.Operations {
		e := &opEntry{name: name, op: o}
		e.in = synthetic(o.Input, name+"Input")
		e.out = synthetic(o.Output, name+"Output")
		s.ops[name] = e
	}
	for n, sh := range m.Shapes {
		if !sh.Exception {
			continue
		}
		s.exceptions[n] = sh
		if sh.Error != nil && sh.Error.Code != "" {
			if _, taken := s.exceptions[sh.Error.Code]; !taken {
				s.exceptions[sh.Error.Code] = sh
			}
		}
	}
	if s.protocol == "rest-json" || s.protocol == "rest-xml" {
		if err := s.buildRoutes(); err != nil {
			return err
		}
	}
	s.pendingMu.Lock()
	pending := s.pending
	s.pending, s.loaded = nil, true
	s.pendingMu.Unlock()
	for _, p := range pending {
		if err := s.bind(p.op, p.in, p.out, p.call); err != nil {
			return err
		}
	}
	return nil
}

// op returns the operation named name, loading the model if need be; nil when there is none.
func (s *Service) op(name string) *opEntry {
	if s.Load() != nil {
		return nil
	}
	return s.ops[name]
}

func synthetic(r *shapeRef, name string) *shape {
	if r != nil {
		return r.target
	}
	return &shape{Type: "structure", name: name}
}

// Name returns the model name ("sts").
func (s *Service) Name() string { return s.name }

// Protocol returns "json", "rest-json", "rest-xml" or "query".
func (s *Service) Protocol() string { return s.protocol }

// SigningName returns the SigV4 service name: metadata.signingName, else endpointPrefix.
func (s *Service) SigningName() string {
	if s.meta.SigningName != "" {
		return s.meta.SigningName
	}
	return s.meta.EndpointPrefix
}

// TargetPrefix returns the X-Amz-Target prefix of json services ("" otherwise).
func (s *Service) TargetPrefix() string { return s.meta.TargetPrefix }

// JSONType is the Content-Type of the service's json protocol bodies.
func (s *Service) JSONType() string { return s.jsonType }

// APIVersion returns the model's API version ("2011-06-15").
func (s *Service) APIVersion() string { return s.meta.APIVersion }

// Operations returns the operation names of the model, sorted.
func (s *Service) Operations() []string {
	if s.Load() != nil {
		return nil
	}
	names := make([]string, 0, len(s.ops))
	for n := range s.ops {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Implemented returns the operations of the model that have a handler, sorted.
func (s *Service) Implemented() []string {
	var names []string
	for _, n := range s.Operations() {
		if s.ops[n].binding.Load() != nil {
			names = append(names, n)
		}
	}
	return names
}

// Handle registers a typed handler for an operation of s. Before the model is loaded the
// handler waits and Load binds it (reporting an operation missing from the model or types that
// do not fit it); after, Handle binds it at once and panics on such a programming error.
func Handle[I, O any](s *Service, op string, h func(context.Context, *I) (*O, error)) {
	call := func(ctx context.Context, in reflect.Value) (reflect.Value, error) {
		out, err := h(ctx, in.Interface().(*I))
		return reflect.ValueOf(out), err
	}
	s.register(pendingHandler{op: op, in: reflect.TypeFor[I](), out: reflect.TypeFor[O](), call: call})
}

// register binds p now, or when the model loads; and on the query twin too.
func (s *Service) register(p pendingHandler) {
	if s.twin != nil {
		s.twin.register(p)
	}
	s.pendingMu.Lock()
	if !s.loaded {
		s.pending = append(s.pending, p)
		s.pendingMu.Unlock()
		return
	}
	s.pendingMu.Unlock()
	if err := s.bind(p.op, p.in, p.out, p.call); err != nil {
		panic(err)
	}
}

func (s *Service) bind(op string, in, out reflect.Type, call func(context.Context, reflect.Value) (reflect.Value, error)) error {
	e, ok := s.ops[op]
	if !ok && s.lenient {
		return nil // a newer operation than the twin's model: not served over query
	}
	if !ok {
		return fmt.Errorf("awsproto: %s has no operation %q", s.name, op)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ic, err := s.planner.plan(e.in, nil, in)
	if err != nil {
		return fmt.Errorf("awsproto: %s.%s input: %w", s.name, op, err)
	}
	oc, err := s.planner.plan(e.out, nil, out)
	if err != nil {
		return fmt.Errorf("awsproto: %s.%s output: %w", s.name, op, err)
	}
	if ic.kind != kindStruct || ic.ptr || oc.kind != kindStruct || oc.ptr {
		return fmt.Errorf("awsproto: %s.%s: input and output must be structs", s.name, op)
	}
	markValidation(ic, map[*codec]bool{})
	e.binding.Store(&binding{in: ic, out: oc, inType: in, call: call})
	return nil
}

func (s *Service) getBuf() *[]byte { return s.bufs.Get().(*[]byte) }

func (s *Service) putBuf(b *[]byte) {
	if cap(*b) <= 64<<10 {
		*b = (*b)[:0]
		s.bufs.Put(b)
	}
}
