package expr

import (
	"strconv"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

// The names DynamoDB gives each kind of expression in its messages ("Invalid <Kind>: …").
const (
	KindCondition    = "ConditionExpression"
	KindFilter       = "FilterExpression"
	KindKeyCondition = "KeyConditionExpression"
	KindUpdate       = "UpdateExpression"
	KindProjection   = "ProjectionExpression"
)

// Limits DynamoDB sets on expressions.
const (
	MaxExpressionSize = 4096 // bytes of an expression as sent, placeholders unexpanded
	MaxOperators      = 300  // operators and functions in one expression
	MaxInOperands     = 100  // values on the right of IN
)

func validation(msg string) *awsproto.Error { return attr.Validation(msg) }

func invalidExpr(kind, msg string) *awsproto.Error {
	return validation("Invalid " + kind + ": " + msg)
}

// syntaxMessage words a syntax error at token i as DynamoDB does: the offending token and the
// source from the token before it to the token after it.
func syntaxMessage(src string, toks []token, i int) string {
	start, end := toks[i].pos, toks[i].end
	if i > 0 {
		start = toks[i-1].pos
	}
	if i+1 < len(toks) {
		end = toks[i+1].end
	}
	// DynamoDB quotes without escaping.
	return `Syntax error; token: "` + toks[i].text + `", near: "` + src[start:end] + `"`
}

// The messages of semantic errors, shared by the parsers.
const (
	msgEmptyExpression = "The expression can not be empty;"
	msgRedundantParens = "The expression has redundant parentheses;"
)

func msgReserved(word string) string {
	return "Attribute name is a reserved keyword; reserved keyword: " + word
}

func msgUndefinedName(name string) string {
	return "An expression attribute name used in the document path is not defined; attribute name: " + name
}

func msgUndefinedValue(name string) string {
	return "An expression attribute value used in expression is not defined; attribute value: " + name
}

func msgUnknownFunction(name string) string { return "Invalid function name; function: " + name }

func msgMisusedFunction(name string) string {
	return "The function is not allowed to be used this way in an expression; function: " + name
}

func msgOperandCount(name string, n int) string {
	return "Incorrect number of operands for operator or function; operator or function: " + name +
		", number of operands: " + strconv.Itoa(n)
}

func msgOperandType(name, typ string) string {
	return "Incorrect operand type for operator or function; operator or function: " + name + ", operand type: " + typ
}

func msgNeedsPath(name string) string {
	return "Operator or function requires a document path; operator or function: " + name
}

func msgNotDistinct(op string, p Path) string {
	return "The first operand must be distinct from the remaining operands for this operator or function; operator: " +
		op + ", first operand: " + p.String()
}

func msgOverlap(a, b Path) string {
	return "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: " +
		a.String() + ", path two: " + b.String()
}

func msgConflict(a, b Path) string {
	return "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: " +
		a.String() + ", path two: " + b.String()
}

func msgTooLarge(n int) string {
	return "Expression size has exceeded the maximum allowed size; expression size: " + strconv.Itoa(n)
}

func msgTooManyOperators(n int) string {
	return "The expression contains too many operators; operator count: " + strconv.Itoa(n)
}

func msgTooManyIn(n int) string {
	return "The IN operator is provided with too many operands; number of operands: " + strconv.Itoa(n)
}

// The errors of evaluating an update against an item.
const (
	msgNoSuchAttribute = "The provided expression refers to an attribute that does not exist in the item"
	msgBadOperandType  = "An operand in the update expression has an incorrect data type"
	msgBadUpdatePath   = "The document path provided in the update expression is invalid for update"
	msgLegacyMismatch  = "Type mismatch for attribute to update"
)
