package logs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opentrail/opentrail"
)

// Error codes: the __type of every error this package returns, named as the CloudWatch Logs
// model names its error shapes. All are sent with HTTP 400, as AWS sends them.
const (
	CodeInvalidParameter      = "InvalidParameterException"
	CodeInvalidOperation      = "InvalidOperationException"
	CodeResourceNotFound      = "ResourceNotFoundException"
	CodeResourceAlreadyExists = "ResourceAlreadyExistsException"
	CodeLimitExceeded         = "LimitExceededException"
	CodeTooManyTags           = "TooManyTagsException"
	CodeValidation            = "ValidationException"
	CodeUnsupportedOperation  = "UnsupportedOperationException"
)

// ErrGroupNotFound is wrapped by the errors of PutInternal for a log group that does not
// exist.
var ErrGroupNotFound = errors.New("logs: log group does not exist")

func errorf(code, format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(code, format, args...)
}

func errInvalid(format string, args ...any) *opentrail.Error {
	return errorf(CodeInvalidParameter, format, args...)
}

// errConstraint is the message AWS gives when a member breaks a constraint of the model.
func errConstraint(value any, member, constraint string) *opentrail.Error {
	v := fmt.Sprint(value)
	if len(v) > 100 {
		v = v[:100] + "..."
	}
	return errInvalid("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", v, member, constraint)
}

func errGroupNotFound() *opentrail.Error {
	return errorf(CodeResourceNotFound, "The specified log group does not exist.")
}

func errStreamNotFound() *opentrail.Error {
	return errorf(CodeResourceNotFound, "The specified log stream does not exist.")
}

func errFilterNotFound() *opentrail.Error {
	return errorf(CodeResourceNotFound, "The specified metric filter does not exist.")
}

func errBadToken() *opentrail.Error {
	return errInvalid("The specified nextToken is invalid.")
}

// errPattern is the InvalidParameterException of a filter pattern that does not parse.
// prefix is "Invalid filter pattern" (FilterLogEvents) or "Invalid metric filter pattern"
// (PutMetricFilter, TestMetricFilter), as AWS words them.
func errPattern(prefix string, err error) *opentrail.Error {
	var pe *patternError
	if errors.As(err, &pe) {
		return errInvalid("%s: %s (at position %d)", prefix, strings.TrimSuffix(pe.Reason, "."), pe.Pos)
	}
	return errInvalid("%s", prefix)
}

func errUnsupported(op string) *opentrail.Error {
	return errorf(CodeUnsupportedOperation, "%s is not supported by this server yet", op)
}

// internal wraps a storage failure; it reaches clients as InternalFailure with no detail.
func internal(what string, err error) error {
	return fmt.Errorf("logs: %s: %w", what, err)
}
