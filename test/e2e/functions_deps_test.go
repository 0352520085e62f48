package e2e

// The Go functions under testdata build inside this module, and testdata is outside what
// `go mod tidy` looks at: these imports keep the modules they use required.
import (
	_ "github.com/aws/aws-lambda-go/lambda"
	_ "github.com/aws/aws-sdk-go-v2/config"
)
