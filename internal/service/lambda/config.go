package lambda

import (
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// States of a function version and of its last update, as AWS names them.
const (
	statePending     = "Pending"
	stateActive      = "Active"
	updateInProgress = "InProgress"
	updateSuccessful = "Successful"
)

// fnConfig is the configuration of one function version ($LATEST or a published one), stored
// as JSON in lambda_versions.config.
type fnConfig struct {
	Version          string            `json:"version"`
	Runtime          string            `json:"runtime"`
	Handler          string            `json:"handler"`
	Role             string            `json:"role"`
	Description      string            `json:"description,omitempty"`
	MemoryMB         int32             `json:"memoryMB"`
	Timeout          int32             `json:"timeout"`
	EphemeralMB      int32             `json:"ephemeralMB"`
	Env              map[string]string `json:"env,omitempty"`
	DeadLetterTarget string            `json:"deadLetterTarget,omitempty"`
	TracingMode      string            `json:"tracingMode,omitempty"`
	Architectures    []string          `json:"architectures,omitempty"`
	Layers           []string          `json:"layers,omitempty"`
	KMSKeyArn        string            `json:"kmsKeyArn,omitempty"`
	Subnets          []string          `json:"subnets,omitempty"`
	SecurityGroups   []string          `json:"securityGroups,omitempty"`
	LogFormat        string            `json:"logFormat,omitempty"`
	LogGroup         string            `json:"logGroup,omitempty"`
	AppLogLevel      string            `json:"appLogLevel,omitempty"`
	SystemLogLevel   string            `json:"systemLogLevel,omitempty"`
	CodeSha          string            `json:"codeSha"` // hex SHA-256 of the zip
	CodeSize         int64             `json:"codeSize"`
	RevisionID       string            `json:"revisionId"`
	LastModified     time.Time         `json:"lastModified"`

	State                      string `json:"state"`
	StateReason                string `json:"stateReason,omitempty"`
	StateReasonCode            string `json:"stateReasonCode,omitempty"`
	LastUpdateStatus           string `json:"lastUpdateStatus,omitempty"`
	LastUpdateStatusReason     string `json:"lastUpdateStatusReason,omitempty"`
	LastUpdateStatusReasonCode string `json:"lastUpdateStatusReasonCode,omitempty"`
}

// versionNum is the version's sort key: 0 for $LATEST.
func versionNum(v string) int64 {
	if v == latest {
		return 0
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n
}

// fingerprint digests what makes two versions the same: code and every setting that changes
// how the function runs. PublishVersion compares it, and pool keys carry it.
func (c *fnConfig) fingerprint() string {
	d := struct {
		Runtime, Handler, Role, Description string
		MemoryMB, Timeout, EphemeralMB      int32
		Env                                 map[string]string
		DeadLetterTarget, TracingMode       string
		Architectures, Layers               []string
		KMSKeyArn                           string
		Subnets, SecurityGroups             []string
		LogFormat, LogGroup                 string
		AppLogLevel, SystemLogLevel         string
		CodeSha                             string
	}{c.Runtime, c.Handler, c.Role, c.Description, c.MemoryMB, c.Timeout, c.EphemeralMB, c.Env,
		c.DeadLetterTarget, c.TracingMode, c.Architectures, c.Layers, c.KMSKeyArn, c.Subnets, c.SecurityGroups,
		c.LogFormat, c.LogGroup, c.AppLogLevel, c.SystemLogLevel, c.CodeSha}
	b, _ := json.Marshal(d) // maps marshal with sorted keys
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (c *fnConfig) clone() *fnConfig {
	n := *c
	n.Env = maps.Clone(c.Env)
	n.Architectures = slices.Clone(c.Architectures)
	n.Layers = slices.Clone(c.Layers)
	n.Subnets = slices.Clone(c.Subnets)
	n.SecurityGroups = slices.Clone(c.SecurityGroups)
	return &n
}

// codeSha256 is the zip's digest as AWS shows it: base64 of the raw SHA-256.
func (c *fnConfig) codeSha256() string { return hexToBase64(c.CodeSha) }

func hexToBase64(h string) string {
	raw, err := hex.DecodeString(h)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// newRevisionID returns a fresh revision id, a UUID like AWS's.
func newRevisionID() string { return newUUID() }

// newUUID returns a random (version 4) UUID, the form of Lambda's revision, request and event
// source mapping ids.
func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// awsTime formats a time as Lambda's LastModified strings do: 2006-01-02T15:04:05.000+0000.
func awsTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }

// rowQuerier is what both the read pool (with its context) and a write transaction offer.
type rowQuerier interface {
	QueryRow(query string, args ...any) *sql.Row
	Query(query string, args ...any) (*sql.Rows, error)
}

// loadVersion reads the configuration of one version ("$LATEST" or "N"); ok is false when it
// does not exist.
func loadVersion(q rowQuerier, r funcRef, version string) (*fnConfig, bool, error) {
	var body string
	err := q.QueryRow(`SELECT config FROM lambda_versions WHERE account = ? AND region = ? AND name = ? AND version_num = ?`,
		r.account, r.region, r.name, versionNum(version)).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("load function version: %w", err)
	}
	c, err := decodeConfig(body)
	return c, err == nil, err
}

func decodeConfig(body string) (*fnConfig, error) {
	var c fnConfig
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		return nil, fmt.Errorf("decode function config: %w", err)
	}
	return &c, nil
}

// saveVersion writes a version's row.
func saveVersion(tx txExec, r funcRef, c *fnConfig) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = tx.Exec(`INSERT INTO lambda_versions (account, region, name, version_num, code_sha, code_size, config)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account, region, name, version_num) DO UPDATE SET code_sha = excluded.code_sha,
		code_size = excluded.code_size, config = excluded.config`,
		r.account, r.region, r.name, versionNum(c.Version), c.CodeSha, c.CodeSize, string(body))
	if err != nil {
		return fmt.Errorf("save function version: %w", err)
	}
	return nil
}

