// Command ddbprojector consumes DynamoDB stream events and keeps a read model in
// $MODEL_TABLE: the new image of each INSERT and MODIFY is put there, the key of each REMOVE
// deleted, and the value of "v" of every record is appended, in the order processed, to the
// list "seen" of the item "order#<pk>". A record whose new image has "fail" = "batch" fails
// the batch; "fail" = "item" is reported in batchItemFailures.
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

type value struct {
	S *string `json:"S,omitempty"`
	N *string `json:"N,omitempty"`
}

type record struct {
	EventName string `json:"eventName"`
	Dynamodb  struct {
		Keys           map[string]value `json:"Keys"`
		NewImage       map[string]value `json:"NewImage"`
		SequenceNumber string           `json:"SequenceNumber"`
	} `json:"dynamodb"`
}

func attr(v value) types.AttributeValue {
	if v.N != nil {
		return &types.AttributeValueMemberN{Value: *v.N}
	}
	return &types.AttributeValueMemberS{Value: *v.S}
}

func item(m map[string]value) map[string]types.AttributeValue {
	out := map[string]types.AttributeValue{}
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

type failure struct {
	ItemIdentifier string `json:"itemIdentifier"`
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	table := os.Getenv("MODEL_TABLE")
	lambda.Start(func(ctx context.Context, ev struct{ Records []record }) (any, error) {
		var failed []failure
		for _, r := range ev.Records {
			img := r.Dynamodb.NewImage
			if f := img["fail"]; f.S != nil {
				if *f.S == "batch" {
					return nil, errors.New("record " + r.Dynamodb.SequenceNumber + " failed")
				}
				if *f.S == "item" {
					failed = append(failed, failure{r.Dynamodb.SequenceNumber})
					continue
				}
			}
			var err error
			if r.EventName == "REMOVE" {
				_, err = db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &table, Key: item(r.Dynamodb.Keys)})
			} else {
				_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &table, Item: item(img)})
			}
			if err != nil {
				return nil, err
			}
			if v, ok := img["v"]; ok && v.N != nil {
				pk := "order#" + *r.Dynamodb.Keys["pk"].S
				expr := "SET seen = list_append(if_not_exists(seen, :empty), :v)"
				_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &table,
					Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}}, UpdateExpression: &expr,
					ExpressionAttributeValues: map[string]types.AttributeValue{":empty": &types.AttributeValueMemberL{},
						":v": &types.AttributeValueMemberL{Value: []types.AttributeValue{attr(v)}}}})
				if err != nil {
					return nil, err
				}
			}
		}
		if failed != nil {
			return map[string]any{"batchItemFailures": failed}, nil
		}
		return nil, nil
	})
}
