package apigateway

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/proxyevent"
	"github.com/kiri-run/kiri/internal/runtime"
	"github.com/kiri-run/kiri/internal/service"
)

// logAppender stores log events (implemented by the CloudWatch Logs service).
type logAppender interface {
	AppendRuntimeLogs(ctx context.Context, account, region, group, stream string, events []runtime.LogEvent) error
}

var (
	logGroupARN     = regexp.MustCompile(`^arn:aws[a-z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([\w#./-]{1,512}?)(:\*)?$`)
	contextVariable = regexp.MustCompile(`\$context\.[A-Za-z0-9_.]+`)
)

// checkAccessLogs accepts access log settings to a log group of the caller's account and region
// whose format identifies each request, as API Gateway requires.
func checkAccessLogs(sc scope, a *AccessLogSettings) error {
	if a == nil {
		return nil
	}
	m := logGroupARN.FindStringSubmatch(awsproto.Value(a.DestinationArn))
	if m == nil || m[1] != sc.region || m[2] != sc.account {
		return badRequest("Invalid destination ARN %s: it must be a CloudWatch Logs log group ARN of this account and region", awsproto.Value(a.DestinationArn))
	}
	f := awsproto.Value(a.Format)
	if !strings.Contains(f, "$context.requestId") && !strings.Contains(f, "$context.extendedRequestId") {
		return badRequest("Access Log format must contain either $context.requestId or $context.extendedRequestId")
	}
	return nil
}

// accessRecord is what one request's access log line may say.
type accessRecord struct {
	start              time.Time
	requestID          string
	d                  *deployedAPI
	routeKey           string
	integrationStatus  int
	integrationLatency time.Duration
	integrationError   string
	status             int
	length             int
	// mapResponse applies the integration's response parameters to its answer; nil without any.
	mapResponse func(status int, h http.Header, body []byte) int
}

// recorder notes a response's status and length for the access log.
type recorder struct {
	http.ResponseWriter
	rec *accessRecord
}

func (r *recorder) WriteHeader(status int) {
	if r.rec.status == 0 {
		r.rec.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.rec.status == 0 {
		r.rec.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(p)
	r.rec.length += n
	return n, err
}

// render fills the format's $context variables; one Kiri does not know renders as "-".
func (a *accessRecord) render(r *http.Request, format string, now time.Time) string {
	v := map[string]string{
		"$context.requestId":                     a.requestID,
		"$context.extendedRequestId":             a.requestID,
		"$context.accountId":                     a.d.sc.account,
		"$context.apiId":                         a.d.apiID,
		"$context.domainName":                    hostName(r),
		"$context.domainPrefix":                  a.d.apiID,
		"$context.httpMethod":                    r.Method,
		"$context.identity.sourceIp":             proxyevent.SourceIP(r),
		"$context.identity.userAgent":            r.UserAgent(),
		"$context.path":                          r.URL.Path,
		"$context.protocol":                      r.Proto,
		"$context.requestTime":                   a.start.UTC().Format(requestTimeLayout),
		"$context.requestTimeEpoch":              strconv.FormatInt(a.start.UnixMilli(), 10),
		"$context.routeKey":                      a.routeKey,
		"$context.stage":                         awsproto.Value(a.d.stage.StageName),
		"$context.status":                        strconv.Itoa(a.status),
		"$context.responseLength":                strconv.Itoa(a.length),
		"$context.responseLatency":               strconv.FormatInt(now.Sub(a.start).Milliseconds(), 10),
		"$context.integrationErrorMessage":       a.integrationError,
		"$context.integration.error":             a.integrationError,
		"$context.integrationStatus":             "",
		"$context.integration.status":            "",
		"$context.integrationLatency":            "",
		"$context.integration.latency":           "",
		"$context.integration.integrationStatus": "",
	}
	if a.integrationStatus != 0 {
		st, lat := strconv.Itoa(a.integrationStatus), strconv.FormatInt(a.integrationLatency.Milliseconds(), 10)
		v["$context.integrationStatus"], v["$context.integration.status"], v["$context.integration.integrationStatus"] = st, st, st
		v["$context.integrationLatency"], v["$context.integration.latency"] = lat, lat
	}
	return contextVariable.ReplaceAllStringFunc(format, func(name string) string {
		if s := v[name]; s != "" {
			return s
		}
		return "-"
	})
}

// writeAccessLog appends the request's access log line to the stage's log group.
func (s *Service) writeAccessLog(ctx context.Context, r *http.Request, a *accessRecord) {
	settings := a.d.stage.AccessLogSettings
	if settings == nil {
		return
	}
	m := logGroupARN.FindStringSubmatch(awsproto.Value(settings.DestinationArn))
	logs, ok := service.Lookup[logAppender](s.services, "logs")
	if m == nil || !ok {
		return
	}
	now := s.now()
	line := a.render(r, awsproto.Value(settings.Format), now)
	stream := a.d.apiID + "_" + strings.TrimPrefix(awsproto.Value(a.d.stage.StageName), "$")
	if err := logs.AppendRuntimeLogs(context.WithoutCancel(ctx), a.d.sc.account, a.d.sc.region, m[3], stream,
		[]runtime.LogEvent{{Time: now, Message: line}}); err != nil {
		s.log.Warn("access log not written", "api", a.d.apiID, "error", err)
	}
}
