package schemas

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// codeBindingV2 records the code bindings put for a schema version; their source is generated
// from the version's content when it is asked for, so it is always the version's.
const codeBindingV2 = `
CREATE TABLE schemas_bindings (
	account  TEXT NOT NULL,
	region   TEXT NOT NULL,
	registry TEXT NOT NULL,
	name     TEXT NOT NULL,
	version  BIGINT NOT NULL,
	language TEXT NOT NULL,
	created  BIGINT NOT NULL,
	PRIMARY KEY (account, region, registry, name, version, language)
);`

// languages are the code binding languages AWS offers; Kiri generates Python36.
var languages = map[string]bool{"Python36": true, "Java8": false, "TypeScript3": false, "Go1": false}

func checkLanguage(l string) error {
	gen, known := languages[l]
	if !known {
		return badRequest("Invalid language %s. Valid languages are Java8, Python36, TypeScript3 and Go1.", l)
	}
	if !gen {
		return badRequest("Code bindings for %s are not supported; Kiri generates Python36 code bindings.", l)
	}
	return nil
}

// bindingVersion resolves the schema version a code binding call names.
func (s *Service) bindingVersion(ctx context.Context, sc scope, reg, name, lang, v string) (*version, error) {
	if err := checkLanguage(lang); err != nil {
		return nil, err
	}
	if _, err := s.loadSchema(ctx, sc, reg, name); err != nil {
		return nil, err
	}
	return s.loadVersion(ctx, sc, reg, name, v)
}

func (s *Service) bindingCreated(ctx context.Context, sc scope, reg, name, lang string, ver int64) (time.Time, error) {
	var created int64
	err := s.st.QueryRow(ctx, `SELECT created FROM schemas_bindings WHERE account = ? AND region = ? AND registry = ? AND name = ? AND version = ? AND language = ?`,
		sc.account, sc.region, reg, name, ver, lang).Scan(&created)
	if isNoRows(err) {
		return time.Time{}, notFound("Code binding for %s version %d in %s does not exist.", name, ver, lang)
	}
	return time.Unix(0, created).UTC(), err
}

