package sfn

import "strings"

// checkResource describes why a Task's resource cannot run on a state machine of type typ, or
// is "" when it can.
func checkResource(res, typ string) string {
	notRecognized := "The resource provided " + res + " is not recognized. The value is not a valid resource ARN, or the resource is not available in this region."
	r, ok := parseARN(res)
	if ok && r.kind == "activity" && len(r.rest) == 0 {
		if typ == typeExpress {
			return "Express state machine does not support Activity ARN"
		}
		return ""
	}
	_ = strings.HasPrefix
	return notRecognized
}
