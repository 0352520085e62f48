// Package pattern is Kiri's one event-pattern matcher: EventBridge rules and Pipes filters
// (Compile), SNS subscription filter policies (CompileFilterPolicy) and Lambda event source
// mapping filters (CompileFilterCriteria) all compile to a Pattern, and a Machine matches an
// event against many Patterns at once.
//
// The language is EventBridge's, as AWS's engine (aws/event-ruler) reads it:
//   - An event is flattened to leaf values by dotted field path ({"a":{"b":1}} and
//     {"a.b":1} are the same field). An array matches when any element does; fields of
//     objects inside arrays are fields like any other, but one match may not take two
//     fields from different elements of the same array.
//   - A pattern names fields and lists accepted values: strings, numbers (compared by value,
//     so 300.0 matches 300; a number float64 cannot hold exactly matches only its own text),
//     true, false, null, and the operators prefix, suffix (each also with
//     equals-ignore-case), equals-ignore-case, wildcard, anything-but (a value, a list, or
//     prefix, suffix, equals-ignore-case or wildcard), numeric, exists, cidr, and $or.
//   - exists and the other operators look at leaf values only: an object or an empty array
//     where the pattern names a leaf counts as absent.
//   - Invalid patterns are refused with the engine's messages.
//
// SNS filter policies are the same language less wildcard and anything-but beyond prefix,
// with SNS's limits (5 keys, 150 combinations, 256 KB) and messages. Lambda filters are
// EventBridge patterns applied to the record as RecordEvent prepares it.
//
// Known differences from AWS: a field named both outside and inside an $or branch must
// satisfy both conditions here, where event-ruler lets the branch's replace the outer one;
// exists:false on a field inside an array asks whether the field is absent from the whole
// event; JSON syntax errors are described in Kiri's words, not Jackson's.
package pattern
