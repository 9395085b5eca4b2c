package awsproto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/opentrail/opentrail"
)

// SplitTarget splits an X-Amz-Target value into its prefix and operation name.
func SplitTarget(target string) (prefix, op string, ok bool) {
	i := strings.LastIndexByte(target, '.')
	if i <= 0 || i == len(target)-1 {
		return "", "", false
	}
	return target[:i], target[i+1:], true
}

// DecodeJSON decodes a JSON request body into v. An empty body decodes as {}. Malformed JSON,
// a body that is not an object, and values of the wrong type give a SerializationException,
// as AWS JSON services answer.
func DecodeJSON(body []byte, v any) error {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	if body[0] != '{' {
		return opentrail.Errorf("SerializationException", "Start of structure or map found where not expected")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return opentrail.Errorf("SerializationException", "Unexpected value type for field %s: expected %s", te.Field, te.Type)
		}
		return opentrail.Errorf("SerializationException", "The request body is not valid JSON: %s", cleanJSONError(err))
	}
	if dec.More() {
		return opentrail.Errorf("SerializationException", "The request body holds more than one JSON value")
	}
	return nil
}

func cleanJSONError(err error) string {
	s := err.Error()
	return strings.TrimPrefix(s, "json: ")
}

// WriteJSON writes a successful JSON response. A nil v writes {}.
func WriteJSON(w http.ResponseWriter, contentType string, v any) error {
	var body []byte
	if v == nil {
		body = []byte("{}")
	} else {
		var err error
		if body, err = json.Marshal(v); err != nil {
			return fmt.Errorf("encode response: %w", err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}
