package events

import (
	"fmt"

	"github.com/opentrail/opentrail"
)

// Error codes: the __type of the errors this package returns, as the EventBridge model names
// its error shapes. All are sent with HTTP 400, as AWS sends them.
const (
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeInvalidEventPattern   = "InvalidEventPatternException"
	CodeValidation            = "ValidationException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeIllegalStatus         = "IllegalStatusException"
	CodeUnsupportedOperation  = "UnsupportedOperationException"
)

func errorf(code, format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(code, format, args...)
}

// errConstraint is the message AWS gives when a member breaks a constraint of the model.
func errConstraint(value any, member, constraint string) *opentrail.Error {
	v := fmt.Sprint(value)
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return errorf(CodeValidation, "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", v, member, constraint)
}

func errRuleNotFound(rule, bus string) *opentrail.Error {
	return errorf(CodeResourceNotFound, "Rule %s does not exist on EventBus %s.", rule, bus)
}

func errBusNotFound(bus string) *opentrail.Error {
	return errorf(CodeResourceNotFound, "Event bus %s does not exist.", bus)
}

func errUnsupported(op string) *opentrail.Error {
	return errorf(CodeUnsupportedOperation, "%s is not supported by this server yet", op)
}

// internal wraps a storage failure; it reaches clients as InternalFailure with no detail.
func internal(what string, err error) error {
	return fmt.Errorf("events: %s: %w", what, err)
}
