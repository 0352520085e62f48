package sfn

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/asl"
	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

const (
	typeStandard = "STANDARD"
	typeExpress  = "EXPRESS"
	// maxVersions is the most versions a state machine keeps.
	maxVersions = 1000
)

// machine is a stored state machine.
type machine struct {
	ARN         string                   `json:"arn"`
	Name        string                   `json:"name"`
	Type        string                   `json:"type"`
	Definition  string                   `json:"definition"`
	RoleARN     string                   `json:"role"`
	Logging     *LoggingConfiguration    `json:"logging,omitempty"`
	Tracing     *TracingConfiguration    `json:"tracing,omitempty"`
	Encryption  *EncryptionConfiguration `json:"encryption,omitempty"`
	RevisionID  string                   `json:"revision"`
	Created     time.Time                `json:"created"`
	Updated     time.Time                `json:"updated"`
	Tags        map[string]string        `json:"tags"`
	LastVersion int64                    `json:"last_version"`
}

// version is a published, immutable version of a state machine.
type version struct {
	Number      int64                    `json:"number"`
	Description string                   `json:"description,omitempty"`
	Definition  string                   `json:"definition"`
	RoleARN     string                   `json:"role"`
	Type        string                   `json:"type"`
	Logging     *LoggingConfiguration    `json:"logging,omitempty"`
	Tracing     *TracingConfiguration    `json:"tracing,omitempty"`
	Encryption  *EncryptionConfiguration `json:"encryption,omitempty"`
	RevisionID  string                   `json:"revision"`
	Created     time.Time                `json:"created"`
}

func (m *machine) versionARN(n int64) string { return m.ARN + ":" + strconv.FormatInt(n, 10) }

func (s *Service) handleMachines() {
	awsproto.Handle(s.api, "CreateStateMachine", s.createStateMachine)
	awsproto.Handle(s.api, "DescribeStateMachine", s.describeStateMachine)
	awsproto.Handle(s.api, "UpdateStateMachine", s.updateStateMachine)
	awsproto.Handle(s.api, "DeleteStateMachine", s.deleteStateMachine)
	awsproto.Handle(s.api, "ListStateMachines", s.listStateMachines)
	awsproto.Handle(s.api, "PublishStateMachineVersion", s.publishStateMachineVersion)
	awsproto.Handle(s.api, "ListStateMachineVersions", s.listStateMachineVersions)
	awsproto.Handle(s.api, "DeleteStateMachineVersion", s.deleteStateMachineVersion)
	awsproto.Handle(s.api, "CreateStateMachineAlias", s.createStateMachineAlias)
	awsproto.Handle(s.api, "DescribeStateMachineAlias", s.describeStateMachineAlias)
	awsproto.Handle(s.api, "UpdateStateMachineAlias", s.updateStateMachineAlias)
	awsproto.Handle(s.api, "DeleteStateMachineAlias", s.deleteStateMachineAlias)
	awsproto.Handle(s.api, "ListStateMachineAliases", s.listStateMachineAliases)
	awsproto.Handle(s.api, "ValidateStateMachineDefinition", s.validateStateMachineDefinition)
}

// loadMachine reads the state machine arn names; nil when there is none.
func loadMachine(q rowQuery, arn string) (*machine, error) {
	var m machine
	found, err := loadDoc(q, &m, `SELECT doc FROM sfn_machines WHERE arn = ?`, arn)
	if !found || err != nil {
		return nil, err
	}
	return &m, nil
}

// requireMachine reads a state machine, or answers StateMachineDoesNotExist.
func requireMachine(q rowQuery, arn string) (*machine, error) {
	m, err := loadMachine(q, arn)
	if err == nil && m == nil {
		err = machineNotFound(arn)
	}
	return m, err
}

func putMachine(tx *store.Tx, sc scope, m *machine) error {
	_, err := tx.Exec(`INSERT INTO sfn_machines (arn, account, region, name, created, doc) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc`, m.ARN, sc.account, sc.region, m.Name, m.Created.UnixNano(), encode(m))
	return err
}

func loadVersion(q rowQuery, machineARN string, n int64) (*version, error) {
	var v version
	found, err := loadDoc(q, &v, `SELECT doc FROM sfn_versions WHERE machine = ? AND version = ?`, machineARN, n)
	if !found || err != nil {
		return nil, err
	}
	return &v, nil
}

