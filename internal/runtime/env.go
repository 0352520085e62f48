package runtime

import (
	"sort"
	"strconv"
	"strings"
)

// reservedEnv are the keys Lambda sets itself; a function's own values for them are ignored,
// as Lambda refuses them. Credentials are not here: the caller passes them in Environment.
var reservedEnv = map[string]bool{
	"_HANDLER": true, "_X_AMZN_TRACE_ID": true, "AWS_DEFAULT_REGION": true, "AWS_REGION": true,
	"AWS_EXECUTION_ENV": true, "AWS_LAMBDA_FUNCTION_NAME": true, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": true,
	"AWS_LAMBDA_FUNCTION_VERSION": true, "AWS_LAMBDA_INITIALIZATION_TYPE": true,
	"AWS_LAMBDA_LOG_GROUP_NAME": true, "AWS_LAMBDA_LOG_STREAM_NAME": true,
	"AWS_LAMBDA_RUNTIME_API": true, "LAMBDA_TASK_ROOT": true, "LAMBDA_RUNTIME_DIR": true,
}

// baseEnv is an instance's environment without its per-instance keys (log stream and Runtime
// API address), sorted for stable output.
func baseEnv(fn *Function, runtimeDir, endpoint string) []string {
	platform := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION":     fn.Version,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME":       fn.LogGroup,
		"AWS_REGION":                      fn.Region,
		"AWS_DEFAULT_REGION":              fn.Region,
		"AWS_EXECUTION_ENV":               "AWS_Lambda_" + fn.Runtime,
		"AWS_LAMBDA_INITIALIZATION_TYPE":  "on-demand",
		"_HANDLER":                        fn.Handler,
		"LAMBDA_TASK_ROOT":                fn.CodeDir,
		"LAMBDA_RUNTIME_DIR":              runtimeDir,
		"TZ":                              ":UTC",
		"LANG":                            "en_US.UTF-8",
		"PATH":                            "/usr/local/bin:/usr/bin:/bin:/opt/bin",
		"LD_LIBRARY_PATH":                 strings.Join([]string{runtimeDir, fn.CodeDir, fn.CodeDir + "/lib", "/opt/lib"}, ":"),
	}
	if endpoint != "" {
		platform["AWS_ENDPOINT_URL"] = endpoint
	}
	env := make(map[string]string, len(platform)+len(fn.Environment))
	for k, v := range platform {
		env[k] = v
	}
	for k, v := range fn.Environment {
		if !reservedEnv[k] && k != "" && !strings.ContainsAny(k, "=\x00") {
			env[k] = v
		}
	}
	out := make([]string, 0, len(env)+2)
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// instanceEnv adds an instance's own keys to the base environment.
func instanceEnv(base []string, stream, runtimeAPI string) []string {
	out := make([]string, len(base), len(base)+2)
	copy(out, base)
	return append(out, "AWS_LAMBDA_LOG_STREAM_NAME="+stream, "AWS_LAMBDA_RUNTIME_API="+runtimeAPI)
}
