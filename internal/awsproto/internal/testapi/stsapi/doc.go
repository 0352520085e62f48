// Package stsapi holds generated wire types of the sts model, used by awsproto's tests.
package stsapi

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sts -package stsapi -out api_gen.go
