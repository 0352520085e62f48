// Package expr is DynamoDB's expression language: ConditionExpression, FilterExpression,
// KeyConditionExpression, UpdateExpression and ProjectionExpression, parsed and checked with
// DynamoDB's messages, then evaluated against items (package attr). The legacy parameters
// (Expected, QueryFilter, ScanFilter, KeyConditions, AttributeUpdates, AttributesToGet)
// translate to the same types.
//
// A request is handled in DynamoDB's order:
//
//  1. CheckParams refuses mixed expression and legacy parameters, and placeholders sent
//     without expressions.
//  2. NewParams checks ExpressionAttributeNames and ExpressionAttributeValues and converts the
//     values (with attr.FromWire).
//  3. The expressions are parsed, in the order UpdateExpression, ConditionExpression,
//     KeyConditionExpression, FilterExpression, ProjectionExpression: Params.Update,
//     Params.Condition (KindCondition or KindFilter), Params.KeyCondition, Params.Projection.
//     Each refuses empty, oversized (4 KB) and too complex (300 operators) expressions,
//     syntax errors ("Invalid UpdateExpression: Syntax error; token: \"x\", near: \"a x\""),
//     and DynamoDB's semantic errors in DynamoDB's precedence.
//  4. Params.CheckUnused refuses placeholders no expression used.
//  5. For Query, KeyCondition.Check refuses what cannot be a key condition, and once the table
//     is known KeyCondition.Resolve matches it with the key schema; SortCondition.Bounds gives
//     the range of attr.AppendKey encodings to scan.
//  6. Against the stored item: Condition.Eval (nil item: no item), Update.Apply (the new
//     item; Update.Changed gives UPDATED_OLD and UPDATED_NEW), Projection.Apply.
//
// Parsed expressions are immutable and safe for concurrent use. Evaluation allocates nothing
// for comparisons and functions of stored values (size() allocates its result); Apply
// allocates the new item's top-level map and the containers it changes.
//
// Errors are *awsproto.Error values with code ValidationException (or wrap one, for
// errors.As), worded as DynamoDB words them. The service adds what belongs to the operation:
// "1 validation error detected: " envelopes, key attribute checks (Update.Actions,
// Condition.Heads, Projection.Paths), ConditionalCheckFailedException.
//
// Known differences from DynamoDB: a syntax error is reported at the furthest token the parser
// could not get past, which is DynamoDB's token in the cases captured but may differ in
// others; when one expression has several problems of one rank, the one reported may differ.
package expr
