package history

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// scanRecord is the fast path of parseRecord: it fills r from payload as
// json.Unmarshal(payload, r) would, for the plain records OpenTrail writes (compact JSON,
// member names spelled exactly as in rawRecord, no escapes in the strings it keeps), and
// reports false as soon as it meets anything it does not handle exactly alike: escapes in a
// kept string or in a member name, a member name that differs from a field's only in case, a
// value of the wrong type, invalid JSON, deep nesting. The caller then decodes with
// encoding/json, which stays the reference; FuzzScanRecord checks that both agree whenever the
// fast path answers.
//
// Whatever it accepts is valid JSON: skipped values are checked as strictly as encoding/json
// checks them. Kept raw values (requestParameters, ...) point into payload.
func scanRecord(payload []byte, r *rawRecord) bool {
	s := scanner{b: payload}
	ok := s.object(func(key []byte) bool {
		switch string(key) {
		case "userIdentity":
			return s.identity(&r.UserIdentity)
		case "eventTime":
			return s.str(&r.EventTime)
		case "eventSource":
			return s.str(&r.EventSource)
		case "eventName":
			return s.str(&r.EventName)
		case "awsRegion":
			return s.str(&r.AWSRegion)
		case "requestParameters":
			return s.raw(&r.RequestParameters)
		case "responseElements":
			return s.raw(&r.ResponseElements)
		case "eventID":
			return s.str(&r.EventID)
		case "readOnly":
			return s.raw(&r.ReadOnly)
		case "resources":
			return s.raw(&r.Resources)
		case "eventType":
			return s.str(&r.EventType)
		case "managementEvent":
			return s.raw(&r.ManagementEvent)
		case "recipientAccountId":
			return s.str(&r.RecipientAccountID)
		case "eventCategory":
			return s.str(&r.EventCategory)
		case "insightDetails":
			return s.insightDetails(&r.InsightDetails)
		}
		return !foldsTo(key, recordFields) && s.skip(0)
	})
	if !ok {
		return false
	}
	s.ws()
	return s.i == len(s.b)
}

// Member names of rawRecord, rawIdentity and InsightDetails: a member name that matches one
// of these only without regard to case is one encoding/json would decode into that field, so
// the fast path leaves such records to it.
var (
	recordFields = []string{"userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
		"requestParameters", "responseElements", "eventID", "readOnly", "resources", "eventType",
		"managementEvent", "recipientAccountId", "eventCategory", "insightDetails"}
	identityFields = []string{"type", "principalId", "arn", "accountId", "accessKeyId", "userName", "invokedBy"}
	insightFields  = []string{"eventName", "eventSource"}
)

// foldsTo reports whether the (ASCII) member name key equals one of names without regard to
// case.
func foldsTo(key []byte, names []string) bool {
	for _, n := range names {
		if len(n) == len(key) && strings.EqualFold(n, string(key)) {
			return true
		}
	}
	return false
}

// maxScanDepth bounds the nesting the fast path skips; deeper values go to encoding/json.
const maxScanDepth = 64

// scanner walks JSON text. Its methods return false when the input is not something the fast
// path handles (including invalid JSON).
type scanner struct {
	b []byte
	i int
}

