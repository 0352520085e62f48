// Package dynamodbapi holds generated wire types of the dynamodb model, used by awsproto's tests.
package dynamodbapi

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model dynamodb -package dynamodbapi -out api_gen.go
