// Command apigen writes Go types for the structure shapes of one embedded AWS service model.
// Each structure becomes an exported struct whose fields are tagged `aws:"Member"`, the tag the
// awsproto codec maps by. Typical use, next to a service package:
//
//	//go:generate go run github.com/kiri-run/kiri/internal/awsproto/apigen -model sts -package sts -out api_gen.go
package main

import (
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/kiri-run/kiri/internal/awsproto/apigen/gen"
)

func main() {
	modelName := flag.String("model", "", "embedded model name, e.g. sts")
	pkg := flag.String("package", "", "Go package name of the output")
	out := flag.String("out", "", "output file (default: stdout)")
	flag.Parse()
	if *modelName == "" || *pkg == "" {
		flag.Usage()
		os.Exit(2)
	}
	src, err := gen.Generate(*modelName, *pkg)
	if err != nil {
		log.Fatal(err)
	}
	if *out == "" {
		fmt.Print(string(src))
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
