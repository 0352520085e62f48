package dynamodb

import (
	"slices"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
)

// errorNamespace qualifies the "__type" of DynamoDB's modeled errors on the wire.
const errorNamespace = "com.amazonaws.dynamodb.v20120810"

// wireOptions are the parts of DynamoDB's input validation its model does not carry.
func wireOptions() awsproto.ServiceOptions {
	return awsproto.ServiceOptions{
		StringChecks:       map[string]func(string) []string{"TableArn": checkTableName},
		EnumOrder:          enumOrder,
		ErrorTypeNamespace: errorNamespace,
		ValidationError:    validationError,
	}
}

// validationError words the problems the model's constraints found as DynamoDB does, where
// its front end checks a parameter itself before (or instead of) the generic constraint.
func validationError(op string, problems []string) *awsproto.Error {
	if len(problems) == 1 {
		p := problems[0]
		switch {
		case op == "CreateTable" && p == "Value null at 'tableName' failed to satisfy constraint: Member must not be null":
			return validation("The parameter 'TableName' is required but was not present in the request")
		case (op == "BatchGetItem" || op == "BatchWriteItem") && (p == "Value null at 'requestItems' failed to satisfy constraint: Member must not be null" ||
			p == "Value '{}' at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1"):
			return validation("The requestItems parameter is required for " + op)
		}
	}
	problems = slices.Clone(problems)
	for i, p := range problems {
		problems[i] = frontEndProblem(op, p)
	}
	return validation(awsproto.ValidationMessage(problems))
}

// enumOrder lists enum values in the order DynamoDB's validation messages name them.
var enumOrder = map[string][]string{
	"ScalarAttributeType": {"B", "N", "S"},
	"Select":              {"SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"},
	"ComparisonOperator":  {"IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS"},
	"ConditionalOperator": {"OR", "AND"},
	"ReturnValue":         {"ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"},
	"ProjectionType":      {"ALL", "INCLUDE", "KEYS_ONLY"},
}

// checkTableName returns the constraints a TableName parameter fails. The model's TableArn
// shape takes 1 to 1024 characters because the parameter may be an ARN; a plain name is
// held to the TableName shape: 3 to 255 characters of [a-zA-Z0-9_.-].
func checkTableName(v string) []string {
	if v == "" || strings.HasPrefix(v, "arn:") {
		return nil
	}
	var problems []string
	if strings.IndexFunc(v, notTableNameRune) >= 0 {
		problems = append(problems, "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
	}
	if len(v) < 3 {
		problems = append(problems, "Member must have length greater than or equal to 3")
	}
	if len(v) > 255 {
		problems = append(problems, "Member must have length less than or equal to 255")
	}
	return problems
}

func notTableNameRune(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
}

// frontEndProblem words one constraint problem as DynamoDB's front end does where it checks the
// member itself: Query's Limit, and the keys of each table of a BatchGetItem, are named as on
// the wire and not echoed.
func frontEndProblem(op, p string) string {
	const (
		limit    = "' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
		keysAt   = "' at 'requestItems."
		keysTail = ".keys' failed to satisfy constraint: Member must have length less than or equal to 100"
	)
	if !strings.HasPrefix(p, "Value '") {
		return p
	}
	switch op {
	case "Query":
		if strings.HasSuffix(p, limit) {
			return "Value at 'Limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
		}
	case "BatchWriteItem":
		// A table's requests are checked as a map value, both bounds named.
		const at = "' at 'requestItems."
		i := strings.Index(p, at)
		j := strings.LastIndex(p, "' failed to satisfy constraint: Member must have length ")
		if i >= 0 && j > i+len(at) && !strings.Contains(p[i+len(at):j], ".member") {
			return "Value '{" + p[i+len(at):j] + "=" + p[len("Value '"):i] + "}' at 'requestItems' failed to satisfy constraint: " +
				"Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]"
		}
	case "BatchGetItem":
		if i := strings.Index(p, keysAt); i >= 0 && strings.HasSuffix(p, keysTail) {
			table := p[i+len(keysAt) : len(p)-len(keysTail)]
			return "Value at 'RequestItems." + table + ".member.Keys' failed to satisfy constraint: Member must have length less than or equal to 100"
		}
	}
	return p
}