// publish adds m's current revision as its next version, unless its latest version already
// is that revision: then that version is the answer.
func publish(tx *store.Tx, m *machine, description string, now time.Time) (*version, error) {
	if m.LastVersion > 0 {
		last, err := loadVersion(tx.QueryRow, m.ARN, m.LastVersion)
		if err != nil {
			return nil, err
		}
		if last != nil && last.RevisionID == m.RevisionID {
			return last, nil
		}
	}
	var n int64
	if err := tx.QueryRow(`SELECT COUNT(*) FROM sfn_versions WHERE machine = ?`, m.ARN).Scan(&n); err != nil {
		return nil, err
	}
	if n >= maxVersions {
		return nil, apiError("ServiceQuotaExceededException",
			"Maximum number of versions (%d) reached for state machine '%s'.", maxVersions, m.ARN)
	}
	m.LastVersion++
	v := &version{Number: m.LastVersion, Description: description, Definition: m.Definition, RoleARN: m.RoleARN, Type: m.Type,
		Logging: m.Logging, Tracing: m.Tracing, Encryption: m.Encryption, RevisionID: m.RevisionID, Created: now}
	_, err := tx.Exec(`INSERT INTO sfn_versions (machine, version, created, doc) VALUES (?, ?, ?, ?)`,
		m.ARN, v.Number, now.UnixNano(), encode(v))
	return v, err
}

// checkRole refuses, when IAM is enforced, a role that does not exist or does not trust Step
// Functions.
func (s *Service) checkRole(ctx context.Context, sc scope, role string) error {
	if !s.enforcing() {
		return nil
	}
	sts, ok := service.Lookup[roleChecker](s.services, "sts")
	if !ok {
		return errors.New("STS is not running")
	}
	if err := sts.CheckServiceRole(ctx, principal, sc.account, role); err != nil {
		return awsproto.Errorf("AccessDeniedException", 400,
			"Neither the global service principal states.amazonaws.com, nor the regional one is authorized to assume the provided role.")
	}
	return nil
}

// roleChecker decides whether a service may assume a role (implemented by STS).
type roleChecker interface {
	CheckServiceRole(ctx context.Context, service, account, roleARN string) error
}

// checkRoleARN refuses a role ARN that is not an IAM role's.
func checkRoleARN(role string) error {
	parts := strings.SplitN(role, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return invalidARN(role)
	}
	return nil
}

// config is the part of a state machine a create or update sets, checked.
type config struct {
	definition string
	role       string
	logging    *LoggingConfiguration
	tracing    *TracingConfiguration
	encryption *EncryptionConfiguration
}

// checkConfig validates the definition, role and configurations of a create or update of a
// state machine of type typ.
func (s *Service) checkConfig(ctx context.Context, sc scope, typ string, c config) error {
	if c.role != "" {
		if err := checkRoleARN(c.role); err != nil {
			return err
		}
	}
	if c.definition != "" {
		if err := s.checkDefinition(ctx, sc, typ, []byte(c.definition)); err != nil {
			return err
		}
	}
	if c.logging != nil {
		if err := checkLogging(c.logging); err != nil {
			return err
		}
	}
	if c.encryption != nil && awsproto.Value(c.encryption.Type) == "CUSTOMER_MANAGED_KMS_KEY" {
		return apiError("InvalidEncryptionConfiguration",
			"Invalid Encryption Configuration: customer managed KMS keys are not supported by this server.")
	}
	if c.role != "" {
		return s.checkRole(ctx, sc, c.role)
	}
	return nil
}

func (s *Service) createStateMachine(ctx context.Context, in *CreateStateMachineInput) (*CreateStateMachineOutput, error) {
	sc := scopeOf(ctx)
	name := awsproto.Value(in.Name)
	if !validName(name) {
		return nil, invalidName(name)
	}
	typ := awsproto.Value(in.Type)
	if typ == "" {
		typ = typeStandard
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	c := config{definition: awsproto.Value(in.Definition), role: awsproto.Value(in.RoleArn), logging: in.LoggingConfiguration,
		tracing: in.TracingConfiguration, encryption: in.EncryptionConfiguration}
	if err := s.checkConfig(ctx, sc, typ, c); err != nil {
		return nil, err
	}
	if in.VersionDescription != nil && !awsproto.Value(in.Publish) {
		return nil, validation("Version description can only be set when publish is true")
	}
	now := s.now().UTC()
	m := &machine{ARN: sc.machineARN(name), Name: name, Type: typ, Definition: c.definition, RoleARN: c.role,
		Logging: defaultLogging(c.logging), Tracing: defaultTracing(c.tracing), Encryption: defaultEncryption(c.encryption),
		RevisionID: uuid.New(), Created: now, Updated: now, Tags: tags}
	out := &CreateStateMachineOutput{}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		old, err := loadMachine(tx.QueryRow, m.ARN)
		if err != nil {
			return err
		}
		if old != nil {
			// Creating again what exists is idempotent; role and tags do not count.
			if !sameConfig(old, m) || awsproto.Value(in.Publish) != (old.LastVersion > 0) {
				return apiError("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", m.ARN)
			}
			out.StateMachineArn, out.CreationDate = &old.ARN, &old.Created
			if old.LastVersion > 0 {
				out.StateMachineVersionArn = awsproto.Ptr(old.versionARN(old.LastVersion))
			}
			return nil
		}
		if awsproto.Value(in.Publish) {
			v, err := publish(tx, m, awsproto.Value(in.VersionDescription), now)
			if err != nil {
				return err
			}
			out.StateMachineVersionArn = awsproto.Ptr(m.versionARN(v.Number))
		}
		out.StateMachineArn, out.CreationDate = &m.ARN, &m.Created
		return putMachine(tx, sc, m)
	})
	if err != nil {
		return nil, wrap("create state machine", err)
	}
	return out, nil
}

