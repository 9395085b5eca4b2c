package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/redact"
)

// maxField is the size limit of requestParameters and responseElements in a record; larger
// content is replaced with {"omitted": true}, as AWS does.
const maxField = 100 << 10

// buildRecord turns a finished call into its CloudTrail record.
func (s *Server) buildRecord(r *http.Request, c *Call, in, out any, callErr error) *opentrail.Event {
	region := c.Region
	if c.Service.RecordRegion != "" {
		region = c.Service.RecordRegion
	}
	e := &opentrail.Event{
		EventVersion:       opentrail.EventVersion,
		UserIdentity:       c.Caller.UserIdentity(),
		EventTime:          c.Time.UTC().Format(opentrail.TimeFormat),
		EventSource:        c.Service.EventSource,
		EventName:          c.Operation.Name,
		AWSRegion:          region,
		SourceIPAddress:    c.SourceIP,
		UserAgent:          truncate(c.UserAgent, 1024),
		RequestParameters:  memberJSON(in),
		ResponseElements:   json.RawMessage("null"),
		RequestID:          c.RequestID,
		EventID:            uuid.Must(uuid.NewV7()).String(),
		ReadOnly:           c.Operation.ReadOnly,
		Resources:          c.resources,
		EventType:          opentrail.EventTypeAPICall,
		ManagementEvent:    true,
		RecipientAccountID: c.Account(),
		EventCategory:      opentrail.CategoryManagement,
	}
	if callErr != nil {
		ae := ErrorForRecord(callErr)
		e.ErrorCode, e.ErrorMessage = ae.Code, truncate(ae.Message, 1024)
	} else if !c.Operation.ReadOnly {
		e.ResponseElements = memberJSON(out)
	}
	if len(c.extra) > 0 {
		e.AdditionalEventData, _ = json.Marshal(c.extra)
	}
	if r.TLS != nil {
		e.TLSDetails = tlsDetails(r)
	}
	return e
}

// recordAuthFailure records a request whose signature failed for a known access key, as AWS
// records such calls; unknown keys and unsigned requests are not recorded.
func (s *Server) recordAuthFailure(r *http.Request, svc *Service, op *Operation, a *authResult, aerr *authError, reqID string) {
	if s.cfg.Recorder == nil || a == nil || !a.known || op == nil {
		return
	}
	c := &Call{Service: svc, Operation: op, RequestID: reqID, Region: a.region, Caller: &a.creds.Caller,
		SourceIP: s.sourceIP(r), UserAgent: r.UserAgent(), Time: s.cfg.Now(), Secure: r.TLS != nil}
	rec := s.buildRecord(r, c, nil, nil, aerr.forProtocol(svc.Wire.Protocol))
	if err := s.cfg.Recorder.Record(r.Context(), rec); err != nil {
		s.log.Error("record failed authentication", "request_id", reqID, "err", err)
	}
}

// ErrorForRecord is the code and message a record shows for a failed call.
func ErrorForRecord(err error) *opentrail.Error {
	if e := opentrail.ErrorOf(err); e != nil {
		return e
	}
	return opentrail.ErrInternal
}

// memberJSON renders an operation's input or output as AWS renders requestParameters and
// responseElements: member names in lowerCamel case, absent members left out, sensitive members
// hidden. Nil (or an empty structure) gives null.
func memberJSON(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	if _, empty := v.(*NoOutput); empty {
		return json.RawMessage("null")
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		return json.RawMessage("null")
	}
	tree = camelize(tree)
	redact.Walk(tree)
	if m, ok := tree.(map[string]any); ok && len(m) == 0 {
		return json.RawMessage("null")
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return json.RawMessage("null")
	}
	if len(out) > maxField {
		return json.RawMessage(`{"omitted":true}`)
	}
	return out
}

// camelize lower-cases the first letter of every member name and drops null and empty-string
// members, recursively.
func camelize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			if x == nil {
				continue
			}
			if s, ok := x.(string); ok && s == "" {
				continue
			}
			m[lowerFirst(k)] = camelize(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = camelize(x)
		}
		return t
	}
	return v
}

// lowerFirst turns "S3BucketName" into "s3BucketName", "ARN" into "aRN"-free "arn", as AWS
// names members in records.
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	// A leading run of capitals is an acronym: lower it all but the last when a lower-case
	// letter follows ("KMSKeyId" → "kmsKeyId"), or all of it at the end ("ARN" → "arn").
	n := 0
	for n < len(s) && unicode.IsUpper(rune(s[n])) {
		n++
	}
	switch {
	case n == 0:
		return s
	case n == len(s):
		return strings.ToLower(s)
	case n == 1:
		r, size := utf8.DecodeRuneInString(s)
		return string(unicode.ToLower(r)) + s[size:]
	default:
		if unicode.IsDigit(rune(s[n])) {
			return strings.ToLower(s[:n]) + s[n:]
		}
		return strings.ToLower(s[:n-1]) + s[n-1:]
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
