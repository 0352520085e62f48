package policy

import "encoding/json"

type documentJSON struct {
	Version   string          `json:"Version,omitempty"`
	ID        string          `json:"Id,omitempty"`
	Statement []statementJSON `json:"Statement"`
}

type statementJSON struct {
	Sid          string                         `json:"Sid,omitempty"`
	Effect       string                         `json:"Effect"`
	Principal    any                            `json:"Principal,omitempty"`
	NotPrincipal any                            `json:"NotPrincipal,omitempty"`
	Action       []string                       `json:"Action,omitempty"`
	NotAction    []string                       `json:"NotAction,omitempty"`
	Resource     []string                       `json:"Resource,omitempty"`
	NotResource  []string                       `json:"NotResource,omitempty"`
	Condition    map[string]map[string][]string `json:"Condition,omitempty"`
}

// MarshalJSON writes the policy as a document with the same meaning: every list as a list,
// elements in a fixed order.
func (p *Policy) MarshalJSON() ([]byte, error) {
	doc := documentJSON{Version: p.Version, ID: p.ID, Statement: make([]statementJSON, len(p.Statements))}
	for i, st := range p.Statements {
		s := statementJSON{Sid: st.Sid, Effect: st.Effect.String(), Action: st.Action, NotAction: st.NotAction,
			Resource: st.Resource, NotResource: st.NotResource}
		if st.Principal != nil {
			s.Principal = principalJSON(st.Principal)
		}
		if st.NotPrincipal != nil {
			s.NotPrincipal = principalJSON(st.NotPrincipal)
		}
		if len(st.Condition) > 0 {
			s.Condition = make(map[string]map[string][]string)
			for _, c := range st.Condition {
				if s.Condition[c.Operator] == nil {
					s.Condition[c.Operator] = make(map[string][]string)
				}
				s.Condition[c.Operator][c.Key] = c.Values
			}
		}
		doc.Statement[i] = s
	}
	return json.Marshal(doc)
}

func principalJSON(pp *Principals) any {
	if pp.All {
		return "*"
	}
	m := make(map[string][]string)
	for k, v := range map[string][]string{"AWS": pp.AWS, "Service": pp.Service, "Federated": pp.Federated, "CanonicalUser": pp.CanonicalUser} {
		if v != nil {
			m[k] = v
		}
	}
	return m
}