// sameConfig reports whether two state machines are the same for CreateStateMachine's
// idempotency: name, definition, type and configurations.
func sameConfig(a, b *machine) bool {
	return a.Definition == b.Definition && a.Type == b.Type && reflect.DeepEqual(a.Logging, b.Logging) &&
		reflect.DeepEqual(a.Tracing, b.Tracing) && reflect.DeepEqual(a.Encryption, b.Encryption)
}

func defaultLogging(l *LoggingConfiguration) *LoggingConfiguration {
	if l == nil {
		return &LoggingConfiguration{Level: awsproto.Ptr("OFF"), IncludeExecutionData: awsproto.Ptr(false)}
	}
	c := *l
	if c.Level == nil {
		c.Level = awsproto.Ptr("OFF")
	}
	if c.IncludeExecutionData == nil {
		c.IncludeExecutionData = awsproto.Ptr(false)
	}
	return &c
}

func defaultTracing(t *TracingConfiguration) *TracingConfiguration {
	if t == nil || t.Enabled == nil {
		return &TracingConfiguration{Enabled: awsproto.Ptr(false)}
	}
	return t
}

func defaultEncryption(e *EncryptionConfiguration) *EncryptionConfiguration {
	if e == nil {
		return &EncryptionConfiguration{Type: awsproto.Ptr("AWS_OWNED_KEY")}
	}
	return e
}

func (s *Service) describeStateMachine(ctx context.Context, in *DescribeStateMachineInput) (*DescribeStateMachineOutput, error) {
	arn := awsproto.Value(in.StateMachineArn)
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return nil, err
	}
	if ref.alias != "" {
		return nil, invalidARN(arn)
	}
	m, err := requireMachine(s.reader(ctx), ref.machineARN())
	if err != nil {
		return nil, wrap("describe state machine", err)
	}
	out := &DescribeStateMachineOutput{StateMachineArn: &m.ARN, Name: &m.Name, Status: awsproto.Ptr("ACTIVE"),
		Definition: &m.Definition, RoleArn: &m.RoleARN, Type: &m.Type, CreationDate: &m.Created,
		LoggingConfiguration: m.Logging, TracingConfiguration: m.Tracing, EncryptionConfiguration: m.Encryption,
		RevisionId: &m.RevisionID}
	if ref.version > 0 {
		v, err := loadVersion(s.reader(ctx), m.ARN, ref.version)
		if err != nil {
			return nil, wrap("describe state machine", err)
		}
		if v == nil {
			return nil, resourceNotFound(arn)
		}
		out.StateMachineArn, out.Definition, out.RoleArn, out.CreationDate = &arn, &v.Definition, &v.RoleARN, &v.Created
		out.LoggingConfiguration, out.TracingConfiguration, out.EncryptionConfiguration = v.Logging, v.Tracing, v.Encryption
		out.RevisionId = &v.RevisionID
		if v.Description != "" {
			out.Description = &v.Description
		}
	}
	return out, nil
}

