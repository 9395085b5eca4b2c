package sns

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"sort"
)

// Message types: the Type member of an envelope and the x-amz-sns-message-type header.
const (
	TypeNotification             = "Notification"
	TypeSubscriptionConfirmation = "SubscriptionConfirmation"
	TypeUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

// TimeFormat is the layout of an envelope's Timestamp: ISO 8601 UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Envelope is the JSON document SNS POSTs to HTTP/S endpoints (and mails to email-json
// endpoints). Members absent from a message type are empty.
type Envelope struct {
	Type              string
	MessageId         string
	Token             string // confirmations only
	TopicArn          string
	Subject           string // notifications, when published with one
	Message           string
	SubscribeURL      string // confirmations only
	Timestamp         string
	SignatureVersion  string
	Signature         string
	SigningCertURL    string
	UnsubscribeURL    string                      // notifications only
	MessageAttributes map[string]MessageAttribute // notifications only; not signed
}

// MessageAttribute is a message attribute as an envelope carries it: DataType as Type and the
// string or base64-encoded binary value as Value.
type MessageAttribute struct {
	Type  string
	Value string
}

// signedFields lists, for each message type, the members covered by the signature, in byte
// order (the order of the string to sign). Subject is signed only when present.
var signedFields = map[string][]string{
	TypeNotification:             {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"},
	TypeSubscriptionConfirmation: {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"},
	TypeUnsubscribeConfirmation:  {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"},
}

// field returns an envelope member by name and whether it is present.
func (e *Envelope) field(name string) (string, bool) {
	switch name {
	case "Message":
		return e.Message, true
	case "MessageId":
		return e.MessageId, true
	case "Subject":
		return e.Subject, e.Subject != ""
	case "Timestamp":
		return e.Timestamp, true
	case "TopicArn":
		return e.TopicArn, true
	case "Type":
		return e.Type, true
	case "SubscribeURL":
		return e.SubscribeURL, true
	case "Token":
		return e.Token, true
	}
	return "", false
}

// StringToSign is the text an envelope's signature covers: for each signed member of its
// type, in byte order, "<name>\n<value>\n".
func (e *Envelope) StringToSign() ([]byte, error) {
	fields, ok := signedFields[e.Type]
	if !ok {
		return nil, fmt.Errorf("sns: unknown message type %q", e.Type)
	}
	var b bytes.Buffer
	for _, f := range fields {
		v, present := e.field(f)
		if !present {
			continue
		}
		b.WriteString(f)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.Bytes(), nil
}

// hashFor returns the hash of a SignatureVersion: 1 is SHA1withRSA, 2 SHA256withRSA.
func hashFor(version string, msg []byte) (crypto.Hash, []byte, error) {
	switch version {
	case "1":
		h := sha1.Sum(msg)
		return crypto.SHA1, h[:], nil
	case "2":
		h := sha256.Sum256(msg)
		return crypto.SHA256, h[:], nil
	}
	return 0, nil, fmt.Errorf("sns: unsupported SignatureVersion %q", version)
}

// sign fills in e.Signature with key, under e.SignatureVersion.
func (e *Envelope) sign(key *rsa.PrivateKey) error {
	sts, err := e.StringToSign()
	if err != nil {
		return err
	}
	h, digest, err := hashFor(e.SignatureVersion, sts)
	if err != nil {
		return err
	}
	sig, err := rsa.SignPKCS1v15(nil, key, h, digest)
	if err != nil {
		return fmt.Errorf("sns: sign message: %w", err)
	}
	e.Signature = base64.StdEncoding.EncodeToString(sig)
	return nil
}

// Marshal encodes the envelope as SNS lays it out: one member per line, in AWS's order,
// members a message type does not have left out.
func (e *Envelope) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	put := func(name string, v any) {
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.WriteString("  ")
		b.Write(jsonString(name))
		b.WriteString(" : ")
		if s, ok := v.(string); ok {
			b.Write(jsonString(s))
			return
		}
		raw, _ := marshalNoEscape(v)
		b.Write(raw)
	}
	put("Type", e.Type)
	put("MessageId", e.MessageId)
	if e.Token != "" {
		put("Token", e.Token)
	}
	put("TopicArn", e.TopicArn)
	if e.Subject != "" {
		put("Subject", e.Subject)
	}
	put("Message", e.Message)
	if e.SubscribeURL != "" {
		put("SubscribeURL", e.SubscribeURL)
	}
	put("Timestamp", e.Timestamp)
	put("SignatureVersion", e.SignatureVersion)
	put("Signature", e.Signature)
	put("SigningCertURL", e.SigningCertURL)
	if e.UnsubscribeURL != "" {
		put("UnsubscribeURL", e.UnsubscribeURL)
	}
	if len(e.MessageAttributes) > 0 {
		names := make([]string, 0, len(e.MessageAttributes))
		for n := range e.MessageAttributes {
			names = append(names, n)
		}
		sort.Strings(names)
		var m bytes.Buffer
		m.WriteString("{")
		for i, n := range names {
			if i > 0 {
				m.WriteString(",")
			}
			m.WriteString("\n    ")
			m.Write(jsonString(n))
			m.WriteString(" : ")
			raw, _ := marshalNoEscape(e.MessageAttributes[n])
			m.Write(raw)
		}
		m.WriteString("\n  }")
		if !first {
			b.WriteString(",\n")
		}
		b.WriteString("  \"MessageAttributes\" : ")
		b.Write(m.Bytes())
	}
	b.WriteString("\n}")
	return b.Bytes()
}

// marshalNoEscape is json.Marshal without HTML escaping ('<', '>' and '&' stay as they are,
// as AWS sends them).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func jsonString(s string) []byte {
	b, _ := marshalNoEscape(s)
	return b
}

// ParseCertificate decodes the PEM signing certificate served at an envelope's SigningCertURL.
func ParseCertificate(pemBytes []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("sns: no PEM certificate found")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// VerifyMessage checks the signature of a message body as delivered to an HTTP/S endpoint (the
// JSON envelope) against the signing certificate, as AWS's SDK validators do: the string to
// sign is rebuilt from the members of the message's type, and the signature must be valid
// RSA PKCS #1 v1.5 over its SHA1 (SignatureVersion 1) or SHA256 (2) hash. It returns the
// decoded envelope. Fetching the certificate from SigningCertURL, and deciding whether to
// trust that URL, is the caller's business.
func VerifyMessage(body []byte, cert *x509.Certificate) (*Envelope, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("sns: message is not a JSON object: %w", err)
	}
	// Members are read by their exact names only (encoding/json would also match "message"
	// to Message, letting an unsigned member stand in for a signed one).
	str := func(name string) (string, bool, error) {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return "", false, nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", false, fmt.Errorf("sns: %s is not a string", name)
		}
		return s, true, nil
	}
	var e Envelope
	for name, dst := range map[string]*string{
		"Type": &e.Type, "MessageId": &e.MessageId, "Token": &e.Token, "TopicArn": &e.TopicArn, "Subject": &e.Subject,
		"Message": &e.Message, "SubscribeURL": &e.SubscribeURL, "Timestamp": &e.Timestamp, "SignatureVersion": &e.SignatureVersion,
		"Signature": &e.Signature, "SigningCertURL": &e.SigningCertURL, "UnsubscribeURL": &e.UnsubscribeURL,
	} {
		v, _, err := str(name)
		if err != nil {
			return nil, err
		}
		*dst = v
	}
	fields, ok := signedFields[e.Type]
	if !ok {
		return nil, fmt.Errorf("sns: unknown message type %q", e.Type)
	}
	var sts bytes.Buffer
	for _, f := range fields {
		v, present, _ := str(f)
		if !present {
			if f == "Subject" {
				continue
			}
			return nil, fmt.Errorf("sns: %s message lacks %s", e.Type, f)
		}
		sts.WriteString(f)
		sts.WriteByte('\n')
		sts.WriteString(v)
		sts.WriteByte('\n')
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, errors.New("sns: the signing certificate's key is not RSA")
	}
	h, digest, err := hashFor(e.SignatureVersion, sts.Bytes())
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(e.Signature)
	if err != nil {
		return nil, errors.New("sns: Signature is not base64")
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return nil, fmt.Errorf("sns: bad signature: %w", err)
	}
	if v, ok := raw["MessageAttributes"]; ok && string(v) != "null" {
		if err := json.Unmarshal(v, &e.MessageAttributes); err != nil {
			return nil, fmt.Errorf("sns: malformed MessageAttributes: %w", err)
		}
	}
	return &e, nil
}
