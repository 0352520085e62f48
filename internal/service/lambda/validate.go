package lambda

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// supportedRuntimes are the runtimes Kiri runs and Lambda accepts for new functions and updates
// (Lambda's runtimes page, late 2026): the OS-only runtimes, and the Python and Node.js
// versions, which run on the host's python3 and node whatever their version.
var supportedRuntimes = []string{
	"nodejs20.x", "nodejs22.x", "nodejs24.x",
	"python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
	"provided.al2023", "provided.al2",
}

// deprecatedRuntimes are those Lambda no longer accepts for new functions or updates. Functions
// stored with one still run.
var deprecatedRuntimes = []string{
	"nodejs", "nodejs4.3", "nodejs6.10", "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x", "nodejs16.x", "nodejs18.x",
	"nodejs4.3-edge", "python2.7", "python3.6", "python3.7", "python3.8", "java8", "go1.x", "provided",
	"dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1", "dotnetcore3.1", "dotnet6", "ruby2.5", "ruby2.7",
}

// successorRuntimes name, per runtime family, the runtime Lambda recommends in place of a
// deprecated one.
var successorRuntimes = []struct{ prefix, runtime string }{
	{"python", "python3.14"},
	{"nodejs", "nodejs24.x"},
	{"go1.x", "provided.al2023"},
	{"provided", "provided.al2023"},
	{"java", "java25"},
	{"dotnet", "dotnet10"},
	{"ruby", "ruby3.4"},
}

// Limits AWS documents for functions.
const (
	minMemoryMB         = 128
	maxMemoryMB         = 10240
	maxTimeout          = 900
	maxEnvBytes         = 4096
	maxZippedDirect     = 50 << 20    // ZipFile in the request
	maxRequestBytes     = 69905067    // the request-size figure AWS quotes for that
	maxUnzipped         = 262144000   // 250 MB
	totalCodeStorage    = 80530636800 // 75 GB per region
	accountConcurrency  = 1000
	minUnreserved       = 100
	defaultMemoryMB     = 128
	defaultTimeout      = 3
	defaultEphemeralMB  = 512
	defaultListMaxItems = 50
)

// reservedEnvKeys are environment variables Lambda sets itself and refuses from users.
var reservedEnvKeys = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
	"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
	"AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
	"AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
}

var (
	roleARN    = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envVarName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
)

func unknownRuntime(runtime string) *awsproto.Error {
	return invalidParameter("Value %s at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [%s] or be a valid ARN",
		runtime, strings.Join(supportedRuntimes, ", "))
}

// checkRuntime accepts a runtime Kiri runs and Lambda accepts, and answers Lambda's errors
// for a deprecated or an unknown one.
func checkRuntime(runtime string) error {
	switch {
	case slices.Contains(supportedRuntimes, runtime):
		return nil
	case slices.Contains(deprecatedRuntimes, runtime):
		return deprecatedRuntime(runtime)
	}
	return unknownRuntime(runtime)
}

// deprecatedRuntime is Lambda's answer to creating or updating a function on a deprecated runtime.
func deprecatedRuntime(runtime string) error {
	successor := "provided.al2023"
	for _, s := range successorRuntimes {
		if strings.HasPrefix(runtime, s.prefix) {
			successor = s.runtime
			break
		}
	}
	return invalidParameter("The runtime parameter of %s is no longer supported for creating or updating AWS Lambda functions. We recommend you use the new runtime (%s) while creating or updating functions.", runtime, successor)
}

func checkRole(role string) error {
	if !roleARN.MatchString(role) {
		return validation(fmt.Sprintf("Value '%s' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+", role))
	}
	return nil
}

// checkRoleAccount refuses, when Kiri assumes execution roles (strict mode), a role Lambda
// cannot assume for a function of account: one of another account, and with IAM enforced one
// that does not exist or does not trust lambda.amazonaws.com (STS decides).
func (s *Service) checkRoleAccount(ctx context.Context, account, role string) error {
	if s.deps.CheckRole == nil {
		return nil
	}
	if err := s.deps.CheckRole(ctx, account, role); err != nil {
		return invalidParameter("The role defined for the function cannot be assumed by Lambda.")
	}
	return nil
}

func checkHandler(h string) error {
	if h == "" || strings.ContainsAny(h, " \t\r\n") || len(h) > 128 {
		return validation(fmt.Sprintf("Value '%s' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+", h))
	}
	return nil
}

// checkMemory and checkTimeout enforce the upper limits the model leaves wider than AWS does
// for ordinary functions (the lower ones the model validation checks).
func checkMemory(mb int32) error {
	if mb < minMemoryMB {
		return validation(fmt.Sprintf("Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to %d", mb, minMemoryMB))
	}
	if mb > maxMemoryMB {
		return validation(fmt.Sprintf("Value '%d' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to %d", mb, maxMemoryMB))
	}
	return nil
}

func checkTimeout(t int32) error {
	if t < 1 {
		return validation(fmt.Sprintf("Value '%d' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1", t))
	}
	if t > maxTimeout {
		return validation(fmt.Sprintf("Value '%d' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to %d", t, maxTimeout))
	}
	return nil
}

// checkEnv applies AWS's environment rules: variable names, reserved keys and the 4 KB limit
// on the variables measured as JSON.
func checkEnv(env map[string]string) error {
	var reserved []string
	for k := range env {
		if !envVarName.MatchString(k) {
			return validation(fmt.Sprintf("Value '%s' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]", k))
		}
		if slices.Contains(reservedEnvKeys, k) {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		sort.Strings(reserved)
		return invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ", "))
	}
	measured, _ := json.Marshal(env)
	if len(measured) > maxEnvBytes {
		return invalidParameter("Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", measured)
	}
	return nil
}

// checkArchitectures allows one of x86_64 and arm64.
func checkArchitectures(a []string) error {
	if a == nil {
		return nil
	}
	if len(a) != 1 {
		return validation(fmt.Sprintf("Value '[%s]' at 'architectures' failed to satisfy constraint: Member must have length less than or equal to 1", strings.Join(a, ", ")))
	}
	return nil
}

// checkDeadLetter allows SQS queues and SNS topics.
func checkDeadLetter(arn string) error {
	if arn == "" || strings.HasPrefix(arn, "arn:aws:sqs:") || strings.HasPrefix(arn, "arn:aws:sns:") {
		return nil
	}
	return invalidParameter("The provided target arn is invalid: %s", arn)
}
