package dynamodb

import (
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
	}
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
