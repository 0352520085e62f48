package attr

import (
	"github.com/kiri-run/kiri/internal/awsproto"
)

// ValueError is an attribute value DynamoDB refuses. DynamoDB words some of these refusals in
// two ways depending on the operation: Error returns the current wording (PutItem, UpdateItem,
// DeleteItem, GetItem, BatchGetItem, Query), Older the wording BatchWriteItem, Scan and the
// transaction operations still use. The service adds any envelope ("1 validation error
// detected: ", "ExpressionAttributeValues contains invalid value: … for key :v").
//
// errors.As finds an *awsproto.Error (ValidationException, current wording) in a ValueError,
// so a ValueError returned as is reaches the client as DynamoDB's ValidationException.
type ValueError struct {
	msg   string
	older string
}

// Error returns the current wording.
func (e *ValueError) Error() string { return e.msg }

// Older returns the older wording.
func (e *ValueError) Older() string {
	if e.older == "" {
		return e.msg
	}
	return e.older
}

// As lets errors.As see a ValueError as the ValidationException it is.
func (e *ValueError) As(target any) bool {
	p, ok := target.(**awsproto.Error)
	if ok {
		*p = Validation(e.msg)
	}
	return ok
}

// Validation returns DynamoDB's ValidationException with msg.
func Validation(msg string) *awsproto.Error {
	return &awsproto.Error{Code: "ValidationException", Status: 400, Message: msg}
}

const invalidParams = "One or more parameter values were invalid: "

func valueError(msg string) *ValueError { return &ValueError{msg: msg} }

// The refusals of attribute values, as DynamoDB words them.
const (
	msgEmpty      = "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"
	msgManyTypes  = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
	msgNullFalse  = invalidParams + "Null attribute value types must have the value of true"
	msgEmptySS    = invalidParams + "An string set  may not be empty"
	msgEmptyNS    = invalidParams + "An number set  may not be empty"
	msgEmptyBS    = invalidParams + "Binary sets should not be empty"
	msgNotNumeric = "The parameter cannot be converted to a numeric value"
	msgOverflow   = "Number overflow. Attempting to store a number with magnitude larger than supported range"
	msgUnderflow  = "Number underflow. Attempting to store a number with magnitude smaller than supported range"
	msgPrecision  = "Attempting to store more than 38 significant digits in a Number"
	msgNesting    = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit"
	msgItemSize   = "Item size has exceeded the maximum allowed size"
	msgUpdateSize = "Item size to update has exceeded the maximum allowed size"
)

// ErrItemTooLarge is the refusal of an item over MaxItemSize written whole (PutItem and the
// put requests of batches and transactions).
func ErrItemTooLarge() *awsproto.Error { return Validation(msgItemSize) }

// ErrUpdatedItemTooLarge is the refusal of an update whose result is over MaxItemSize.
func ErrUpdatedItemTooLarge() *awsproto.Error { return Validation(msgUpdateSize) }

// ErrNesting is the refusal of a value nested deeper than MaxDepth levels.
func ErrNesting() *ValueError { return valueError(msgNesting) }

// ErrOverflow is the refusal of a number, stored or computed, above the supported magnitude.
// DynamoDB also answers it when an addition or subtraction needs more than 38 digits.
func ErrOverflow() *ValueError { return valueError(msgOverflow) }
