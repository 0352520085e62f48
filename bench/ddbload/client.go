package main

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/kiri-run/kiri/bench/ddbload/load"
	"github.com/kiri-run/kiri/test/sdkretry"
)

// client is a load.Client over one SDK client.
type client struct{ ddb *dynamodb.Client }

// dial makes a client that retries only a connection the client closed itself, so that what
// the server answered shows as it is.
func dial(e load.Endpoint) load.Client {
	return client{dynamodb.New(dynamodb.Options{
		Region:       e.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(e.AccessKey, e.Secret, ""),
		BaseEndpoint: aws.String(e.URL),
		Retryer:      sdkretry.New(),
	})}
}

// The attributes of every item: partition key, sort key, payload.
const (
	pkName      = "pk"
	skName      = "sk"
	payloadName = "payload"
)

func (c client) ListTables(ctx context.Context) error {
	_, err := c.ddb.ListTables(ctx, &dynamodb.ListTablesInput{Limit: aws.Int32(1)})
	return err
}

func (c client) CreateTable(ctx context.Context, name string, sortKey bool) error {
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(pkName), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(pkName), KeyType: types.KeyTypeHash}},
	}
	if sortKey {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(skName), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(skName), KeyType: types.KeyTypeRange})
	}
	_, err := c.ddb.CreateTable(ctx, in)
	return err
}

func (c client) TableStatus(ctx context.Context, name string) (string, error) {
	out, err := c.ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return "", err
	}
	return string(out.Table.TableStatus), nil
}

func (c client) DeleteTable(ctx context.Context, name string) error {
	_, err := c.ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	return err
}

func (c client) PutItem(ctx context.Context, table string, key load.Key, payload string) error {
	item := attributes(key)
	item[payloadName] = &types.AttributeValueMemberS{Value: payload}
	_, err := c.ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
	return err
}

func (c client) GetItem(ctx context.Context, table string, key load.Key) (int, bool, error) {
	out, err := c.ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: attributes(key), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return 0, false, err
	}
	p, _ := out.Item[payloadName].(*types.AttributeValueMemberS)
	if p == nil {
		return 0, true, nil
	}
	return len(p.Value), true, nil
}

func (c client) Query(ctx context.Context, table, pk string, start *load.Key) (load.Page, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": pkName},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}},
	}
	if start != nil {
		in.ExclusiveStartKey = attributes(*start)
	}
	out, err := c.ddb.Query(ctx, in)
	if err != nil {
		return load.Page{}, err
	}
	p := load.Page{Items: len(out.Items)}
	if n := len(out.Items); n > 0 {
		p.First, p.Last = sortKey(out.Items[0]), sortKey(out.Items[n-1])
	}
	if len(out.LastEvaluatedKey) > 0 {
		k := load.Key{PK: pk, SK: sortKey(out.LastEvaluatedKey)}
		p.Next = &k
	}
	return p, nil
}

// attributes returns an item's key attributes.
func attributes(k load.Key) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{pkName: &types.AttributeValueMemberS{Value: k.PK}}
	if k.SK != "" {
		m[skName] = &types.AttributeValueMemberS{Value: k.SK}
	}
	return m
}

func sortKey(item map[string]types.AttributeValue) string {
	if v, ok := item[skName].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
