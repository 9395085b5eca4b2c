package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail/internal/redact"
	"github.com/opentrail/opentrail/internal/server"
)

// Publish limits, as AWS documents them.
const (
	maxMessageBytes   = 256 << 10 // message and message attributes together
	maxSubjectChars   = 99        // "less than 100 characters"
	maxMessageAttrs   = 10
	maxAttrNameLen    = 256
	maxAttrTypeLen    = 256
	attrEntriesParsed = maxMessageAttrs + 1 // one more than allowed, to detect too many
)

// msgAttrValue is a MessageAttributeValue as the Query protocol sends it.
type msgAttrValue struct {
	DataType    string
	StringValue *string
	BinaryValue *string // base64
}

// msgAttrEntry is one entry of the MessageAttributes map: MessageAttributes.entry.N.Name and
// MessageAttributes.entry.N.Value.*. The map's key and value are named Name and Value in the
// model, not the Query default key and value, so it is decoded as numbered entries.
type msgAttrEntry struct {
	Name  string
	Value *msgAttrValue
}

// msgAttrEntries holds the entries of MessageAttributes; entry 11 is read only to refuse it.
type msgAttrEntries struct {
	E1  *msgAttrEntry `query:"entry.1"`
	E2  *msgAttrEntry `query:"entry.2"`
	E3  *msgAttrEntry `query:"entry.3"`
	E4  *msgAttrEntry `query:"entry.4"`
	E5  *msgAttrEntry `query:"entry.5"`
	E6  *msgAttrEntry `query:"entry.6"`
	E7  *msgAttrEntry `query:"entry.7"`
	E8  *msgAttrEntry `query:"entry.8"`
	E9  *msgAttrEntry `query:"entry.9"`
	E10 *msgAttrEntry `query:"entry.10"`
	E11 *msgAttrEntry `query:"entry.11"`
}

func (m *msgAttrEntries) list() []*msgAttrEntry {
	if m == nil {
		return nil
	}
	var out []*msgAttrEntry
	for _, e := range []*msgAttrEntry{m.E1, m.E2, m.E3, m.E4, m.E5, m.E6, m.E7, m.E8, m.E9, m.E10, m.E11} {
		if e != nil {
			out = append(out, e)
		}
	}
	return out
}

type publishInput struct {
	TopicArn               string
	TargetArn              string
	PhoneNumber            string
	Message                string
	Subject                string
	MessageStructure       string
	MessageAttributes      *msgAttrEntries
	MessageDeduplicationId string
	MessageGroupId         string
}

// MarshalJSON renders the input for the call's record as AWS records Publish: the message, its
// subject and its attributes hidden.
func (in publishInput) MarshalJSON() ([]byte, error) {
	rec := map[string]string{
		"TopicArn": in.TopicArn, "TargetArn": in.TargetArn, "PhoneNumber": in.PhoneNumber,
		"MessageStructure": in.MessageStructure, "MessageGroupId": in.MessageGroupId,
		"MessageDeduplicationId": in.MessageDeduplicationId,
	}
	if in.Message != "" {
		rec["Message"] = redact.Hidden
	}
	if in.Subject != "" {
		rec["Subject"] = redact.Hidden
	}
	if len(in.MessageAttributes.list()) > 0 {
		rec["MessageAttributes"] = redact.Hidden
	}
	return json.Marshal(rec)
}

// target is the ARN a Publish call publishes to.
func (in *publishInput) target() string {
	if in.TopicArn != "" {
		return in.TopicArn
	}
	return in.TargetArn
}

// outgoing is a validated message: what each protocol receives, its subject and attributes.
type outgoing struct {
	subject     string
	message     string            // the default message
	perProtocol map[string]string // MessageStructure=json: the message for each protocol named
	attrs       map[string]MessageAttribute
}

func (m *outgoing) forProtocol(p string) string {
	if v, ok := m.perProtocol[p]; ok {
		return v
	}
	return m.message
}

// checkSubject applies AWS's subject rules: UTF-8 text of fewer than 100 characters that
// begins with a letter, number or punctuation mark and has no line breaks or control
// characters.
func checkSubject(subject string) error {
	if subject == "" {
		return nil
	}
	if !utf8.ValidString(subject) || utf8.RuneCountInString(subject) > maxSubjectChars {
		return invalidParameter("Invalid parameter: Subject")
	}
	first, _ := utf8.DecodeRuneInString(subject)
	if !(unicode.IsLetter(first) || unicode.IsDigit(first) || unicode.IsPunct(first) || unicode.IsSymbol(first)) {
		return invalidParameter("Invalid parameter: Subject")
	}
	for _, r := range subject {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return invalidParameter("Invalid parameter: Subject")
		}
	}
	return nil
}

