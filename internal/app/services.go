package app

import (
	"github.com/kiri-run/kiri/internal/service"
	"github.com/kiri-run/kiri/internal/service/apigateway"
	"github.com/kiri-run/kiri/internal/service/apigateway/connections"
	"github.com/kiri-run/kiri/internal/service/dynamodb"
	"github.com/kiri-run/kiri/internal/service/dynamodb/streams"
	"github.com/kiri-run/kiri/internal/service/events"
	"github.com/kiri-run/kiri/internal/service/iam"
	"github.com/kiri-run/kiri/internal/service/lambda"
	"github.com/kiri-run/kiri/internal/service/logs"
	"github.com/kiri-run/kiri/internal/service/pipes"
	"github.com/kiri-run/kiri/internal/service/s3"
	"github.com/kiri-run/kiri/internal/service/scheduler"
	"github.com/kiri-run/kiri/internal/service/schemas"
	"github.com/kiri-run/kiri/internal/service/sfn"
	"github.com/kiri-run/kiri/internal/service/sns"
	"github.com/kiri-run/kiri/internal/service/sqs"
	"github.com/kiri-run/kiri/internal/service/sts"
)

// services are the services Kiri serves, built in this order. Adding a service is adding it
// here.
var services = []service.New{
	service.Of(sts.New),
	service.Of(iam.New),
	service.Of(s3.New),
	service.Of(lambda.New),
	service.Of(logs.New),
	service.Of(sqs.New),
	service.Of(sns.New),
	service.Of(dynamodb.New),
	service.Of(streams.New),
	service.Of(apigateway.New),
	service.Of(connections.New),
	service.Of(apigateway.NewREST),
	service.Of(events.New),
	service.Of(scheduler.New),
	service.Of(pipes.New),
	service.Of(schemas.New),
	service.Of(sfn.New),
}
