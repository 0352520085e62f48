// Package lambdaapi holds generated wire types of the lambda model, used by awsproto's tests.
package lambdaapi

//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model lambda -package lambdaapi -out api_gen.go
