// Package digest is CloudTrail's log-file integrity format: the hourly digest file, its
// signature, the object keys digests are stored under, and the per-region signing keys that
// ListPublicKeys publishes.
//
// A digest is a JSON document listing the log files delivered in one window with their SHA-256
// hashes, linked to the previous digest of the same trail, account and source region. It is
// stored gzipped (one gzip member) with its signature in the object's user metadata:
//
//	signature:           lowerhex(RSASSA-PKCS1-v1_5(SHA-256, StringToSign(d, raw)))
//	signature-algorithm: SHA256withRSA
//
// where raw is the exact uncompressed JSON that is gzipped and StringToSign is
//
//	digestEndTime "\n" digestS3Bucket "/" digestS3Object "\n" lowerhex(sha256(raw)) "\n" previousDigestSignature-or-"null"
//
// The verifier's side — the exact walk `aws cloudtrail validate-logs` does, and a stricter
// one — is in internal/validate; docs/digest.md describes both.
package digest

import (
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

// Metadata names and values of a stored digest object, as S3 clients see them (S3 sends them
// as x-amz-meta-signature and x-amz-meta-signature-algorithm).
const (
	MetaSignature          = "signature"
	MetaSignatureAlgorithm = "signature-algorithm"
	// SignatureAlgorithm is the value of MetaSignatureAlgorithm and of digestSignatureAlgorithm.
	SignatureAlgorithm = "SHA256withRSA"
	// HashAlgorithm is the value of logFiles[].hashAlgorithm and previousDigestHashAlgorithm.
	HashAlgorithm = "SHA-256"
)

// TimeFormat is the layout of every time inside a digest ("2015-08-17T15:00:00Z").
const TimeFormat = "2006-01-02T15:04:05Z"

// TimeString formats t in UTC as digest times are written, at second precision.
func TimeString(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime parses a digest time written by TimeString.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(TimeFormat, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("digest: bad time %q", s)
	}
	return t, nil
}

// LogFile is one entry of a digest's logFiles: a delivered log file and the lowercase hex
// SHA-256 of its uncompressed bytes.
type LogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// Digest is a digest file's JSON document; members are in the order AWS writes them. The
// nullable members are pointers and marshal as an explicit null: a starting digest has every
// previousDigest* member null, an empty one null event times and an empty logFiles.
type Digest struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string   `json:"newestEventTime"`
	OldestEventTime             *string   `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []LogFile `json:"logFiles"`
}

// Marshal renders d as compact JSON: the exact bytes to sign, hash and gzip. logFiles is
// always an array, [] when there is none; characters such as < > & are written as they are.
func (d *Digest) Marshal() ([]byte, error) {
	c := *d
	if c.LogFiles == nil {
		c.LogFiles = []LogFile{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&c); err != nil {
		return nil, fmt.Errorf("digest: marshal: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// ErrFormat is wrapped by every Parse failure: the document is not a digest
// (validate-logs: "INVALID: invalid format").
var ErrFormat = errors.New("digest: invalid format")

// requiredMembers are the members `aws cloudtrail validate-logs` requires to be present
// (previousDigestSignature may be null), plus logFiles, which it reads without checking.
var requiredMembers = []string{"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime", "logFiles"}

// Parse decodes a digest document. Member names match exactly (not case-insensitively, as
// encoding/json would), the text must be UTF-8, and the members validate-logs needs must be
// present with the right JSON types: the six strings (previousDigestSignature may be null) and
// the logFiles array. Other members may be absent, null or unknown ones present; a member
// that is present with the wrong type is an error. Errors wrap ErrFormat.
func Parse(raw []byte) (*Digest, error) {
	if !utf8.Valid(raw) {
		return nil, fmt.Errorf("%w: not UTF-8", ErrFormat)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if m == nil {
		return nil, fmt.Errorf("%w: not a JSON object", ErrFormat)
	}
	for _, name := range requiredMembers {
		if _, ok := m[name]; !ok {
			return nil, fmt.Errorf("%w: no %s", ErrFormat, name)
		}
	}
	d := &Digest{}
	strs := []struct {
		name     string
		dst      *string
		nullable **string
	}{
		{"awsAccountId", &d.AWSAccountID, nil},
		{"digestStartTime", &d.DigestStartTime, nil},
		{"digestEndTime", &d.DigestEndTime, nil},
		{"digestS3Bucket", &d.DigestS3Bucket, nil},
		{"digestS3Object", &d.DigestS3Object, nil},
		{"digestPublicKeyFingerprint", &d.DigestPublicKeyFingerprint, nil},
		{"digestSignatureAlgorithm", &d.DigestSignatureAlgorithm, nil},
		{"newestEventTime", nil, &d.NewestEventTime},
		{"oldestEventTime", nil, &d.OldestEventTime},
		{"previousDigestS3Bucket", nil, &d.PreviousDigestS3Bucket},
		{"previousDigestS3Object", nil, &d.PreviousDigestS3Object},
		{"previousDigestHashValue", nil, &d.PreviousDigestHashValue},
		{"previousDigestHashAlgorithm", nil, &d.PreviousDigestHashAlgorithm},
		{"previousDigestSignature", nil, &d.PreviousDigestSignature},
	}
	for _, s := range strs {
		v, ok := m[s.name]
		if !ok {
			continue
		}
		var p *string
		if err := json.Unmarshal(v, &p); err != nil {
			return nil, fmt.Errorf("%w: %s is not a string", ErrFormat, s.name)
		}
		switch {
		case s.nullable != nil:
			*s.nullable = p
		case p != nil:
			*s.dst = *p
		case requiredString(s.name):
			return nil, fmt.Errorf("%w: %s is null", ErrFormat, s.name)
		}
	}
	var files []json.RawMessage
	if err := json.Unmarshal(m["logFiles"], &files); err != nil || files == nil {
		return nil, fmt.Errorf("%w: logFiles is not an array", ErrFormat)
	}
	d.LogFiles = make([]LogFile, 0, len(files))
	for i, f := range files {
		lf, err := parseLogFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w: logFiles[%d]: %v", ErrFormat, i, err)
		}
		d.LogFiles = append(d.LogFiles, lf)
	}
	return d, nil
}

func requiredString(name string) bool {
	for _, r := range requiredMembers {
		if r == name {
			return true
		}
	}
	return false
}

// parseLogFile decodes one logFiles entry; s3Bucket, s3Object and hashValue must be strings.
func parseLogFile(raw json.RawMessage) (LogFile, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return LogFile{}, errors.New("not an object")
	}
	var lf LogFile
	for _, s := range []struct {
		name     string
		dst      *string
		required bool
	}{
		{"s3Bucket", &lf.S3Bucket, true},
		{"s3Object", &lf.S3Object, true},
		{"hashValue", &lf.HashValue, true},
		{"hashAlgorithm", &lf.HashAlgorithm, false},
		{"newestEventTime", &lf.NewestEventTime, false},
		{"oldestEventTime", &lf.OldestEventTime, false},
	} {
		v, ok := m[s.name]
		if !ok {
			if s.required {
				return LogFile{}, fmt.Errorf("no %s", s.name)
			}
			continue
		}
		var p *string
		if err := json.Unmarshal(v, &p); err != nil || (p == nil && s.required) {
			return LogFile{}, fmt.Errorf("%s is not a string", s.name)
		}
		if p != nil {
			*s.dst = *p
		}
	}
	return lf, nil
}

// Hash is the lowercase hex SHA-256 of b: a log file's hashValue (of its uncompressed bytes)
// and a digest's previousDigestHashValue (of the previous digest's uncompressed JSON).
func Hash(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// StringToSign is the text a digest's signature covers: digestEndTime, digestS3Bucket "/"
// digestS3Object, the hex SHA-256 of raw (the exact uncompressed document) and
// previousDigestSignature ("null" when null), joined by "\n" with no trailing newline. The
// members are taken verbatim from d, which must be what raw decodes to.
func StringToSign(d *Digest, raw []byte) string {
	prev := "null"
	if d.PreviousDigestSignature != nil {
		prev = *d.PreviousDigestSignature
	}
	return d.DigestEndTime + "\n" + d.DigestS3Bucket + "/" + d.DigestS3Object + "\n" + Hash(raw) + "\n" + prev
}

// Sign signs the digest whose document is raw with s (an RSA key: SHA256withRSA, that is
// RSASSA-PKCS1-v1_5 over SHA-256) and returns the lowercase hex signature that goes into the
// object's signature metadata and the next digest's previousDigestSignature.
func Sign(s crypto.Signer, d *Digest, raw []byte) (string, error) {
	if _, ok := s.Public().(*rsa.PublicKey); !ok {
		return "", fmt.Errorf("digest: signing key is %T, not RSA", s.Public())
	}
	h := sha256.Sum256([]byte(StringToSign(d, raw)))
	sig, err := s.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("digest: sign: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// ErrSignature is returned by Verify when the signature does not match
// (validate-logs: "INVALID: signature verification failed").
var ErrSignature = errors.New("digest: signature verification failed")

// Verify checks hexSig (either case of hex, as the AWS CLI accepts) against the digest whose
// document is raw. It returns an error wrapping ErrSignature when they do not match.
func Verify(pub *rsa.PublicKey, d *Digest, raw []byte, hexSig string) error {
	sig, err := hex.DecodeString(hexSig)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrSignature)
	}
	h := sha256.Sum256([]byte(StringToSign(d, raw)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return ErrSignature
	}
	return nil
}

// Gzip compresses b as one gzip member, the form log files and digests are stored in.
func Gzip(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// Gunzip decompresses the first gzip member of b, as the AWS CLI does (zlib in gzip mode).
// trailing reports whether bytes follow that member; the CLI ignores them, a strict verifier
// should not.
func Gunzip(b []byte) (data []byte, trailing bool, err error) {
	br := bytes.NewReader(b)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, false, fmt.Errorf("gunzip: %w", err)
	}
	zr.Multistream(false)
	data, err = io.ReadAll(zr)
	if err != nil {
		return nil, false, fmt.Errorf("gunzip: %w", err)
	}
	return data, br.Len() > 0, nil
}

// Link points d at the digest before it in its chain: prev, whose uncompressed document is
// prevRaw and whose signature is prevSig. It sets every previousDigest* member.
func (d *Digest) Link(prev *Digest, prevRaw []byte, prevSig string) {
	bucket, object, hash, alg, sig := prev.DigestS3Bucket, prev.DigestS3Object, Hash(prevRaw), HashAlgorithm, prevSig
	d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &bucket, &object
	d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &hash, &alg, &sig
}

// Sealed is a signed digest ready to store at its DigestS3Object.
type Sealed struct {
	Raw       []byte // the uncompressed document: what the next digest's Link takes
	Body      []byte // Raw gzipped: the object body
	Signature string // lowercase hex: the next digest's previousDigestSignature
}

// Metadata is the user metadata to store the digest object with.
func (s *Sealed) Metadata() map[string]string {
	return map[string]string{MetaSignature: s.Signature, MetaSignatureAlgorithm: SignatureAlgorithm}
}

// Seal marshals, signs and gzips d. d.DigestPublicKeyFingerprint must name signer's key and
// d.DigestSignatureAlgorithm is set to SHA256withRSA when empty.
func Seal(signer crypto.Signer, d *Digest) (*Sealed, error) {
	if d.DigestSignatureAlgorithm == "" {
		d.DigestSignatureAlgorithm = SignatureAlgorithm
	}
	raw, err := d.Marshal()
	if err != nil {
		return nil, err
	}
	sig, err := Sign(signer, d, raw)
	if err != nil {
		return nil, err
	}
	return &Sealed{Raw: raw, Body: Gzip(raw), Signature: sig}, nil
}
