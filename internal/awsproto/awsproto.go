// Package awsproto encodes and decodes the AWS wire protocols OpenTrail serves — JSON 1.1
// (and 1.0), and the Query protocol (form-encoded request, XML response) — and holds the one
// function that writes AWS errors to the wire, WriteError.
//
// Shapes follow the botocore service models: JSON operations are routed by X-Amz-Target
// "<prefix>.<Operation>" and carry a JSON object body; Query operations carry Action and
// Version form fields and answer with <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
package awsproto

import (
	"net/http"
)

// Protocol is a wire protocol.
type Protocol int

// The protocols.
const (
	JSON  Protocol = iota // JSON 1.1 / 1.0, X-Amz-Target routing
	Query                 // form in, XML out
	CBOR                  // Smithy rpc-v2-cbor: /service/<name>/operation/<Op>, CBOR in and out (cbor.go)
)

// MaxBodyBytes is the largest request body any endpoint accepts; larger requests are refused
// before the body is read.
const MaxBodyBytes = 16 << 20

// Header names.
const (
	HeaderTarget      = "X-Amz-Target"
	HeaderRequestID   = "X-Amzn-Requestid"
	ContentTypeJSON11 = "application/x-amz-json-1.1"
	ContentTypeJSON10 = "application/x-amz-json-1.0"
	ContentTypeXML    = "text/xml"
)

// SetRequestID sets the request-ID header that every response carries.
func SetRequestID(w http.ResponseWriter, id string) {
	w.Header()[HeaderRequestID] = []string{id} // HeaderRequestID is in canonical form
}