// render is the FunctionConfiguration AWS returns for this version. brief leaves out the
// state members, as ListFunctions and ListVersionsByFunction do.
func (c *fnConfig) render(r funcRef, brief bool) FunctionConfiguration {
	q := ""
	if c.Version != latest {
		q = c.Version
	}
	out := FunctionConfiguration{
		FunctionName:     ptr(r.name),
		FunctionArn:      ptr(qualifiedARN(r.account, r.region, r.name, q)),
		Runtime:          ptr(c.Runtime),
		Role:             ptr(c.Role),
		Handler:          ptr(c.Handler),
		CodeSize:         ptr(c.CodeSize),
		Description:      ptr(c.Description),
		Timeout:          ptr(c.Timeout),
		MemorySize:       ptr(c.MemoryMB),
		LastModified:     ptr(awsTime(c.LastModified)),
		CodeSha256:       ptr(c.codeSha256()),
		Version:          ptr(c.Version),
		TracingConfig:    &TracingConfigResponse{Mode: ptr(orDefault(c.TracingMode, "PassThrough"))},
		RevisionId:       ptr(c.RevisionID),
		PackageType:      ptr("Zip"),
		Architectures:    orDefaultSlice(c.Architectures, []string{"x86_64"}),
		EphemeralStorage: &EphemeralStorage{Size: ptr(c.EphemeralMB)},
		SnapStart:        &SnapStartResponse{ApplyOn: ptr("None"), OptimizationStatus: ptr("Off")},
		LoggingConfig: &LoggingConfig{
			LogFormat: ptr(orDefault(c.LogFormat, "Text")),
			LogGroup:  ptr(orDefault(c.LogGroup, "/aws/lambda/"+r.name)),
		},
	}
	if c.AppLogLevel != "" {
		out.LoggingConfig.ApplicationLogLevel = ptr(c.AppLogLevel)
	}
	if c.SystemLogLevel != "" {
		out.LoggingConfig.SystemLogLevel = ptr(c.SystemLogLevel)
	}
	if len(c.Env) > 0 {
		out.Environment = &EnvironmentResponse{Variables: maps.Clone(c.Env)}
	}
	if c.DeadLetterTarget != "" {
		out.DeadLetterConfig = &DeadLetterConfig{TargetArn: ptr(c.DeadLetterTarget)}
	}
	if c.KMSKeyArn != "" {
		out.KMSKeyArn = ptr(c.KMSKeyArn)
	}
	if len(c.Subnets) > 0 || len(c.SecurityGroups) > 0 {
		out.VpcConfig = &VpcConfigResponse{SubnetIds: c.Subnets, SecurityGroupIds: c.SecurityGroups, VpcId: ptr("")}
	}
	for _, l := range c.Layers {
		out.Layers = append(out.Layers, Layer{Arn: ptr(l), CodeSize: ptr(int64(0))})
	}
	if !brief {
		out.State = ptr(c.State)
		out.StateReason = nonEmpty(c.StateReason)
		out.StateReasonCode = nonEmpty(c.StateReasonCode)
		out.LastUpdateStatus = nonEmpty(c.LastUpdateStatus)
		out.LastUpdateStatusReason = nonEmpty(c.LastUpdateStatusReason)
		out.LastUpdateStatusReasonCode = nonEmpty(c.LastUpdateStatusReasonCode)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDefaultSlice(s, def []string) []string {
	if len(s) == 0 {
		return def
	}
	return s
}
