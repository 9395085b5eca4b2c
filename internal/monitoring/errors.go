package monitoring

import (
	"fmt"
	"net/http"

	"github.com/opentrail/opentrail"
)

// Error codes: the Query codes of the CloudWatch model (awsQueryError), which every protocol
// carries (JSON and CBOR in x-amzn-query-error, with the modeled shape as __type).
const (
	CodeInvalidParameterValue       = "InvalidParameterValue"
	CodeInvalidParameterCombination = "InvalidParameterCombination"
	CodeMissingParameter            = "MissingParameter"
	CodeResourceNotFound            = "ResourceNotFound"
	CodeLimitExceeded               = "LimitExceeded"
	CodeInvalidNextToken            = "InvalidNextToken"
	CodeInvalidFormat               = "InvalidFormat"
	CodeValidationError             = "ValidationError"
)

// shapes maps the model's Query error codes to its error shapes.
var shapes = map[string]string{
	"InvalidParameterValue":           "InvalidParameterValueException",
	"InvalidParameterCombination":     "InvalidParameterCombinationException",
	"MissingParameter":                "MissingRequiredParameterException",
	"ResourceNotFound":                "ResourceNotFound",
	"LimitExceeded":                   "LimitExceededFault",
	"LimitExceededException":          "LimitExceededException",
	"InvalidNextToken":                "InvalidNextToken",
	"InvalidFormat":                   "InvalidFormatFault",
	"InternalServiceError":            "InternalServiceFault",
	"InvalidParameterInput":           "DashboardInvalidInputError",
	"ResourceNotFoundException":       "ResourceNotFoundException",
	"ConcurrentModificationException": "ConcurrentModificationException",
}

// errorShape is the __type of an error in JSON and CBOR: the modeled shape's ID for the
// model's codes, the code itself for the others (authentication, serialization...).
func errorShape(code string) string {
	if s, ok := shapes[code]; ok {
		return "com.amazonaws.cloudwatch#" + s
	}
	return code
}

func invalidValue(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeInvalidParameterValue, format, args...)
}

func invalidCombination(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeInvalidParameterCombination, format, args...)
}

func missing(param string) *opentrail.Error {
	return opentrail.Errorf(CodeMissingParameter, "The parameter %s is required.", param)
}

func validation(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeValidationError, format, args...)
}

func notFound(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeResourceNotFound, format, args...).WithStatus(http.StatusNotFound)
}

// internal wraps a storage failure; it reaches clients as InternalFailure with no detail.
func internal(what string, err error) error {
	return fmt.Errorf("monitoring: %s: %w", what, err)
}

func invalidNextToken(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeInvalidNextToken, format, args...)
}

func limitExceeded(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeLimitExceeded, format, args...)
}

func opentrailInvalidFormat(format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(CodeInvalidFormat, format, args...)
}
