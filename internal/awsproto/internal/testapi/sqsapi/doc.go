// Package sqsapi holds generated wire types of the sqs model, used by awsproto's tests.
package sqsapi

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sqs -package sqsapi -out api_gen.go
