// Package eventsource is what the pollers of event sources share: Lambda's event source
// mappings and EventBridge Pipes. It holds how they read SQS queues (Queues, through the SQS
// service), how they read a stream shard with a batching window (ReadShard), and the records
// they pass on: an SQS message and a DynamoDB stream record in the JSON Lambda invokes
// functions with and Pipes hand their enrichments and targets.
package eventsource