// parseMessage validates a message, its subject, structure and attributes.
func parseMessage(message, subject, structure string, entries []*msgAttrEntry) (*outgoing, error) {
	if message == "" {
		return nil, invalidParameter("Invalid parameter: Empty message")
	}
	if !utf8.ValidString(message) {
		return nil, invalidParameter("Invalid parameter: Message Reason: the message must be UTF-8 text")
	}
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	m := &outgoing{subject: subject, message: message}
	switch structure {
	case "":
	case "json":
		var doc map[string]any
		if err := json.Unmarshal([]byte(message), &doc); err != nil || doc == nil {
			return nil, invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
		}
		m.perProtocol = make(map[string]string, len(doc))
		for k, v := range doc {
			str, ok := v.(string)
			if !ok {
				return nil, invalidParameter("Invalid parameter: Message Structure - JSON message body failed to parse")
			}
			m.perProtocol[k] = str
		}
		def, ok := m.perProtocol["default"]
		if !ok {
			return nil, invalidParameter("Invalid parameter: Message Structure - No default entry in JSON message body")
		}
		m.message = def
	default:
		return nil, invalidParameter("Invalid parameter: MessageStructure")
	}
	attrs, size, err := parseMessageAttributes(entries)
	if err != nil {
		return nil, err
	}
	m.attrs = attrs
	if len(message)+size > maxMessageBytes {
		return nil, invalidParameter("Invalid parameter: Message too long")
	}
	return m, nil
}

