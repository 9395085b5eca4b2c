package sigv4

import (
	"fmt"
	"net/http"
	"time"
)

// Kind classifies a verification failure. The server maps it to the AWS
// error code of the protocol it answers in with [Kind.Code] and
// [Kind.Status]; this package never writes responses itself.
type Kind int

// The kinds of verification failure.
const (
	// MissingAuthentication: the request carries neither an Authorization
	// header nor an X-Amz-Algorithm query parameter.
	MissingAuthentication Kind = iota + 1
	// IncompleteSignature: the Authorization header or the presigned query
	// parameters are malformed or miss a part.
	IncompleteSignature
	// SignatureDoesNotMatch: the signature is well formed but wrong, or the
	// credential scope does not fit the request (date, region, service).
	SignatureDoesNotMatch
	// Expired: the request time is more than 15 minutes away from the
	// server's clock, or a presigned URL has expired.
	Expired
	// UnsupportedAlgorithm: an AWS signing algorithm other than
	// AWS4-HMAC-SHA256 (for example SigV4a or SigV2).
	UnsupportedAlgorithm
	// ContentSHA256Mismatch: x-amz-content-sha256 is not a valid value, or
	// is a hex digest that does not match the body.
	ContentSHA256Mismatch
)

type kindInfo struct {
	name                 string // lower-case words, for Error()
	jsonCode, queryCode  string
	jsonStatus, qyStatus int
}

// info is the Kind → AWS code table. See the package documentation for the
// sources of each row.
func (k Kind) info() kindInfo {
	switch k {
	case MissingAuthentication:
		return kindInfo{"missing authentication token",
			"MissingAuthenticationTokenException", "MissingAuthenticationToken",
			http.StatusForbidden, http.StatusForbidden}
	case IncompleteSignature:
		return kindInfo{"incomplete signature",
			"IncompleteSignatureException", "IncompleteSignature",
			http.StatusBadRequest, http.StatusBadRequest}
	case SignatureDoesNotMatch:
		return kindInfo{"signature does not match",
			"InvalidSignatureException", "SignatureDoesNotMatch",
			http.StatusBadRequest, http.StatusForbidden}
	case Expired:
		return kindInfo{"signature expired",
			"InvalidSignatureException", "SignatureDoesNotMatch",
			http.StatusBadRequest, http.StatusForbidden}
	case UnsupportedAlgorithm:
		return kindInfo{"unsupported algorithm",
			"IncompleteSignatureException", "IncompleteSignature",
			http.StatusBadRequest, http.StatusBadRequest}
	case ContentSHA256Mismatch:
		return kindInfo{"content sha256 mismatch",
			"InvalidSignatureException", "SignatureDoesNotMatch",
			http.StatusBadRequest, http.StatusForbidden}
	}
	return kindInfo{"unknown kind", "InternalFailure", "InternalFailure",
		http.StatusInternalServerError, http.StatusInternalServerError}
}

// Code returns the AWS error code for the kind: the JSON protocols' code
// (awsJson1_0, awsJson1_1, restJson1) when query is false, the Query
// protocol's (IAM, STS, SNS, CloudWatch Query) when it is true.
func (k Kind) Code(query bool) string {
	if query {
		return k.info().queryCode
	}
	return k.info().jsonCode
}

// Status returns the HTTP status AWS answers the kind with, for the JSON
// protocols (query false) or the Query protocol (query true).
func (k Kind) Status(query bool) int {
	if query {
		return k.info().qyStatus
	}
	return k.info().jsonStatus
}

// String returns the kind's name in lower-case words.
func (k Kind) String() string { return k.info().name }

// Error is the error returned by Parse, Verify and CheckScope. Message is
// written the way AWS writes it and may be sent to the client as is.
type Error struct {
	Kind    Kind
	Message string

	// For SignatureDoesNotMatch only: what the server computed. AWS's Query
	// services append both to the message ("The Canonical String for this
	// request should have been ...", as STS does in boto/boto3#756), S3
	// returns them in their own elements; the server decides whether to
	// expose them.
	CanonicalRequest string
	StringToSign     string

	// For Expired only: the request's signing time, the server's time and,
	// for a presigned URL, when it expired (zero for the header form).
	RequestTime, ServerTime, ExpiresAt time.Time
}

// Error implements error.
func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// Code is shorthand for e.Kind.Code(query).
func (e *Error) Code(query bool) string { return e.Kind.Code(query) }

// Status is shorthand for e.Kind.Status(query).
func (e *Error) Status(query bool) int { return e.Kind.Status(query) }

// DetailedMessage returns the message with the canonical request and the
// string to sign appended the way AWS's Query services (STS, IAM) do for a
// signature mismatch. For other kinds it returns Message.
func (e *Error) DetailedMessage() string {
	if e.Kind != SignatureDoesNotMatch || e.CanonicalRequest == "" {
		return e.Message
	}
	return e.Message + "\n\nThe Canonical String for this request should have been\n'" +
		e.CanonicalRequest + "'\n\nThe String-to-Sign should have been\n'" + e.StringToSign + "'\n"
}

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// AWS messages.
const (
	msgMissingAuth = "Request is missing Authentication Token"
	msgMismatch    = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnsupported    = "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256."
	msgPresignExpired = "Request has expired"
	msgContentSHA     = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgContentSHABad  = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value."
)