func (s *Service) putCodeBinding(ctx context.Context, in *PutCodeBindingRequest) (*PutCodeBindingResponse, error) {
	sc := scopeOf(ctx)
	reg, name, lang := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName), awsproto.Value(in.Language)
	v, err := s.bindingVersion(ctx, sc, reg, name, lang, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	if _, err := pythonBinding(name, v.typ, v.content); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`INSERT INTO schemas_bindings (account, region, registry, name, version, language, created) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
			sc.account, sc.region, reg, name, v.version, lang, now.UnixNano())
		return err
	})
	if err != nil {
		return nil, err
	}
	created, err := s.bindingCreated(ctx, sc, reg, name, lang, v.version)
	if err != nil {
		return nil, err
	}
	return &PutCodeBindingResponse{CreationDate: &created, LastModified: &created, SchemaVersion: awsproto.Ptr(strconv.FormatInt(v.version, 10)),
		Status: awsproto.Ptr("CREATE_COMPLETE")}, nil
}

func (s *Service) describeCodeBinding(ctx context.Context, in *DescribeCodeBindingRequest) (*DescribeCodeBindingResponse, error) {
	sc := scopeOf(ctx)
	reg, name, lang := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName), awsproto.Value(in.Language)
	v, err := s.bindingVersion(ctx, sc, reg, name, lang, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	created, err := s.bindingCreated(ctx, sc, reg, name, lang, v.version)
	if err != nil {
		return nil, err
	}
	return &DescribeCodeBindingResponse{CreationDate: &created, LastModified: &created, SchemaVersion: awsproto.Ptr(strconv.FormatInt(v.version, 10)),
		Status: awsproto.Ptr("CREATE_COMPLETE")}, nil
}

func (s *Service) getCodeBindingSource(ctx context.Context, in *GetCodeBindingSourceRequest) (*GetCodeBindingSourceResponse, error) {
	sc := scopeOf(ctx)
	reg, name, lang := awsproto.Value(in.RegistryName), awsproto.Value(in.SchemaName), awsproto.Value(in.Language)
	v, err := s.bindingVersion(ctx, sc, reg, name, lang, awsproto.Value(in.SchemaVersion))
	if err != nil {
		return nil, err
	}
	if _, err := s.bindingCreated(ctx, sc, reg, name, lang, v.version); err != nil {
		return nil, err
	}
	body, err := pythonBinding(name, v.typ, v.content)
	if err != nil {
		return nil, err
	}
	return &GetCodeBindingSourceResponse{Body: body}, nil
}

// component is one class of a binding: an object schema's properties, in name order.
type component struct {
	name  string
	props []property
}

type property struct {
	name, pyType string
}

// bindingComponents reads the object schemas of a document: an OpenApi3 document's
// components.schemas, or a JSON Schema draft 4 document's root (named after the schema) and
// definitions.
func bindingComponents(schemaName, typ, content string) ([]component, string, error) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return nil, "", badRequest("The schema cannot be used for code bindings: %v", err)
	}
	schemas := map[string]map[string]any{}
	root := ""
	refPrefix := "#/components/schemas/"
	if typ == "OpenApi3" {
		comps, _ := doc["components"].(map[string]any)
		ss, _ := comps["schemas"].(map[string]any)
		for k, v := range ss {
			if m, ok := v.(map[string]any); ok {
				schemas[k] = m
				if _, ok := m["x-amazon-events-source"]; ok {
					root = k
				}
			}
		}
	} else {
		refPrefix = "#/definitions/"
		root = className(schemaName)
		schemas[root] = doc
		defs, _ := doc["definitions"].(map[string]any)
		for k, v := range defs {
			if m, ok := v.(map[string]any); ok {
				schemas[k] = m
			}
		}
	}
	if len(schemas) == 0 {
		return nil, "", badRequest("The schema cannot be used for code bindings: it defines no object schema.")
	}
	names := make([]string, 0, len(schemas))
	for k := range schemas {
		names = append(names, k)
	}
	sort.Strings(names)
	if root == "" {
		root = names[0]
	}
	var pyType func(s map[string]any) string
	pyType = func(s map[string]any) string {
		if ref, ok := s["$ref"].(string); ok {
			return className(strings.TrimPrefix(ref, refPrefix))
		}
		switch str(s["type"]) {
		case "string":
			if str(s["format"]) == "date-time" {
				return "datetime"
			}
			return "str"
		case "number":
			return "float"
		case "integer":
			return "int"
		case "boolean":
			return "bool"
		case "array":
			it, _ := s["items"].(map[string]any)
			return "list[" + pyType(it) + "]"
		}
		return "object"
	}
	var out []component
	for _, n := range names {
		c := component{name: className(n)}
		props, _ := schemas[n]["properties"].(map[string]any)
		keys := make([]string, 0, len(props))
		for k := range props {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			pm, _ := props[k].(map[string]any)
			c.props = append(c.props, property{name: k, pyType: pyType(pm)})
		}
		out = append(out, c)
	}
	return out, className(root), nil
}

// className is a schema name as a Python class name.
func className(n string) string {
	p := pascal(n)
	if p[0] >= '0' && p[0] <= '9' {
		p = "C" + p
	}
	return p
}

// attrName is a property name as a Python attribute: snake case without separators.
func attrName(n string) string {
	var b strings.Builder
	for i, r := range n {
		switch {
		case r >= 'A' && r <= 'Z':
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + 'a' - 'A')
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		s = "p_" + s
	}
	switch s {
	case "from", "class", "import", "def", "in", "is", "not", "and", "or", "global", "lambda", "return", "pass", "type":
		s += "_"
	}
	return s
}

// packagePath is where a binding's classes go, as AWS's bindings place them:
// schema/<source parts>/<detail type>/ for a discovered schema (aws.s3@ObjectCreated →
// schema/aws/s3/objectcreated), schema/<name>/ otherwise.
func packagePath(schemaName string) string {
	var parts []string
	if src, dt, ok := strings.Cut(schemaName, "@"); ok {
		for _, p := range strings.Split(src, ".") {
			parts = append(parts, attrName(p))
		}
		parts = append(parts, strings.ToLower(pascal(dt)))
	} else {
		parts = append(parts, strings.ToLower(pascal(schemaName)))
	}
	return "schema/" + strings.Join(parts, "/")
}

// pythonBinding generates the Python36 code binding of a schema version as a zip: a class per
// object schema (swagger_types, attribute_map, properties, to_dict) and a Marshaller that
// turns an event's JSON into the root class and back.
func pythonBinding(schemaName, typ, content string) ([]byte, error) {
	comps, root, err := bindingComponents(schemaName, typ, content)
	if err != nil {
		return nil, err
	}
	dir := packagePath(schemaName)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, text string) error {
		w, err := zw.Create(name)
		if err != nil {
			return err
		}
		_, err = w.Write([]byte(text))
		return err
	}
	pkg := strings.ReplaceAll(dir, "/", ".")
	var init strings.Builder
	init.WriteString("# coding: utf-8\nfrom __future__ import absolute_import\n\n")
	for _, c := range comps {
		fmt.Fprintf(&init, "from %s.%s import %s\n", pkg, c.name, c.name)
		if err := add(dir+"/"+c.name+".py", pythonClass(pkg, c)); err != nil {
			return nil, err
		}
	}
	if err := add(dir+"/__init__.py", init.String()); err != nil {
		return nil, err
	}
	if err := add(dir+"/marshaller.py", pythonMarshaller(pkg, root)); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func pythonClass(pkg string, c component) string {
	var b strings.Builder
	b.WriteString("# coding: utf-8\nimport pprint\nimport re  # noqa: F401\n\nimport six\nfrom enum import Enum\n")
	imported := map[string]bool{}
	for _, p := range c.props {
		t := strings.TrimSuffix(strings.TrimPrefix(p.pyType, "list["), "]")
		if t != "str" && t != "float" && t != "int" && t != "bool" && t != "datetime" && t != "object" && t != c.name && !imported[t] {
			imported[t] = true
			fmt.Fprintf(&b, "from %s.%s import %s  # noqa: F401,E501\n", pkg, t, t)
		}
	}
	fmt.Fprintf(&b, "\n\nclass %s(object):\n\n", c.name)
	b.WriteString("    _types = {\n")
	for _, p := range c.props {
		fmt.Fprintf(&b, "        '%s': '%s',\n", attrName(p.name), p.pyType)
	}
	b.WriteString("    }\n\n    _attribute_map = {\n")
	for _, p := range c.props {
		fmt.Fprintf(&b, "        '%s': '%s',\n", attrName(p.name), p.name)
	}
	b.WriteString("    }\n\n    def __init__(self")
	for _, p := range c.props {
		fmt.Fprintf(&b, ", %s=None", attrName(p.name))
	}
	b.WriteString("):  # noqa: E501\n")
	for _, p := range c.props {
		fmt.Fprintf(&b, "        self._%s = None\n", attrName(p.name))
	}
	b.WriteString("        self.discriminator = None\n")
	for _, p := range c.props {
		fmt.Fprintf(&b, "        self.%s = %s\n", attrName(p.name), attrName(p.name))
	}
	for _, p := range c.props {
		a := attrName(p.name)
		fmt.Fprintf(&b, "\n    @property\n    def %s(self):\n        return self._%s\n\n    @%s.setter\n    def %s(self, %s):\n        self._%s = %s\n",
			a, a, a, a, a, a, a)
	}
	b.WriteString(`
    def to_dict(self):
        result = {}
        for attr, _ in six.iteritems(self._types):
            value = getattr(self, attr)
            if isinstance(value, list):
                result[attr] = list(map(
                    lambda x: x.to_dict() if hasattr(x, "to_dict") else x,
                    value
                ))
            elif hasattr(value, "to_dict"):
                result[attr] = value.to_dict()
            elif isinstance(value, dict):
                result[attr] = dict(map(
                    lambda item: (item[0], item[1].to_dict())
                    if hasattr(item[1], "to_dict") else item,
                    value.items()
                ))
            else:
                result[attr] = value
        return result

    def to_str(self):
        return pprint.pformat(self.to_dict())

    def __repr__(self):
        return self.to_str()

    def __eq__(self, other):
        if not isinstance(other, ` + c.name + `):
            return False
        return self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self == other
`)
	return b.String()
}

func pythonMarshaller(pkg, root string) string {
	return `# coding: utf-8
import datetime
import re
import six

import ` + pkg + `


class Marshaller:
    PRIMITIVE_TYPES = (float, bool, bytes, six.text_type) + six.integer_types
    NATIVE_TYPES_MAPPING = {
        'int': int,
        'long': int if six.PY3 else long,  # noqa: F821
        'float': float,
        'str': str,
        'bool': bool,
        'date': datetime.date,
        'datetime': datetime.datetime,
        'object': object,
    }

    @classmethod
    def marshall(cls, obj):
        if obj is None:
            return None
        elif isinstance(obj, cls.PRIMITIVE_TYPES):
            return obj
        elif isinstance(obj, list):
            return [cls.marshall(sub_obj) for sub_obj in obj]
        elif isinstance(obj, tuple):
            return tuple(cls.marshall(sub_obj) for sub_obj in obj)
        elif isinstance(obj, (datetime.datetime, datetime.date)):
            return obj.isoformat()
        if isinstance(obj, dict):
            obj_dict = obj
        else:
            obj_dict = {obj._attribute_map[attr]: getattr(obj, attr)
                        for attr, _ in six.iteritems(obj._types)
                        if getattr(obj, attr) is not None}
        return {key: cls.marshall(val) for key, val in six.iteritems(obj_dict)}

    @classmethod
    def unmarshall(cls, data, typeName=` + "'" + root + "'" + `):
        return cls.__deserialize(data, typeName)

    @classmethod
    def __deserialize(cls, data, klass):
        if data is None:
            return None
        if type(klass) == str:
            if klass.startswith('list['):
                sub_kls = re.match(r'list\[(.*)\]', klass).group(1)
                return [cls.__deserialize(sub_data, sub_kls) for sub_data in data]
            if klass in cls.NATIVE_TYPES_MAPPING:
                klass = cls.NATIVE_TYPES_MAPPING[klass]
            else:
                klass = getattr(` + pkg + `, klass)
        if klass in cls.PRIMITIVE_TYPES:
            return klass(data)
        elif klass == object:
            return data
        elif klass == datetime.datetime:
            return datetime.datetime.strptime(data.replace('Z', '+0000'), '%Y-%m-%dT%H:%M:%S%z')
        kwargs = {}
        if klass._types is not None:
            for attr, attr_type in six.iteritems(klass._types):
                if data is not None and klass._attribute_map[attr] in data and isinstance(data, (list, dict)):
                    kwargs[attr] = cls.__deserialize(data[klass._attribute_map[attr]], attr_type)
        return klass(**kwargs)
`
}
