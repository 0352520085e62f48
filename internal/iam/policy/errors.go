package policy

import "fmt"

// Problem names the rule a refused document breaks. IAM words most of its refusals the same
// way ("Syntax errors in policy."), but services with their own wording (S3's MalformedPolicy
// messages, SQS's InvalidAttributeValue) map the Problem to theirs.
type Problem uint8

// The problems Parse reports, in the order IAM checks for them.
const (
	ProblemJSON                Problem = iota + 1 // not JSON, or JSON that is not an object
	ProblemField                                  // an element IAM does not know
	ProblemVersion                                // a Version other than 2012-10-17 or 2008-10-17
	ProblemID                                     // an Id that is not a string
	ProblemNoStatement                            // no Statement element
	ProblemStatementShape                         // Statement neither an object nor a list of objects
	ProblemEmptyStatement                         // Statement an empty list
	ProblemSid                                    // a Sid that is not a string, or not alphanumeric in IAM
	ProblemEffect                                 // Effect missing, or not Allow or Deny
	ProblemAction                                 // Action or NotAction malformed, or both given
	ProblemResource                               // Resource or NotResource malformed, or both given
	ProblemPrincipal                              // Principal or NotPrincipal malformed, or both given
	ProblemCondition                              // Condition malformed, an unknown operator, a bad date
	ProblemVersionRequired                        // an IAM policy without Version 2012-10-17
	ProblemSidUnique                              // two statements with one Sid (IAM policies)
	ProblemNoAction                               // a statement without Action or NotAction
	ProblemNoResource                             // a statement without Resource or NotResource
	ProblemNoPrincipal                            // a resource or trust policy statement without a principal
	ProblemProhibitedPrincipal                    // a principal in an identity-based policy
	ProblemProhibitedResource                     // a Resource in a role trust policy
	ProblemTrustAction                            // a trust policy action other than an STS one
)

// Error is a policy document AWS refuses. Message is AWS's MalformedPolicyDocument message:
// for identity-based policies, IAM's; for resource-based and role trust policies, that of
// the parser S3 bucket policies and IAM trust policies share. Problem says which rule the
// document breaks.
type Error struct {
	Problem Problem
	Message string
}

func (e *Error) Error() string { return e.Message }

// IAM's messages. The syntax message covers every grammar fault IAM does not single out.
const (
	msgSyntax        = "Syntax errors in policy."
	msgVersion       = "Policy document must be version 2012-10-17 or greater."
	msgLegacy        = "The policy failed legacy parsing"
	msgSidUnique     = "Statement IDs (SID) in a single policy must be unique."
	msgSidChars      = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
	msgNoActions     = "Policy statement must contain actions."
	msgNoResources   = "Policy statement must contain resources."
	msgNoPrincipal   = "Missing required field Principal"
	msgNoResource    = "Missing required field Resource"
	msgNoAction      = "Missing required field Action"
	msgPrincipalInID = "Policy document should not specify a principal."
	msgVendor        = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgOneColon      = "Actions/Condition can contain only one colon."
	msgVendorRegex   = "Resource vendor must be fully qualified and cannot contain regexes."
)

// The messages of AWS's parser of resource-based policies (bucket policies, role trust
// policies), where they differ from the identity-policy parser's.
const (
	msgFirstByte        = "Policies must be valid JSON and the first byte must be '{'"
	msgInvalidJSON      = "This policy contains invalid Json"
	msgVersionString    = "The policy must contain a valid version string"
	msgNoStatement      = "Missing required field Statement"
	msgEmptyStatement   = "Could not parse the policy: Statement is empty!"
	msgNoEffect         = "Missing required field Effect"
	msgEmptyPrincipal   = "Missing required field Principal cannot be empty!"
	msgSidsNotUnique    = "The Statement Ids in the policy are not unique"
	msgPrincipalObject  = "Principal must be a JSON object."
	msgAllowNotPrinc    = "Allow with NotPrincipal is not allowed."
	msgTrustNotPrinc    = "AssumeRole policy must not contain NotPrincipal field."
	msgTrustActions     = "AssumeRole policy may only specify STS AssumeRole actions."
	msgResourceInTrust  = "Has prohibited field Resource"
	msgNotResourceTrust = "AssumeRole policy must not contain resources."
	msgCognito          = "A condition block must be present for the Cognito provider"
)

// worded refuses with the wording of the parser that reads documents of kind: IAM's
// identity-policy parser says idMsg; the resource-policy parser has its own words for some
// problems (detail is the offending value where its message quotes one).
func worded(kind Kind, p Problem, idMsg, detail string) *Error {
	if kind == Identity {
		return refuse(p, idMsg)
	}
	switch p {
	case ProblemJSON:
		if detail == "" {
			return refuse(p, msgFirstByte)
		}
		return refuse(p, msgInvalidJSON)
	case ProblemVersion:
		return refuse(p, msgVersionString)
	case ProblemNoStatement:
		return refuse(p, msgNoStatement)
	case ProblemEmptyStatement:
		return refuse(p, msgEmptyStatement)
	case ProblemEffect:
		if detail == "" {
			return refuse(p, msgNoEffect)
		}
		return refusef(p, "Invalid effect: %s", detail)
	case ProblemSidUnique:
		return refuse(p, msgSidsNotUnique)
	}
	return refuse(p, idMsg)
}

func refuse(p Problem, msg string) *Error { return &Error{Problem: p, Message: msg} }

func refusef(p Problem, format string, args ...any) *Error {
	return &Error{Problem: p, Message: fmt.Sprintf(format, args...)}
}
