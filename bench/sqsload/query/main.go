// Command query is sqsload's build for the SQS query protocol (see ../main.go): its module
// pins the last aws-sdk-go-v2 release whose SQS client spoke query rather than JSON 1.0.
// ../main.go runs it as the driver of query endpoints; on its own it compares query
// endpoints only.
package main

import "github.com/kiri-run/kiri/bench/sqsload/load"

func main() {
	load.Tool{Protocol: "query", Dial: dial}.Main()
}
