package opentrail

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error with an AWS error code, the HTTP status it is sent with and a message
// meant for the client. Handlers return *Error for every failure a client should see;
// anything else reaches the client as InternalFailure with no detail.
type Error struct {
	Code    string
	Message string
	Status  int
	// Sender marks client faults (Query protocol <Type>Sender</Type>); server faults are Receiver.
	Sender bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf returns a client-fault *Error with status 400.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest, Sender: true}
}

// WithStatus returns a copy of e with another HTTP status.
func (e *Error) WithStatus(status int) *Error {
	c := *e
	c.Status = status
	c.Sender = status < 500
	return &c
}

// ErrorOf returns the *Error in err's chain, or nil.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Common errors shared by every service.
var (
	// ErrJournalUnavailable is returned when a call's record cannot be made durable; the call fails.
	ErrJournalUnavailable = &Error{Code: "ServiceUnavailable", Message: "The service is unavailable: the audit journal cannot accept records. Try again later.", Status: http.StatusServiceUnavailable}
	// ErrInternal is what a client sees for any error that is not an *Error.
	ErrInternal = &Error{Code: "InternalFailure", Message: "The request processing has failed because of an unknown error, exception or failure.", Status: http.StatusInternalServerError}
)