// parseMessageAttributes validates message attributes and returns them as envelopes carry
// them, with their size in bytes (names, types and values), which counts against the message
// size limit.
func parseMessageAttributes(entries []*msgAttrEntry) (map[string]MessageAttribute, int, error) {
	if len(entries) == 0 {
		return nil, 0, nil
	}
	if len(entries) > maxMessageAttrs {
		return nil, 0, invalidParameter("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(entries), maxMessageAttrs)
	}
	out := make(map[string]MessageAttribute, len(entries))
	size := 0
	for _, e := range entries {
		name := e.Name
		if err := checkAttrName(name); err != nil {
			return nil, 0, err
		}
		if _, dup := out[name]; dup {
			return nil, 0, parameterValue("Message attribute name '%s' has already been used.", name)
		}
		if e.Value == nil || e.Value.DataType == "" {
			return nil, 0, parameterValue("The message attribute '%s' must contain non-empty message attribute type.", name)
		}
		typ := e.Value.DataType
		base, _, _ := strings.Cut(typ, ".")
		if len(typ) > maxAttrTypeLen || (base != "String" && base != "Number" && base != "Binary") || strings.HasSuffix(typ, ".") || !validTypeLabel(typ) {
			return nil, 0, parameterValue("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		var value string
		if base == "Binary" {
			if e.Value.BinaryValue == nil || *e.Value.BinaryValue == "" {
				return nil, 0, parameterValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			b, err := base64.StdEncoding.DecodeString(*e.Value.BinaryValue)
			if err != nil || len(b) == 0 {
				return nil, 0, parameterValue("The message attribute '%s' has an invalid binary value: it must be base64-encoded.", name)
			}
			value = base64.StdEncoding.EncodeToString(b)
			size += len(b)
		} else {
			if e.Value.StringValue == nil || *e.Value.StringValue == "" {
				return nil, 0, parameterValue("The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			value = *e.Value.StringValue
			if !utf8.ValidString(value) {
				return nil, 0, parameterValue("The message attribute '%s' has a value that is not UTF-8 text.", name)
			}
			if base == "Number" && !validNumber(value) {
				return nil, 0, parameterValue("Could not cast message attribute '%s' value to number.", name)
			}
			if typ == "String.Array" && !validStringArray(value) {
				return nil, 0, parameterValue("The message attribute '%s' with type 'String.Array' must be a JSON array of strings, numbers, true, false or null.", name)
			}
			size += len(value)
		}
		size += len(name) + len(typ)
		out[name] = MessageAttribute{Type: typ, Value: value}
	}
	return out, size, nil
}

// validTypeLabel reports whether a data type (a base type and an optional custom label) uses
// only the characters AWS allows in custom type labels: A-Z a-z 0-9 _ - and '.'.
func validTypeLabel(typ string) bool {
	for i := 0; i < len(typ); i++ {
		c := typ[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// checkAttrName applies AWS's message attribute name rules: 1–256 characters from
// A-Z a-z 0-9 _ - . ; no leading or trailing period, no two periods in a row, and no "AWS." or
// "Amazon." prefix (reserved).
func checkAttrName(name string) error {
	bad := name == "" || len(name) > maxAttrNameLen || name[0] == '.' || name[len(name)-1] == '.' ||
		strings.Contains(name, "..") || strings.HasPrefix(strings.ToLower(name), "aws.") || strings.HasPrefix(strings.ToLower(name), "amazon.")
	for i := 0; !bad && i < len(name); i++ {
		c := name[i]
		bad = !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.')
	}
	if bad {
		return parameterValue("The message attribute name '%s' is invalid: names are 1 to 256 characters from A-Z, a-z, 0-9, '_', '-' and '.', with no leading, trailing or repeated '.', and must not start with 'AWS.' or 'Amazon.'", name)
	}
	return nil
}

// validNumber accepts decimal numbers (optionally signed, with a fraction and an exponent),
// finite, within AWS's range of ±10^126.
func validNumber(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			return false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) <= 1e126
}

func validStringArray(s string) bool {
	var arr []any
	if err := json.Unmarshal([]byte(s), &arr); err != nil || arr == nil {
		return false
	}
	for _, v := range arr {
		switch v.(type) {
		case string, float64, bool, nil:
		default:
			return false
		}
	}
	return true
}

func (s *Service) publish(ctx context.Context, c *server.Call, in *publishInput) (*publishOutput, error) {
	switch {
	case in.PhoneNumber != "":
		return nil, invalidParameter("Invalid parameter: PhoneNumber Reason: SMS is not supported by this server")
	case in.TopicArn != "" && in.TargetArn != "":
		return nil, invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: Only one of TopicArn or TargetArn may be specified")
	case in.TopicArn == "" && in.TargetArn == "":
		return nil, invalidParameter("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
	case in.TargetArn != "":
		if _, ok := parseTopicARN(in.TargetArn); !ok {
			return nil, invalidParameter("Invalid parameter: TargetArn Reason: mobile push endpoints are not supported by this server")
		}
	}
	m, err := parseMessage(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes.list())
	if err != nil {
		return nil, err
	}
	if in.MessageDeduplicationId != "" {
		return nil, invalidParameter("Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId parameter that is not valid for this topic type")
	}
	t, err := s.callTopic(c, in.target())
	if err != nil {
		return nil, err
	}
	id, err := s.publishTo(t, m)
	if err != nil {
		return nil, err
	}
	c.AddResource("AWS::SNS::Topic", t.arn())
	return &publishOutput{MessageId: id}, nil
}

// PublishInternal publishes a message to a topic on behalf of OpenTrail itself (trail
// log-file notifications, alarms): no caller, no authorization, no record. The message and
// subject must pass Publish's checks; a topic that does not exist is a NotFound error. It
// returns once the deliveries are stored; they are made in the background.
func (s *Service) PublishInternal(ctx context.Context, topicARN, subject, message string) (messageID string, err error) {
	ref, ok := parseTopicARN(topicARN)
	if !ok {
		return "", invalidParameter("Invalid parameter: TopicArn")
	}
	m, err := parseMessage(message, subject, "", nil)
	if err != nil {
		return "", err
	}
	s.mu.RLock()
	t := s.topics[ref]
	s.mu.RUnlock()
	if t == nil {
		return "", errTopicNotFound()
	}
	return s.publishTo(t, m)
}

// TopicARN resolves a topic given by name (in acct and region) or by ARN, as CloudTrail's
// SnsTopicName accepts either. ok is false when the topic does not exist; err is an
// InvalidParameter error when nameOrARN is neither a valid topic name nor a topic ARN.
func (s *Service) TopicARN(acct, region, nameOrARN string) (arn string, ok bool, err error) {
	var ref topicRef
	if strings.HasPrefix(nameOrARN, "arn:") {
		r, valid := parseTopicARN(nameOrARN)
		if !valid {
			return "", false, invalidParameter("Invalid parameter: TopicArn")
		}
		ref = r
	} else {
		if !validTopicName(nameOrARN) {
			return "", false, invalidParameter("Invalid parameter: Topic Name")
		}
		ref = topicRef{Account: acct, Region: region, Name: nameOrARN}
	}
	s.mu.RLock()
	t := s.topics[ref]
	s.mu.RUnlock()
	if t == nil {
		return ref.ARN(), false, nil
	}
	return ref.ARN(), true, nil
}

// publishTo stores one delivery per confirmed subscription of t and hands them to the
// delivery workers. Each distinct message text (per protocol, with MessageStructure=json) is
// signed once.
func (s *Service) publishTo(t *topic, m *outgoing) (string, error) {
	id := uuid.NewString()
	arn := t.arn()
	s.mu.RLock()
	var subs []*subscription
	for _, sub := range s.subs {
		if sub.TopicARN == arn && !sub.Pending {
			subs = append(subs, sub)
		}
	}
	s.mu.RUnlock()
	if len(subs) == 0 {
		return id, nil
	}
	ts := s.now().UTC().Format(TimeFormat)
	signed := make(map[string]string) // message text → signature
	b := s.store.NewBatch()
	ds := make([]*delivery, 0, len(subs))
	for _, sub := range subs {
		text := m.forProtocol(sub.Protocol)
		env := &Envelope{
			Type: TypeNotification, MessageId: id, TopicArn: arn, Subject: m.subject, Message: text,
			Timestamp: ts, SignatureVersion: t.signatureVersion(), SigningCertURL: s.SigningCertURL(),
			UnsubscribeURL: s.unsubscribeURL(sub.ARN), MessageAttributes: m.attrs,
		}
		if sig, ok := signed[text]; ok {
			env.Signature = sig
		} else {
			if err := env.sign(s.signer.key); err != nil {
				return "", err
			}
			signed[text] = env.Signature
		}
		d := s.newDelivery(t, sub, env, m)
		if err := b.Put(deliveryKey(d.ID), d); err != nil {
			return "", internal("store delivery", err)
		}
		ds = append(ds, d)
	}
	if err := b.Commit(); err != nil {
		return "", internal("store deliveries", err)
	}
	s.engine.enqueue(ds...)
	return id, nil
}
