package sfn

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
)

// testMock checks TestState's mock against the tested state and, as its fieldValidationMode
// says (STRICT by default), its result against the API model of the state's integration.
func (s *Service) testMock(m *MockInput, state map[string]any) (*asl.Mock, error) {
	if m == nil {
		return nil, nil
	}
	switch state["Type"] {
	case "Task", "Map", "Parallel":
	default:
		return nil, validation("A mock can only be specified for Task, Map and Parallel states")
	}
	if (m.Result == nil) == (m.ErrorOutput == nil) {
		return nil, validation("A mock must specify exactly one of result and errorOutput")
	}
	if e := m.ErrorOutput; e != nil {
		return &asl.Mock{Error: awsproto.Value(e.Error), Cause: awsproto.Value(e.Cause)}, nil
	}
	var result any
	if err := json.Unmarshal([]byte(*m.Result), &result); err != nil {
		return nil, validation("Mock result must be valid JSON")
	}
	mode := awsproto.Value(m.FieldValidationMode)
	if mode == "" {
		mode = "STRICT"
	}
	if res, _ := state["Resource"].(string); mode != "NONE" && state["Type"] == "Task" {
		if op, ok := mockedOperation(res); ok {
			if err := s.schemas.check(op, result, mode == "STRICT"); err != nil {
				return nil, validation("Mock result schema validation error: %s", err.Error())
			}
		}
	}
	return &asl.Mock{Result: []byte(*m.Result)}, nil
}

// apiOperation names an operation of a service model.
type apiOperation struct {
	model, name string
	// opaque names the members whose value an integration hands over as JSON rather than
	// as the model's type (lambda:invoke's Payload)
	opaque []string
}

// mockedOperation is the API operation whose output a Task resource's result is; false for
// the resources whose result has no model (a function ARN, an activity).
func mockedOperation(res string) (apiOperation, bool) {
	in, ok := parseIntegration(res)
	if !ok {
		return apiOperation{}, false
	}
	if in.sdk {
		svc, ok := sdkServices[in.service]
		return apiOperation{model: svc.model, name: upperFirst(in.action)}, ok
	}
	switch in.service {
	case "lambda":
		return apiOperation{model: "lambda", name: "Invoke", opaque: []string{"Payload"}}, true
	case "sqs", "sns", "dynamodb", "events":
		return apiOperation{model: in.service, name: upperFirst(in.action)}, true
	case "states":
		if in.mode == "sync" || in.mode == "sync:2" {
			return apiOperation{model: "stepfunctions", name: "DescribeExecution", opaque: []string{"Input", "Output"}}, true
		}
		return apiOperation{model: "stepfunctions", name: "StartExecution"}, true
	}
	return apiOperation{}, false
}

// schemaShape is the part of a botocore shape a mocked result is checked against.
type schemaShape struct {
	Type     string              `json:"type"`
	Members  map[string]shapeRef `json:"members"`
	Member   *shapeRef           `json:"member"`
	Value    *shapeRef           `json:"value"`
	Required []string            `json:"required"`
}

type shapeRef struct {
	Shape string `json:"shape"`
}

type schemaModel struct {
	Operations map[string]struct {
		Output *shapeRef `json:"output"`
	} `json:"operations"`
	Shapes map[string]schemaShape `json:"shapes"`
}

// schemas memoises the service models mocked results are checked against.
type schemas struct{ m sync.Map }

func (c *schemas) model(name string) (*schemaModel, error) {
	if m, ok := c.m.Load(name); ok {
		return m.(*schemaModel), nil
	}
	b, err := awsproto.ModelJSON(name)
	if err != nil {
		return nil, err
	}
	var m schemaModel
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	c.m.Store(name, &m)
	return &m, nil
}

// check checks v against the output of op: every present field has its type and, when
// strict, every required field is present. Fields the model does not know are let through.
func (c *schemas) check(op apiOperation, v any, strict bool) error {
	m, err := c.model(op.model)
	if err != nil {
		return nil // no model: nothing to check against
	}
	o, ok := m.Operations[op.name]
	if !ok || o.Output == nil {
		return nil
	}
	return m.check(o.Output.Shape, v, "", strict, op.opaque)
}

func (m *schemaModel) check(shape string, v any, path string, strict bool, opaque []string) error {
	sh := m.Shapes[shape]
	field := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch sh.Type {
	case "structure":
		obj, ok := v.(map[string]any)
		if !ok {
			return typeMismatch(path, "an object")
		}
		if strict {
			req := append([]string(nil), sh.Required...)
			sort.Strings(req)
			for _, r := range req {
				if _, ok := obj[r]; !ok {
					return fmt.Errorf("Required field '%s' is missing", field(r))
				}
			}
		}
		names := make([]string, 0, len(obj))
		for k := range obj {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ref, ok := sh.Members[k]
			if !ok || (path == "" && contains(opaque, k)) {
				continue
			}
			if err := m.check(ref.Shape, obj[k], field(k), strict, nil); err != nil {
				return err
			}
		}
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return typeMismatch(path, "an array")
		}
		for i, e := range arr {
			if err := m.check(sh.Member.Shape, e, fmt.Sprintf("%s[%d]", path, i), strict, nil); err != nil {
				return err
			}
		}
	case "map":
		obj, ok := v.(map[string]any)
		if !ok {
			return typeMismatch(path, "an object")
		}
		for k, e := range obj {
			if err := m.check(sh.Value.Shape, e, field(k), strict, nil); err != nil {
				return err
			}
		}
	case "string", "blob":
		if _, ok := v.(string); !ok {
			return typeMismatch(path, "a string")
		}
	case "integer", "long", "float", "double":
		if _, ok := v.(float64); !ok {
			return typeMismatch(path, "a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return typeMismatch(path, "a boolean")
		}
	case "timestamp":
		switch v.(type) {
		case float64, string:
		default:
			return typeMismatch(path, "a timestamp")
		}
	}
	return nil
}

func typeMismatch(path, want string) error {
	if path == "" {
		return fmt.Errorf("The result must be %s", want)
	}
	return fmt.Errorf("Field '%s' must be %s", strings.TrimPrefix(path, "."), want)
}
