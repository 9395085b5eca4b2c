package sns

import (
	"fmt"
	"net/http"

	"github.com/opentrail/opentrail"
)

// Error codes: the <Code> of every error this package returns, as the SNS model names them
// (the model's "error.code", not its shape name: InvalidParameterException is sent as
// InvalidParameter), with the model's HTTP status.
const (
	CodeInvalidParameter     = "InvalidParameter"      // 400
	CodeParameterValue       = "ParameterValueInvalid" // 400, Publish's InvalidParameterValueException
	CodeNotFound             = "NotFound"              // 404
	CodeAuthorizationError   = "AuthorizationError"    // 403
	CodeInternalError        = "InternalError"         // 500
	CodeTopicLimitExceeded   = "TopicLimitExceeded"    // 403
	CodeSubscriptionLimit    = "SubscriptionLimitExceeded"
	CodeResourceNotFound     = "ResourceNotFound"     // 404, tagging operations
	CodeTagLimitExceeded     = "TagLimitExceeded"     // 400
	CodeUnsupportedOperation = "UnsupportedOperation" // 400, operations this server does not serve
)

func invalidParameter(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeInvalidParameter, format, args...)
}

func parameterValue(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeParameterValue, format, args...)
}

func notFound(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeNotFound, format, args...).WithStatus(http.StatusNotFound)
}

func authorizationError(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeAuthorizationError, format, args...).WithStatus(http.StatusForbidden)
}

// errTopicNotFound is AWS's text for a missing topic.
func errTopicNotFound() *opentrail.Error { return notFound("Topic does not exist") }

// errSubscriptionNotFound is AWS's text for a missing subscription.
func errSubscriptionNotFound() *opentrail.Error { return notFound("Subscription does not exist") }

func errUnsupported(op string) *opentrail.Error {
	return opentrail.Errorf(CodeUnsupportedOperation, "%s is not supported by this server yet", op)
}

// internal wraps a storage failure; it reaches clients as InternalFailure with no detail.
func internal(what string, err error) error {
	return fmt.Errorf("sns: %s: %w", what, err)
}

func resourceNotFound() *opentrail.Error {
	return opentrail.Errorf(CodeResourceNotFound, "Resource does not exist").WithStatus(http.StatusNotFound)
}

func tagLimitExceeded() *opentrail.Error {
	return opentrail.Errorf(CodeTagLimitExceeded, "Could not complete request: tag quota of per resource exceeded")
}
