package awsproto

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
)

//go:embed models/*.json
var modelFS embed.FS

// ModelJSON returns the embedded botocore model of the named service ("sts", "s3", …).
func ModelJSON(name string) ([]byte, error) {
	b, err := modelFS.ReadFile("models/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("awsproto: no model %q: %w", name, err)
	}
	return b, nil
}

// model is a parsed botocore service-2.json.
type model struct {
	Metadata   metadata              `json:"metadata"`
	Operations map[string]*operation `json:"operations"`
	Shapes     map[string]*shape     `json:"shapes"`
}

type metadata struct {
	APIVersion         string          `json:"apiVersion"`
	EndpointPrefix     string          `json:"endpointPrefix"`
	JSONVersion        string          `json:"jsonVersion"`
	Protocol           string          `json:"protocol"`
	ServiceID          string          `json:"serviceId"`
	SigningName        string          `json:"signingName"`
	TargetPrefix       string          `json:"targetPrefix"`
	XMLNamespace       string          `json:"xmlNamespace"`
	AWSQueryCompatible json.RawMessage `json:"awsQueryCompatible"`
}

type operation struct {
	Name string `json:"name"`
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Deprecated bool        `json:"deprecated"`
	Input      *shapeRef   `json:"input"`
	Output     *shapeRef   `json:"output"`
	Errors     []*shapeRef `json:"errors"`
}

type xmlNS struct {
	Prefix string `json:"prefix"`
	URI    string `json:"uri"`
}

func (n *xmlNS) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		n.URI = s
		return nil
	}
	type plain xmlNS
	return json.Unmarshal(b, (*plain)(n))
}

// shapeRef is a reference to a shape with the traits a member adds.
type shapeRef struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`
	LocationName     string `json:"locationName"`
	Flattened        bool   `json:"flattened"`
	XMLNamespace     *xmlNS `json:"xmlNamespace"`
	XMLAttribute     bool   `json:"xmlAttribute"`
	TimestampFormat  string `json:"timestampFormat"`
	Streaming        bool   `json:"streaming"`
	ResultWrapper    string `json:"resultWrapper"`
	JSONValue        bool   `json:"jsonvalue"`
	IdempotencyToken bool   `json:"idempotencyToken"`
	EventPayload     bool   `json:"eventpayload"`
	EventHeader      bool   `json:"eventheader"`

	target *shape
}

type shapeError struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

type shape struct {
	Type            string               `json:"type"`
	Members         map[string]*shapeRef `json:"members"`
	Member          *shapeRef            `json:"member"`
	Key             *shapeRef            `json:"key"`
	Value           *shapeRef            `json:"value"`
	Required        []string             `json:"required"`
	Enum            []string             `json:"enum"`
	Min             *float64             `json:"min"`
	Max             *float64             `json:"max"`
	Payload         string               `json:"payload"`
	Flattened       bool                 `json:"flattened"`
	LocationName    string               `json:"locationName"`
	XMLNamespace    *xmlNS               `json:"xmlNamespace"`
	TimestampFormat string               `json:"timestampFormat"`
	Streaming       bool                 `json:"streaming"`
	Exception       bool                 `json:"exception"`
	Fault           bool                 `json:"fault"`
	Error           *shapeError          `json:"error"`
	Union           bool                 `json:"union"`
	Document        bool                 `json:"document"`
	Event           bool                 `json:"event"`
	EventStream     bool                 `json:"eventstream"`

	name        string
	memberNames []string // sorted
	required    map[string]bool
}

// modelCache memoises parsed models; parsed models are immutable.
type modelCache struct {
	mu     sync.Mutex
	models map[string]*model
}

var parsedModels = &modelCache{models: map[string]*model{}}

// loadMetadata reads only the metadata object of an embedded model: the keys of the vendored
// models are sorted, so it comes near the start and the rest is never decoded.
func loadMetadata(name string) (metadata, error) {
	raw, err := ModelJSON(name)
	if err != nil {
		return metadata{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return metadata{}, fmt.Errorf("awsproto: model %q: not a JSON object", name)
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return metadata{}, fmt.Errorf("awsproto: model %q: %w", name, err)
		}
		if key == "metadata" {
			var meta metadata
			if err := dec.Decode(&meta); err != nil {
				return metadata{}, fmt.Errorf("awsproto: model %q metadata: %w", name, err)
			}
			return meta, nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return metadata{}, fmt.Errorf("awsproto: model %q: %w", name, err)
		}
	}
	return metadata{}, fmt.Errorf("awsproto: model %q has no metadata", name)
}

func loadModel(name string) (*model, error) {
	parsedModels.mu.Lock()
	defer parsedModels.mu.Unlock()
	if m, ok := parsedModels.models[name]; ok {
		return m, nil
	}
	raw, err := ModelJSON(name)
	if err != nil {
		return nil, err
	}
	m := &model{}
	if err := json.Unmarshal(raw, m); err != nil {
		return nil, fmt.Errorf("awsproto: parse model %q: %w", name, err)
	}
	if err := m.link(name); err != nil {
		return nil, err
	}
	parsedModels.models[name] = m
	return m, nil
}

// link resolves shape references and precomputes member order.
func (m *model) link(name string) error {
	resolve := func(r *shapeRef) error {
		if r == nil {
			return nil
		}
		s, ok := m.Shapes[r.Shape]
		if !ok {
			return fmt.Errorf("awsproto: model %q: unknown shape %q", name, r.Shape)
		}
		r.target = s
		return nil
	}
	for n, s := range m.Shapes {
		s.name = n
		for mn, r := range s.Members {
			if err := resolve(r); err != nil {
				return err
			}
			s.memberNames = append(s.memberNames, mn)
		}
		sort.Strings(s.memberNames)
		for _, r := range []*shapeRef{s.Member, s.Key, s.Value} {
			if err := resolve(r); err != nil {
				return err
			}
		}
		if len(s.Required) > 0 {
			s.required = make(map[string]bool, len(s.Required))
			for _, r := range s.Required {
				s.required[r] = true
			}
		}
		if qe, ok := queryErrorCodes[name][n]; ok && (s.Error == nil || s.Error.Code == "") {
			if s.Error == nil {
				s.Error = &shapeError{}
			}
			s.Error.Code = qe
		}
	}
	for n, o := range m.Operations {
		if o.Name == "" {
			o.Name = n
		}
		for _, r := range append([]*shapeRef{o.Input, o.Output}, o.Errors...) {
			if err := resolve(r); err != nil {
				return err
			}
		}
	}
	return nil
}
