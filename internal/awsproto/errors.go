package awsproto

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/opentrail/opentrail"
)

// Wire is how one service writes errors.
type Wire struct {
	Protocol     Protocol
	ContentType  string // JSON content type (1.0 or 1.1)
	MessageKey   string // JSON: "message" (default) or "Message", as the service writes it
	XMLNamespace string // Query: the xmlns of ErrorResponse
	// QueryErrors is set for awsQueryCompatible services answering in JSON or CBOR: it maps a
	// Query error code to the modeled error shape written as __type, and errors also carry the
	// x-amzn-query-error header with the Query code (cbor.go).
	QueryErrors func(code string) (shape string)
}

// ErrorFor returns the *opentrail.Error to send for err: err's own *Error, or InternalFailure
// for anything else (whose detail must never reach the client).
func ErrorFor(err error) *opentrail.Error {
	if e := opentrail.ErrorOf(err); e != nil {
		return e
	}
	return opentrail.ErrInternal
}

// WriteError writes err as an AWS error response in the wire's protocol. It is the only place
// that turns errors into bytes on the wire.
func WriteError(w http.ResponseWriter, wire Wire, requestID string, err error) {
	e := ErrorFor(err)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	var body []byte
	h := w.Header()
	SetRequestID(w, requestID)
	switch wire.Protocol {
	case Query:
		typ := "Sender"
		if status >= 500 {
			typ = "Receiver"
		}
		v := queryError{Xmlns: wire.XMLNamespace, RequestID: requestID}
		v.Error.Type, v.Error.Code, v.Error.Message = typ, e.Code, e.Message
		b, _ := xml.Marshal(v)
		body = append([]byte(xml.Header[:len(xml.Header)-1]), b...)
		h.Set("Content-Type", ContentTypeXML)
	case CBOR:
		body = cborError(queryCompatible(h, wire, e, status), e.Message)
		h.Set("Content-Type", ContentTypeCBOR)
		h.Set(HeaderSmithyProto, SmithyProtocolCBOR)
	default:
		key := wire.MessageKey
		if key == "" {
			key = "message"
		}
		body, _ = json.Marshal(map[string]string{"__type": queryCompatible(h, wire, e, status), key: e.Message})
		ct := wire.ContentType
		if ct == "" {
			ct = ContentTypeJSON11
		}
		h.Set("Content-Type", ct)
		h.Set("X-Amzn-ErrorType", e.Code)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}
