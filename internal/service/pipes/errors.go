package pipes

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/iam/authz"
)

// field is one entry of a ValidationException's fieldList.
type field struct{ name, message string }

// invalid is Pipes' ValidationException for parameters the service checks itself: its message
// is the JSON of the failing fields, as Pipes words it
// ({"ValidationErrorFields":[{"Name":"...","Message":"..."}]}), and its fieldList names them.
func invalid(fields ...field) *awsproto.Error {
	type entry struct{ Name, Message string }
	body := struct{ ValidationErrorFields []entry }{}
	detail := &ValidationException{}
	for _, f := range fields {
		body.ValidationErrorFields = append(body.ValidationErrorFields, entry{f.name, f.message})
		detail.FieldList = append(detail.FieldList, ValidationExceptionField{Name: awsproto.Ptr(f.name), Message: awsproto.Ptr(f.message)})
	}
	msg, _ := json.Marshal(body)
	return &awsproto.Error{Code: "ValidationException", Status: 400, Message: string(msg), Detail: detail}
}

// invalidField is invalid with one field.
func invalidField(name, format string, args ...any) *awsproto.Error {
	return invalid(field{name, fmt.Sprintf(format, args...)})
}

// problemField reads the member and constraint of one of the codec's validation sentences
// ("Value null at 'roleArn' failed to satisfy constraint: Member must not be null").
var problemField = regexp.MustCompile(`at '([^']*)' failed to satisfy constraint: (.*)$`)

// modelValidationError words the codec's validation failures as Pipes does: the sentence in the
// message, and each member and constraint in fieldList.
func modelValidationError(_ string, problems []string) *awsproto.Error {
	noun := "errors"
	if len(problems) == 1 {
		noun = "error"
	}
	detail := &ValidationException{}
	for _, p := range problems {
		if m := problemField.FindStringSubmatch(p); m != nil {
			detail.FieldList = append(detail.FieldList, ValidationExceptionField{Name: awsproto.Ptr(m[1]), Message: awsproto.Ptr(m[2])})
		}
	}
	msg := fmt.Sprintf("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; "))
	return &awsproto.Error{Code: "ValidationException", Status: 400, Message: msg, Detail: detail}
}

// notFound is Pipes' answer for a pipe it does not know.
func notFound(name string) *awsproto.Error {
	return awsproto.Errorf("NotFoundException", 404, "Pipe %s does not exist.", name)
}

// conflict is Pipes' ConflictException about the pipe name.
func conflict(name, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: "ConflictException", Status: 409, Message: fmt.Sprintf(format, args...),
		Detail: &ConflictException{ResourceId: awsproto.Ptr(name), ResourceType: awsproto.Ptr("pipe")}}
}

// accessDenied is Pipes' refusal of a call IAM does not allow.
func accessDenied(d *authz.Denied) error {
	return awsproto.Errorf("AccessDeniedException", 403, "%s", d.Message)
}

// patternChecks are the model's patterns on names and ARNs, which the codec leaves to the
// service: a value that fails one is refused as the model's constraint words it.
func patternChecks() map[string]func(string) []string {
	check := func(pattern string) func(string) []string {
		re := regexp.MustCompile(`^(?:` + pattern + `)$`)
		return func(v string) []string {
			if re.MatchString(v) {
				return nil
			}
			return []string{"Member must satisfy regular expression pattern: " + pattern}
		}
	}
	arn := `arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-]+):([a-z]{2,4}((-gov)|(-de)|(-iso([a-z]?)))?-[a-z]+(-\d{1})?)?:(\d{12})?:(.+)`
	return map[string]func(string) []string{
		"PipeName": check(`[\.\-_A-Za-z0-9]+`),
		"RoleArn":  check(`arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z0-9+=,.@\-_/]+`),
		"Arn":      check(arn),
		"ArnOrUrl": check(`smk://(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9\-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9\-]*[A-Za-z0-9]):[0-9]{1,5}|` + arn),
	}
}
