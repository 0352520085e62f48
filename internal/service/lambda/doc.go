// Package lambda implements the AWS Lambda control plane on Kiri's planes: functions, their
// published versions, aliases, tags, resource policies, concurrency, event invoke configs and
// function URL configs live in the store; code zips live in the blob store, deduplicated by
// their SHA-256, and are unpacked once per digest into the functions directory for the runtime.
package lambda

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model lambda -package lambda -out api_gen.go
