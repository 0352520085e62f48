// Package s3api holds generated wire types of the s3 model, used by awsproto's tests.
package s3api

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model s3 -package s3api -out api_gen.go
