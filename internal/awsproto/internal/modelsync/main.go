// Command modelsync copies the AWS service models Kiri speaks from a botocore
// data directory into internal/awsproto/models, dropping documentation so the
// embedded copies stay small. Run it from the repository root:
//
//	go run ./internal/awsproto/internal/modelsync -botocore $(python3 -c 'import botocore,os;print(os.path.dirname(botocore.__file__))')/data
//
// With -query-botocore it also copies the query-protocol models of services that moved to
// JSON (see queryTwins) from the data directory of the last botocore release that had them.
package main

import (
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strings"
)

// services maps botocore's directory name to the API version Kiri implements.
var services = map[string]string{
	"apigateway":              "2015-07-09",
	"apigatewaymanagementapi": "2018-11-29",
	"apigatewayv2":            "2018-11-29",
	"cloudformation":          "2010-05-15",
	"dynamodb":                "2012-08-10",
	"dynamodbstreams":         "2012-08-10",
	"events":                  "2015-10-07",
	"iam":                     "2010-05-08",
	"kinesis":                 "2013-12-02",
	"lambda":                  "2015-03-31",
	"logs":                    "2014-03-28",
	"pipes":                   "2015-10-07",
	"s3":                      "2006-03-01",
	"scheduler":               "2021-06-30",
	"schemas":                 "2019-12-02",
	"sns":                     "2010-03-31",
	"sqs":                     "2012-11-05",
	"stepfunctions":           "2016-11-23",
	"sts":                     "2011-06-15",
}

// queryTwins maps a query twin's model name to the botocore directory of the service's last
// query-protocol model. SQS moved to JSON in botocore 1.34.90; 1.34.89 has its query model,
// which the AWS CLI v2.9 and boto3 1.26 still speak and AWS still answers.
var queryTwins = map[string]string{
	"sqs-query": "sqs/2012-11-05",
}

// dropped are keys that carry prose only.
var dropped = map[string]bool{"documentation": true, "documentationUrl": true, "deprecatedMessage": true, "examples": true}

func main() {
	src := flag.String("botocore", "", "botocore data directory")
	querySrc := flag.String("query-botocore", "", "data directory of botocore 1.34.89, for the query twins (optional)")
	dst := flag.String("out", "internal/awsproto/models", "output directory")
	flag.Parse()
	if *src == "" {
		log.Fatal("-botocore is required")
	}
	for name, version := range services {
		if err := syncModel(filepath.Join(*src, name, version, "service-2.json.gz"), filepath.Join(*dst, name+".json")); err != nil {
			log.Fatal(err)
		}
	}
	if *querySrc == "" {
		return
	}
	for name, dir := range queryTwins {
		from := filepath.Join(*querySrc, dir, "service-2.json")
		if _, err := os.Stat(from); err != nil {
			from += ".gz"
		}
		if err := syncModel(from, filepath.Join(*dst, name+".json")); err != nil {
			log.Fatal(err)
		}
	}
}

func syncModel(from, to string) error {
	f, err := os.Open(from)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(from, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", from, err)
		}
		r = gz
	}
	var model any
	if err := json.NewDecoder(r).Decode(&model); err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	out, err := json.Marshal(strip(model))
	if err != nil {
		return err
	}
	return os.WriteFile(to, append(out, '\n'), 0o644)
}

func strip(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if dropped[k] {
				delete(t, k)
				continue
			}
			t[k] = strip(e)
		}
	case []any:
		for i, e := range t {
			t[i] = strip(e)
		}
	}
	return v
}
