// Command itemsapi is a REST backend behind an HTTP API (payload format 2.0): POST /items
// stores the JSON body {"id": ..., "name": ...} in $TABLE (keyed by pk), and GET /items/{id} reads it back
// (404 when there is none). Behind a JWT authorizer, an item records the token's subject as its owner.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type request struct {
	RouteKey       string            `json:"routeKey"`
	PathParameters map[string]string `json:"pathParameters"`
	Body           string            `json:"body"`
	RequestContext struct {
		Authorizer struct {
			JWT struct {
				Claims map[string]string `json:"claims"`
			} `json:"jwt"`
		} `json:"authorizer"`
	} `json:"requestContext"`
}

type item struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Owner string `json:"owner,omitempty"`
}

type response struct {
	StatusCode int    `json:"statusCode"`
	Body       string `json:"body"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := os.Getenv("TABLE")
	lambda.Start(func(ctx context.Context, r request) (any, error) {
		switch r.RouteKey {
		case "POST /items":
			var it item
			if err := json.Unmarshal([]byte(r.Body), &it); err != nil || it.ID == "" {
				return response{StatusCode: 400, Body: `{"error":"bad item"}`}, nil
			}
			attrs := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: it.ID}, "name": &types.AttributeValueMemberS{Value: it.Name}}
			if it.Owner = r.RequestContext.Authorizer.JWT.Claims["sub"]; it.Owner != "" {
				attrs["owner"] = &types.AttributeValueMemberS{Value: it.Owner}
			}
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: attrs})
			if err != nil {
				return nil, err
			}
			b, _ := json.Marshal(it)
			return response{StatusCode: 201, Body: string(b)}, nil
		case "GET /items/{id}":
			out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: r.PathParameters["id"]}}})
			if err != nil {
				return nil, err
			}
			if out.Item == nil {
				return response{StatusCode: 404, Body: `{"error":"no such item"}`}, nil
			}
			it := item{ID: r.PathParameters["id"]}
			if n, ok := out.Item["name"].(*types.AttributeValueMemberS); ok {
				it.Name = n.Value
			}
			if o, ok := out.Item["owner"].(*types.AttributeValueMemberS); ok {
				it.Owner = o.Value
			}
			return it, nil // no statusCode: API Gateway answers 200 with this as the JSON body
		}
		return response{StatusCode: 404, Body: `{"error":"no route"}`}, nil
	})
}