func (s *Service) updateStateMachine(ctx context.Context, in *UpdateStateMachineInput) (*UpdateStateMachineOutput, error) {
	arn := awsproto.Value(in.StateMachineArn)
	ref, err := parseMachineARN(arn, false)
	if err != nil {
		return nil, err
	}
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil &&
		in.EncryptionConfiguration == nil {
		return nil, apiError("MissingRequiredParameter",
			"Either the definition, the role ARN, the LoggingConfiguration, the EncryptionConfiguration or the TracingConfiguration must be specified")
	}
	if in.VersionDescription != nil && !awsproto.Value(in.Publish) {
		return nil, validation("Version description can only be set when publish is true")
	}
	m, err := requireMachine(s.reader(ctx), ref.machineARN())
	if err != nil {
		return nil, wrap("update state machine", err)
	}
	c := config{definition: awsproto.Value(in.Definition), role: awsproto.Value(in.RoleArn), logging: in.LoggingConfiguration,
		tracing: in.TracingConfiguration, encryption: in.EncryptionConfiguration}
	if err := s.checkConfig(ctx, ref.sc, m.Type, c); err != nil {
		return nil, err
	}
	out := &UpdateStateMachineOutput{}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		m, err := requireMachine(tx.QueryRow, ref.machineARN())
		if err != nil {
			return err
		}
		before := *m
		if c.definition != "" {
			m.Definition = c.definition
		}
		if c.role != "" {
			m.RoleARN = c.role
		}
		if c.logging != nil {
			m.Logging = defaultLogging(c.logging)
		}
		if c.tracing != nil {
			m.Tracing = defaultTracing(c.tracing)
		}
		if c.encryption != nil {
			m.Encryption = defaultEncryption(c.encryption)
		}
		now := s.now().UTC()
		if !sameConfig(&before, m) || before.RoleARN != m.RoleARN {
			m.RevisionID, m.Updated = uuid.New(), now
		}
		if awsproto.Value(in.Publish) {
			v, err := publish(tx, m, awsproto.Value(in.VersionDescription), now)
			if err != nil {
				return err
			}
			out.StateMachineVersionArn = awsproto.Ptr(m.versionARN(v.Number))
		}
		out.UpdateDate, out.RevisionId = &m.Updated, &m.RevisionID
		return putMachine(tx, ref.sc, m)
	})
	if err != nil {
		return nil, wrap("update state machine", err)
	}
	return out, nil
}

func (s *Service) deleteStateMachine(ctx context.Context, in *DeleteStateMachineInput) (*DeleteStateMachineOutput, error) {
	arn := awsproto.Value(in.StateMachineArn)
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return nil, err
	}
	if ref.version > 0 || ref.alias != "" {
		return nil, validation("Deleting a state machine version or alias with DeleteStateMachine is not supported; use DeleteStateMachineVersion or DeleteStateMachineAlias.")
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		for _, q := range []string{`DELETE FROM sfn_machines WHERE arn = ?`, `DELETE FROM sfn_versions WHERE machine = ?`,
			`DELETE FROM sfn_aliases WHERE machine = ?`} {
			if _, err := tx.Exec(q, ref.machineARN()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap("delete state machine", err)
	}
	return &DeleteStateMachineOutput{}, nil
}

func (s *Service) listStateMachines(ctx context.Context, in *ListStateMachinesInput) (*ListStateMachinesOutput, error) {
	sc := scopeOf(ctx)
	all, err := queryDocs[machine](ctx, s.st, `SELECT doc FROM sfn_machines WHERE account = ? AND region = ? ORDER BY name`, sc.account, sc.region)
	if err != nil {
		return nil, wrap("list state machines", err)
	}
	items, next, err := page(all, "machines", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListStateMachinesOutput{NextToken: next, StateMachines: []StateMachineListItem{}}
	for _, m := range items {
		out.StateMachines = append(out.StateMachines, StateMachineListItem{StateMachineArn: awsproto.Ptr(m.ARN),
			Name: awsproto.Ptr(m.Name), Type: awsproto.Ptr(m.Type), CreationDate: awsproto.Ptr(m.Created)})
	}
	return out, nil
}

func (s *Service) publishStateMachineVersion(ctx context.Context, in *PublishStateMachineVersionInput) (*PublishStateMachineVersionOutput, error) {
	ref, err := parseMachineARN(awsproto.Value(in.StateMachineArn), false)
	if err != nil {
		return nil, err
	}
	out := &PublishStateMachineVersionOutput{}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		m, err := requireMachine(tx.QueryRow, ref.machineARN())
		if err != nil {
			return err
		}
		if in.RevisionId != nil && *in.RevisionId != m.RevisionID {
			return apiError("ConflictException",
				"Failed to publish the State Machine version for revision %s. The current State Machine revision is %s.",
				*in.RevisionId, m.RevisionID)
		}
		v, err := publish(tx, m, awsproto.Value(in.Description), s.now().UTC())
		if err != nil {
			return err
		}
		out.StateMachineVersionArn, out.CreationDate = awsproto.Ptr(m.versionARN(v.Number)), &v.Created
		return putMachine(tx, ref.sc, m)
	})
	if err != nil {
		return nil, wrap("publish state machine version", err)
	}
	return out, nil
}

