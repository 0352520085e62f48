// Package attr holds DynamoDB's attribute values and the rules DynamoDB applies to them, for
// the dynamodb service and its expression language (package expr).
//
//   - Value and Item: the ten data types (S, N, B, BOOL, NULL, M, L, SS, NS, BS), immutable.
//     Numbers are kept in canonical form (plain decimal, no leading or trailing zeros), so
//     equal numbers have equal text; arithmetic (Add, Sub) is exact decimal arithmetic.
//   - FromWire and ToWire convert from and to the codec's generated AttributeValue (any type
//     with the same members, through a small accessor), with DynamoDB's validation and
//     messages: empty or multi-typed values, NULL false, empty or repeated set members,
//     numbers past 38 digits or outside 1E-130 … 9.99…E+125, nesting past 32 levels.
//     MarshalJSON and UnmarshalJSON speak the same JSON wire form.
//   - Size, MaxItemSize, ReadUnits and WriteUnits: item size as DynamoDB counts it and the
//     capacity units it charges.
//   - AppendKey, DecodeKey, AppendKeyPrefix and PrefixEnd: an order-preserving,
//     self-delimiting byte encoding of key values (S by UTF-8 bytes, N by value, B by unsigned
//     bytes) for a store to index and range-scan.
//   - AppendItem and DecodeItem: the compact binary form the service stores items in.
//
// Errors are *ValueError (errors.As finds the ValidationException in them) or
// *awsproto.Error with code ValidationException, worded as DynamoDB words them.
//
// Known differences from DynamoDB: the "older" wording (ValueError.Older) covers the messages
// captured for it (unconvertible empty numbers, repeated set members) but not BigDecimal's
// wrap-around of exponents past 32 bits, which the older operations report as the opposite
// overflow; a number's size is counted in base-100 digit pairs aligned on the decimal point,
// which agrees with every size measured against DynamoDB (numbers like 110 or 0.015, whose
// alignment decides a byte, have not been measured).
package attr
