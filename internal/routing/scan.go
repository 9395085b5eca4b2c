package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/opentrail/opentrail"
)

// errScan means the fast scanner met something it does not handle; decodeFields then falls
// back to encoding/json, which also gives the precise error for malformed records.
var errScan = errors.New("routing: record needs the full JSON decoder")

// Decode reads the routing members of a journaled record with sequence number seq into r
// (replacing what r held). It fails when the payload is not a JSON object or its eventTime
// is not a CloudTrail time.
func Decode(payload []byte, seq uint64, r *Record) error {
	*r = Record{}
	if err := decodeMembers(payload, r); err != nil {
		return err
	}
	t, err := time.Parse(opentrail.TimeFormat, r.EventTime)
	if err != nil {
		return fmt.Errorf("routing: bad eventTime %q", r.EventTime)
	}
	r.Time, r.Seq = t, seq
	return nil
}

// decodeMembers fills f from a record. Routing decodes every record, and encoding/json spends
// most of its time validating and skipping members that routing never reads, so a small
// scanner walks the top-level members, decodes the wanted ones and skips the rest. Anything
// unusual (escaped member names, malformed JSON) goes to encoding/json, so the result is
// always what json.Unmarshal would give for a valid record.
func decodeMembers(b []byte, f *Record) error {
	if err := scanFields(b, f); err == nil {
		return nil
	}
	*f = Record{}
	return json.Unmarshal(b, f)
}

func scanFields(b []byte, f *Record) error {
	return scanObject(b, f.set)
}

// scanObject calls set with every member of the JSON object b (name, raw value), in order.
func scanObject(b []byte, set func(key string, v []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errScan
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errScan
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return errScan
		}
		key := b[i+1 : i+1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return errScan
		}
		i = skipSpace(b, i+end+2)
		if i >= len(b) || b[i] != ':' {
			return errScan
		}
		i = skipSpace(b, i+1)
		vend, err := skipValue(b, i)
		if err != nil {
			return err
		}
		if err := set(string(key), b[i:vend]); err != nil {
			return err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errScan
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return trailing(b, i+1)
		default:
			return errScan
		}
	}
}

// set decodes the value v of member key when routing needs it.
func (f *Record) set(key string, v []byte) error {
	var dst *string
	switch key {
	case "eventTime":
		dst = &f.EventTime
	case "requestID":
		dst = &f.RequestID
	case "eventSource":
		dst = &f.EventSource
	case "eventName":
		dst = &f.EventName
	case "awsRegion":
		dst = &f.AWSRegion
	case "errorCode":
		dst = &f.ErrorCode
	case "eventType":
		dst = &f.EventType
	case "recipientAccountId":
		dst = &f.RecipientAccountID
	case "eventCategory":
		dst = &f.EventCategory
	case "sessionCredentialFromConsole":
		dst = &f.SessionCredentialFromConsole
	case "vpcEndpointId":
		dst = &f.VpcEndpointID
	case "readOnly":
		return f.ReadOnly.UnmarshalJSON(v)
	case "managementEvent":
		return f.ManagementEvent.UnmarshalJSON(v)
	case "userIdentity":
		if string(v) == "null" {
			return nil
		}
		return scanObject(v, func(k string, v []byte) error {
			switch {
			case k == "arn":
				return setString(&f.UserIdentity.ARN, v)
			case len(k) == 3 && bytes.EqualFold([]byte(k), []byte("arn")):
				return errScan
			}
			return nil
		})
	case "resources":
		return json.Unmarshal(v, &f.Resources)
	default:
		if _, ok := foldedNames[string(bytes.ToLower([]byte(key)))]; ok {
			return errScan // encoding/json matches member names case-insensitively
		}
		return nil
	}
	return setString(dst, v)
}

// foldedNames are the lower-cased names of the members set decodes.
var foldedNames = map[string]struct{}{
	"eventtime": {}, "requestid": {}, "eventsource": {}, "eventname": {}, "awsregion": {},
	"errorcode": {}, "eventtype": {}, "recipientaccountid": {}, "eventcategory": {},
	"sessioncredentialfromconsole": {}, "vpcendpointid": {}, "readonly": {},
	"managementevent": {}, "useridentity": {}, "resources": {},
}

// setString decodes a JSON string (or null, which leaves dst alone as encoding/json does).
func setString(dst *string, v []byte) error {
	if len(v) == 4 && string(v) == "null" {
		return nil
	}
	if len(v) < 2 || v[0] != '"' {
		return errScan // a number or object where a string belongs: let encoding/json say so
	}
	inner := v[1 : len(v)-1]
	for _, c := range inner {
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return json.Unmarshal(v, dst) // escapes or non-ASCII: the full decoder checks them
		}
	}
	*dst = string(inner)
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// trailing accepts only white space after the record.
func trailing(b []byte, i int) error {
	if skipSpace(b, i) != len(b) {
		return errScan
	}
	return nil
}

// skipValue returns the index just past the JSON value starting at b[i]. It tracks strings
// and nesting only; literals and numbers end at the next delimiter. Values it accepts but
// that are not valid JSON are caught when decoded (wanted members) or not at all (skipped
// members of records that encoding/json would reject — routing then still sees the wanted
// members correctly).
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errScan
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				end, err := skipString(b, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errScan
	default:
		j := i
		for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\t' && b[j] != '\r' {
			j++
		}
		if j == i {
			return 0, errScan
		}
		return j, nil
	}
}

// skipString returns the index just past the string starting at b[i] == '"'.
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errScan
}