func (s *Service) listStateMachineVersions(ctx context.Context, in *ListStateMachineVersionsInput) (*ListStateMachineVersionsOutput, error) {
	ref, err := parseMachineARN(awsproto.Value(in.StateMachineArn), false)
	if err != nil {
		return nil, err
	}
	if _, err := requireMachine(s.reader(ctx), ref.machineARN()); err != nil {
		return nil, wrap("list versions", err)
	}
	all, err := queryDocs[version](ctx, s.st, `SELECT doc FROM sfn_versions WHERE machine = ? ORDER BY version DESC`, ref.machineARN())
	if err != nil {
		return nil, wrap("list versions", err)
	}
	items, next, err := page(all, "versions", in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := &ListStateMachineVersionsOutput{NextToken: next, StateMachineVersions: []StateMachineVersionListItem{}}
	for _, v := range items {
		out.StateMachineVersions = append(out.StateMachineVersions, StateMachineVersionListItem{
			StateMachineVersionArn: awsproto.Ptr(ref.machineARN() + ":" + strconv.FormatInt(v.Number, 10)), CreationDate: awsproto.Ptr(v.Created)})
	}
	return out, nil
}

func (s *Service) deleteStateMachineVersion(ctx context.Context, in *DeleteStateMachineVersionInput) (*DeleteStateMachineVersionOutput, error) {
	arn := awsproto.Value(in.StateMachineVersionArn)
	ref, err := parseMachineARN(arn, true)
	if err != nil {
		return nil, err
	}
	if ref.version == 0 {
		return nil, invalidARN(arn)
	}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		aliases, err := aliasesOf(tx, ref.machineARN())
		if err != nil {
			return err
		}
		var using []string
		for _, a := range aliases {
			for _, r := range a.Routing {
				if r.Version == arn {
					using = append(using, ref.machineARN()+":"+a.Name)
				}
			}
		}
		if len(using) > 0 {
			sort.Strings(using)
			return apiError("ConflictException",
				"Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [%s]",
				strings.Join(using, ", "))
		}
		_, err = tx.Exec(`DELETE FROM sfn_versions WHERE machine = ? AND version = ?`, ref.machineARN(), ref.version)
		return err
	})
	if err != nil {
		return nil, wrap("delete version", err)
	}
	return &DeleteStateMachineVersionOutput{}, nil
}

func (s *Service) validateStateMachineDefinition(ctx context.Context, in *ValidateStateMachineDefinitionInput) (*ValidateStateMachineDefinitionOutput, error) {
	def := []byte(awsproto.Value(in.Definition))
	typ := awsproto.Value(in.Type)
	if typ == "" {
		typ = typeStandard
	}
	diags := asl.Validate(def)
	if len(diags) == 0 {
		if err := s.checkDefinition(ctx, scopeOf(ctx), typ, def); err != nil {
			var ae *awsproto.Error
			if errors.As(err, &ae) {
				diags = append(diags, asl.Diagnostic{Severity: "ERROR", Code: "SCHEMA_VALIDATION_FAILED", Message: ae.Message})
			}
		}
	}
	minSeverity := awsproto.Value(in.Severity)
	if minSeverity == "" {
		minSeverity = "ERROR"
	}
	limit := int(awsproto.Value(in.MaxResults))
	if limit <= 0 {
		limit = 100
	}
	out := &ValidateStateMachineDefinitionOutput{Result: awsproto.Ptr("OK"), Diagnostics: []ValidateStateMachineDefinitionDiagnostic{},
		Truncated: awsproto.Ptr(false)}
	for _, d := range diags {
		if d.Severity == "ERROR" {
			out.Result = awsproto.Ptr("FAIL")
		}
		if minSeverity == "ERROR" && d.Severity != "ERROR" {
			continue
		}
		if len(out.Diagnostics) == limit {
			out.Truncated = awsproto.Ptr(true)
			continue
		}
		item := ValidateStateMachineDefinitionDiagnostic{Severity: awsproto.Ptr(d.Severity), Code: awsproto.Ptr(d.Code), Message: awsproto.Ptr(d.Message)}
		if d.Location != "" {
			item.Location = awsproto.Ptr(d.Location)
		}
		out.Diagnostics = append(out.Diagnostics, item)
	}
	return out, nil
}
