module github.com/kiri-run/kiri

go 1.26.8

require (
	github.com/aws/aws-lambda-go v1.55.1 // tests only: unmodified aws-lambda-go functions run in Kiri
	github.com/aws/aws-sdk-go-v2 v1.48.0 // real AWS clients drive Kiri in tests; `kiri sfn path` is a Step Functions client
	github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream v1.7.26 // event stream framing (vnd.amazon.eventstream) for streaming responses; AWS-maintained, pure Go
	github.com/aws/aws-sdk-go-v2/config v1.33.19 // tests only: the SDK inside test functions reaches Kiri through AWS_ENDPOINT_URL
	github.com/aws/aws-sdk-go-v2/credentials v1.21.1
	github.com/aws/aws-sdk-go-v2/service/apigateway v1.40.2 // tests only: REST APIs driven by the SDK
	github.com/aws/aws-sdk-go-v2/service/apigatewayv2 v1.35.2
	github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs v1.92.0
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.1
	github.com/aws/aws-sdk-go-v2/service/dynamodbstreams v1.48.0
	github.com/aws/aws-sdk-go-v2/service/eventbridge v1.55.11
	github.com/aws/aws-sdk-go-v2/service/iam v1.68.0
	github.com/aws/aws-sdk-go-v2/service/lambda v1.114.2
	github.com/aws/aws-sdk-go-v2/service/pipes v1.24.2
	github.com/aws/aws-sdk-go-v2/service/s3 v1.114.8
	github.com/aws/aws-sdk-go-v2/service/scheduler v1.18.2
	github.com/aws/aws-sdk-go-v2/service/schemas v1.35.2 // tests only
	github.com/aws/aws-sdk-go-v2/service/sfn v1.41.2 // tests, and `kiri sfn path`'s client
	github.com/aws/aws-sdk-go-v2/service/sns v1.47.9
	github.com/aws/aws-sdk-go-v2/service/sqs v1.52.10
	github.com/aws/aws-sdk-go-v2/service/sts v1.52.0
	github.com/aws/smithy-go v1.28.9 // tests only: typed AWS errors
	github.com/cockroachdb/apd/v3 v3.2.3 // DynamoDB numbers: exact decimal arithmetic (38 digits, exponents -130…125) for SET a + b and ADD; CockroachDB-maintained, pure Go, no dependencies
	github.com/go-jose/go-jose/v4 v4.1.9 // JOSE/JWT: STS verifies web identity tokens (RS256, ES256...) against an OpenID provider's JWKS
	// WebSocket APIs: gorilla reuses the HTTP server's hijacked read buffer and lends write
	// buffers from a pool only while writing, with no goroutine of its own, so an idle
	// connection costs one goroutine and one 4 KiB buffer; pure Go, maintained.
	github.com/gorilla/websocket v1.5.3
	github.com/jackc/pgx/v5 v5.12.0 // PostgreSQL store backend for scale-out; pure Go
	github.com/minio/crc64nvme v1.1.1 // CRC64NVME, S3's default object checksum, with a precomputed table and SIMD; MinIO-maintained (hash/crc64 rebuilds its table on every write for this polynomial)
	github.com/prometheus/client_golang v1.25.0 // /_kiri/metrics in the Prometheus text format
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.2 // API Gateway request validation: models are JSON Schema draft 4; maintained, pure Go, no loader but the one given
	go.opentelemetry.io/otel v1.47.0 // W3C trace context propagation (API only, no SDK)
	go.opentelemetry.io/otel/trace v1.47.0
	go.uber.org/goleak v1.3.0 // tests only: goroutine leak checks
	golang.org/x/sys v0.49.0 // the function sandbox: namespaces, seccomp, capabilities
	golang.org/x/time v0.16.0 // token buckets: API Gateway route throttling; Go-team maintained, pure Go
	modernc.org/sqlite v1.61.1 // default store: embedded SQLite in pure Go (no cgo), WAL
)

require (
	github.com/aws/aws-sdk-go-v2/feature/ec2/imds v1.20.9 // indirect
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.12 // indirect
	github.com/aws/aws-sdk-go-v2/internal/v4a v1.5.12 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding v1.13.25 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/checksum v1.11.11 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/endpoint-discovery v1.13.10 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/presigned-url v1.14.12 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/s3shared v1.20.10 // indirect
	github.com/aws/aws-sdk-go-v2/service/signin v1.13.1 // indirect
	github.com/aws/aws-sdk-go-v2/service/sso v1.39.5 // indirect
	github.com/aws/aws-sdk-go-v2/service/ssooidc v1.44.5 // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dustin/go-humanize v1.1.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/klauspost/cpuid/v2 v2.2.9 // indirect
	github.com/mattn/go-isatty v0.0.24 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/ncruces/go-strftime v1.1.0 // indirect
	github.com/prometheus/client_model v0.6.3 // indirect
	github.com/prometheus/common v0.72.0 // indirect
	github.com/prometheus/procfs v0.22.0 // indirect
	github.com/remyoudompheng/bigfft v0.0.0-20230129092748-24d4a6f8daec // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/text v0.42.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	modernc.org/libc v1.79.0 // indirect
	modernc.org/mathutil v1.7.1 // indirect
	modernc.org/memory v1.12.1 // indirect
)