// ws skips JSON whitespace.
func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end of input) without consuming it.
func (s *scanner) peek() byte {
	s.ws()
	if s.i == len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// object reads an object, calling member for each member with the scanner at the value.
// Member names must be plain: ASCII, no escapes.
func (s *scanner) object(member func(key []byte) bool) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	if s.peek() == '}' {
		s.i++
		return true
	}
	for {
		if s.peek() != '"' {
			return false
		}
		s.i++
		start := s.i
		for s.i < len(s.b) && s.b[s.i] != '"' {
			c := s.b[s.i]
			if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
				return false
			}
			s.i++
		}
		if s.i == len(s.b) {
			return false
		}
		key := s.b[start:s.i]
		s.i++
		if s.peek() != ':' {
			return false
		}
		s.i++
		s.ws()
		if !member(key) {
			return false
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str reads a string without escapes into *dst; null leaves *dst as it is, as encoding/json
// does.
func (s *scanner) str(dst *string) bool {
	if s.null() {
		return true
	}
	if s.i == len(s.b) || s.b[s.i] != '"' {
		return false
	}
	s.i++
	start := s.i
	ascii := true
	for s.i < len(s.b) && s.b[s.i] != '"' {
		c := s.b[s.i]
		if c == '\\' || c < 0x20 {
			return false
		}
		if c >= utf8.RuneSelf {
			ascii = false
		}
		s.i++
	}
	if s.i == len(s.b) {
		return false
	}
	v := s.b[start:s.i]
	if !ascii && !utf8.Valid(v) {
		return false // encoding/json would replace the invalid bytes
	}
	s.i++
	*dst = string(v)
	return true
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// raw reads any value into *dst, as json.RawMessage decodes (null included).
func (s *scanner) raw(dst *json.RawMessage) bool {
	start := s.i
	if !s.skip(0) {
		return false
	}
	*dst = s.b[start:s.i:s.i]
	return true
}

// identity reads userIdentity: null clears it, an object is decoded into it (allocated if
// nil), as encoding/json does for a pointer to a struct.
func (s *scanner) identity(dst **rawIdentity) bool {
	if s.null() {
		*dst = nil
		return true
	}
	if *dst == nil {
		*dst = new(rawIdentity)
	}
	id := *dst
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "type":
			return s.str(&id.Type)
		case "principalId":
			return s.str(&id.PrincipalID)
		case "arn":
			return s.str(&id.ARN)
		case "accountId":
			return s.str(&id.AccountID)
		case "accessKeyId":
			return s.str(&id.AccessKeyID)
		case "userName":
			return s.str(&id.UserName)
		case "invokedBy":
			return s.str(&id.InvokedBy)
		}
		return !foldsTo(key, identityFields) && s.skip(1)
	})
}

// insightDetails reads insightDetails like identity reads userIdentity.
func (s *scanner) insightDetails(dst **struct {
	EventName   string `json:"eventName"`
	EventSource string `json:"eventSource"`
}) bool {
	if s.null() {
		*dst = nil
		return true
	}
	if *dst == nil {
		*dst = &struct {
			EventName   string `json:"eventName"`
			EventSource string `json:"eventSource"`
		}{}
	}
	d := *dst
	return s.object(func(key []byte) bool {
		switch string(key) {
		case "eventName":
			return s.str(&d.EventName)
		case "eventSource":
			return s.str(&d.EventSource)
		}
		return !foldsTo(key, insightFields) && s.skip(1)
	})
}

// skip consumes one JSON value, checking it as strictly as encoding/json does.
func (s *scanner) skip(depth int) bool {
	if depth > maxScanDepth {
		return false
	}
	switch s.peek() {
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return true
		}
		for {
			if s.peek() != '"' || !s.skipString() {
				return false
			}
			if s.peek() != ':' {
				return false
			}
			s.i++
			if !s.skip(depth + 1) {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return true
			default:
				return false
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return true
		}
		for {
			if !s.skip(depth + 1) {
				return false
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return true
			default:
				return false
			}
		}
	case '"':
		return s.skipString()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// skipString consumes a string (the scanner is at its opening quote). Like encoding/json it
// accepts any byte from 0x20 up, valid UTF-8 or not, and only the JSON escapes.
func (s *scanner) skipString() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.i++
			if s.i == len(s.b) {
				return false
			}
			switch s.b[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.b)-s.i < 5 {
					return false
				}
				for _, h := range s.b[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// number consumes a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() bool {
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.i < len(s.b) && '1' <= s.b[s.i] && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits consumes [0-9]+ and reports whether there was at least one.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
