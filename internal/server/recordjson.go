package server

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/opentrail/opentrail"
)

// MarshalEvent encodes a record as json.Marshal does, byte for byte, without reflection:
// every call's record is encoded once, before its response, so this is on the request path.
// FuzzMarshalEvent compares the two.
func MarshalEvent(e *opentrail.Event) ([]byte, error) {
	if b, ok := appendEvent(make([]byte, 0, 1024), e); ok {
		return b, nil
	}
	return json.Marshal(e) // a RawMessage member that is not valid JSON: let it say so
}

// appendEvent appends e encoded as json.Marshal encodes it. It reports false if a
// json.RawMessage member is not valid JSON (json.Marshal fails on it).
func appendEvent(b []byte, e *opentrail.Event) ([]byte, bool) {
	ok := true
	b = append(b, `{"eventVersion":`...)
	b = appendJSONString(b, e.EventVersion)
	if u := e.UserIdentity; u != nil {
		b = append(b, `,"userIdentity":{"type":`...)
		b = appendJSONString(b, u.Type)
		b = appendOmitEmpty(b, `,"principalId":`, u.PrincipalID)
		b = appendOmitEmpty(b, `,"arn":`, u.ARN)
		b = appendOmitEmpty(b, `,"accountId":`, u.AccountID)
		b = appendOmitEmpty(b, `,"accessKeyId":`, u.AccessKeyID)
		b = appendOmitEmpty(b, `,"userName":`, u.UserName)
		if sc := u.SessionContext; sc != nil {
			si := &sc.SessionIssuer
			b = append(b, `,"sessionContext":{"sessionIssuer":{`...)
			n := len(b)
			b = appendOmitEmpty(b, `,"type":`, si.Type)
			b = appendOmitEmpty(b, `,"principalId":`, si.PrincipalID)
			b = appendOmitEmpty(b, `,"arn":`, si.ARN)
			b = appendOmitEmpty(b, `,"accountId":`, si.AccountID)
			b = appendOmitEmpty(b, `,"userName":`, si.UserName)
			b = dropLeadingComma(b, n)
			b = append(b, `},"webIdFederationData":`...)
			b = appendStringMap(b, sc.WebIDFederationData)
			b = append(b, `,"attributes":{"creationDate":`...)
			b = appendJSONString(b, sc.Attributes.CreationDate)
			b = append(b, `,"mfaAuthenticated":`...)
			b = appendJSONString(b, sc.Attributes.MFAAuthenticated)
			b = append(b, `}}`...)
		}
		b = appendOmitEmpty(b, `,"invokedBy":`, u.InvokedBy)
		b = append(b, '}')
	}
	b = append(b, `,"eventTime":`...)
	b = appendJSONString(b, e.EventTime)
	b = append(b, `,"eventSource":`...)
	b = appendJSONString(b, e.EventSource)
	b = append(b, `,"eventName":`...)
	b = appendJSONString(b, e.EventName)
	b = append(b, `,"awsRegion":`...)
	b = appendJSONString(b, e.AWSRegion)
	b = append(b, `,"sourceIPAddress":`...)
	b = appendJSONString(b, e.SourceIPAddress)
	b = appendOmitEmpty(b, `,"userAgent":`, e.UserAgent)
	b = appendOmitEmpty(b, `,"errorCode":`, e.ErrorCode)
	b = appendOmitEmpty(b, `,"errorMessage":`, e.ErrorMessage)
	b = append(b, `,"requestParameters":`...)
	b, ok = appendRaw(b, e.RequestParameters, ok)
	b = append(b, `,"responseElements":`...)
	b, ok = appendRaw(b, e.ResponseElements, ok)
	if len(e.AdditionalEventData) > 0 {
		b = append(b, `,"additionalEventData":`...)
		b, ok = appendRaw(b, e.AdditionalEventData, ok)
	}
	b = appendOmitEmpty(b, `,"requestID":`, e.RequestID)
	b = append(b, `,"eventID":`...)
	b = appendJSONString(b, e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i := range e.Resources {
			r := &e.Resources[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			n := len(b)
			b = appendOmitEmpty(b, `,"ARN":`, r.ARN)
			b = appendOmitEmpty(b, `,"accountId":`, r.AccountID)
			b = appendOmitEmpty(b, `,"type":`, r.Type)
			b = dropLeadingComma(b, n)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"eventType":`...)
	b = appendJSONString(b, e.EventType)
	b = appendOmitEmpty(b, `,"apiVersion":`, e.APIVersion)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, e.ManagementEvent)
	b = append(b, `,"recipientAccountId":`...)
	b = appendJSONString(b, e.RecipientAccountID)
	b = appendOmitEmpty(b, `,"sharedEventID":`, e.SharedEventID)
	b = append(b, `,"eventCategory":`...)
	b = appendJSONString(b, e.EventCategory)
	if t := e.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{`...)
		n := len(b)
		b = appendOmitEmpty(b, `,"tlsVersion":`, t.TLSVersion)
		b = appendOmitEmpty(b, `,"cipherSuite":`, t.CipherSuite)
		b = appendOmitEmpty(b, `,"clientProvidedHostHeader":`, t.ClientProvidedHostHeader)
		b = dropLeadingComma(b, n)
		b = append(b, '}')
	}
	b = appendOmitEmpty(b, `,"sessionCredentialFromConsole":`, e.SessionCredentialFromConsole)
	b = append(b, '}')
	return b, ok
}

// appendOmitEmpty appends a member with omitempty: name (with its leading comma) and value,
// unless the value is empty.
func appendOmitEmpty(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, name...)
	return appendJSONString(b, s)
}

// dropLeadingComma removes the comma at b[n], where the first member of an object whose
// members are all optional was appended.
func dropLeadingComma(b []byte, n int) []byte {
	if len(b) > n && b[n] == ',' {
		return append(b[:n], b[n+1:]...)
	}
	return b
}

// appendStringMap appends a map[string]string as json.Marshal does: null when nil, keys
// sorted.
func appendStringMap(b []byte, m map[string]string) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = appendJSONString(b, m[k])
	}
	return append(b, '}')
}

// appendRaw appends a json.RawMessage as json.Marshal does: null when nil, else compacted
// with <, >, &, U+2028 and U+2029 escaped. It sets ok to false if raw is not valid JSON.
func appendRaw(b []byte, raw json.RawMessage, ok bool) ([]byte, bool) {
	switch {
	case raw == nil:
		return append(b, "null"...), ok
	case string(raw) == "null":
		return append(b, raw...), ok
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		return b, false
	}
	compact := c.Bytes()
	start := 0
	for i := 0; i < len(compact); i++ {
		ch := compact[i]
		switch {
		case ch == '<' || ch == '>' || ch == '&':
			b = append(b, compact[start:i]...)
			b = append(b, '\\', 'u', '0', '0', hexDigits[ch>>4], hexDigits[ch&0xF])
			start = i + 1
		case ch == 0xE2 && i+2 < len(compact) && compact[i+1] == 0x80 && compact[i+2]&^1 == 0xA8:
			b = append(b, compact[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[compact[i+2]&0xF])
			start = i + 3
			i += 2
		}
	}
	return append(b, compact[start:]...), ok
}

const hexDigits = "0123456789abcdef"

// jsonSafe tells the ASCII characters that json.Marshal writes as they are.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string as json.Marshal writes it: HTML characters
// (<, >, &), control characters, U+2028 and U+2029 escaped, invalid UTF-8 replaced by
// U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
