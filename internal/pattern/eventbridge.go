package pattern

// Error is a pattern, filter policy or filter that AWS refuses, as the client sees it. A
// service returns it as an AWS error with Code and Message and HTTP status 400.
type Error struct {
	// Code is the AWS error code: InvalidEventPatternException (EventBridge),
	// InvalidParameter (SNS) or InvalidParameterValueException (Lambda).
	Code string
	// Message is AWS's message. For SNS it is the form SetSubscriptionAttributes returns.
	Message string
	// SubscribeMessage is, for SNS only, the message the Subscribe action returns, which
	// names the Attributes parameter.
	SubscribeMessage string
	// Reason is the pattern engine's own words, without the service's prefix.
	Reason string
}

// Error returns "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Compile compiles an EventBridge event pattern (also the syntax of EventBridge Pipes
// filters). An invalid pattern yields an *Error with code InvalidEventPatternException and
// EventBridge's message, "Event pattern is not valid. Reason: ...".
func Compile(src []byte) (*Pattern, error) {
	p, err := compileEventBridge(src)
	if err != nil {
		reason := reasonOf(err)
		return nil, &Error{
			Code:    "InvalidEventPatternException",
			Message: "Event pattern is not valid. Reason: " + reason,
			Reason:  reason,
		}
	}
	return p, nil
}

func compileEventBridge(src []byte) (*Pattern, error) {
	v, err := parseJSON(src)
	if err != nil {
		return nil, err
	}
	c := compiler{}
	p, err := c.compile(v)
	if err != nil {
		return nil, err
	}
	if err := checkComplexity(&p.root); err != nil {
		return nil, err
	}
	return p, nil
}
