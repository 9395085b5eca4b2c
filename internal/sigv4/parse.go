package sigv4

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Protocol constants.
const (
	// Algorithm is the only signing algorithm this package verifies.
	Algorithm = "AWS4-HMAC-SHA256"
	// UnsignedPayload is the payload hash of a request whose body is not
	// signed.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// MaxSkew is how far the signing time of a request may be from the
	// server's clock, in both directions.
	MaxSkew = 15 * time.Minute
	// MaxExpires is the longest validity of a presigned URL (X-Amz-Expires
	// 604800).
	MaxExpires = 7 * 24 * time.Hour
	// DefaultPresignExpires is the validity of a presigned URL without
	// X-Amz-Expires, which only S3 requires. It is what STS enforces for
	// presigned GetCallerIdentity whatever X-Amz-Expires says.
	DefaultPresignExpires = 15 * time.Minute

	terminator    = "aws4_request"
	amzTimeFormat = "20060102T150405Z"
	streaming     = "STREAMING-"
)

// Credential is the credential scope of a signature: the access key and
// AccessKeyID/Date/Region/Service/aws4_request.
type Credential struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
}

// Scope returns "Date/Region/Service/aws4_request".
func (c Credential) Scope() string {
	return c.Date + "/" + c.Region + "/" + c.Service + "/" + terminator
}

// Request is what Parse extracts from a signed request. Its strings share
// memory with the request's header and URL; Parse copies nothing it need
// not.
type Request struct {
	Credential    Credential
	SignedHeaders []string      // lower-case, in the order given
	Signature     string        // hex
	Time          time.Time     // X-Amz-Date (or Date header fallback), UTC
	Presigned     bool          // signature in the query string
	Expires       time.Duration // presigned only (X-Amz-Expires, 1..604800 s)
	// PayloadHash is x-amz-content-sha256 if present (query parameter
	// X-Amz-Content-Sha256 for a presigned URL), UNSIGNED-PAYLOAD for an S3
	// presigned URL without it, else "" meaning hash the body.
	PayloadHash   string
	SecurityToken string // X-Amz-Security-Token header or query parameter

	// presignDefaultPayload: presigned, non-S3, no explicit payload hash.
	// Verify then also accepts UNSIGNED-PAYLOAD.
	presignDefaultPayload bool
	signedBuf             [16]string
}

// IsS3 reports whether the credential scope names S3, whose canonical URI
// is neither normalised nor double encoded.
func (r *Request) IsS3() bool { return r.Credential.Service == "s3" }

// Parse extracts the signature information of r, from the Authorization
// header or, for a presigned URL, from the query string. It checks the
// form of what it extracts but not the signature nor the time: that is
// Verify. Errors are *Error.
func Parse(r *http.Request) (*Request, error) {
	rawQuery := ""
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	hasQueryAlg := queryHas(rawQuery, "X-Amz-Algorithm")
	if auth := strings.TrimSpace(firstHeader(r.Header, "Authorization")); auth != "" {
		if hasQueryAlg {
			return nil, newError(IncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "+
				"Signature query string parameter or the Authorization header should be specified")
		}
		return parseHeader(r, auth)
	}
	if hasQueryAlg {
		return parsePresigned(r, rawQuery)
	}
	return nil, newError(MissingAuthentication, msgMissingAuth)
}

func firstHeader(h http.Header, canonicalKey string) string {
	if v := h[canonicalKey]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func isSep(c byte) bool { return c == ' ' || c == ',' || c == '\t' }

func parseHeader(r *http.Request, auth string) (*Request, error) {
	i := 0
	for i < len(auth) && !isSep(auth[i]) {
		i++
	}
	alg, rest := auth[:i], auth[i:]
	amzDate := firstHeader(r.Header, "X-Amz-Date")
	date := ""
	if amzDate == "" {
		date = firstHeader(r.Header, "Date")
	}
	if alg != Algorithm {
		if strings.HasPrefix(alg, "AWS") {
			return nil, newError(UnsupportedAlgorithm, msgUnsupported)
		}
		// Not an AWS scheme at all (Basic, Bearer, a bare token): AWS
		// reports every part as missing.
		return nil, missingParts(auth, "", "", "", amzDate == "" && date == "")
	}

	var cred, signed, sig string
	for rest != "" {
		j := 0
		for j < len(rest) && isSep(rest[j]) {
			j++
		}
		rest = rest[j:]
		j = 0
		for j < len(rest) && !isSep(rest[j]) {
			j++
		}
		tok := rest[:j]
		rest = rest[j:]
		if tok == "" {
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		if !ok {
			return nil, errorf(IncompleteSignature,
				"'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", tok, auth)
		}
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	if cred == "" || signed == "" || sig == "" || (amzDate == "" && date == "") {
		return nil, missingParts(auth, cred, signed, sig, amzDate == "" && date == "")
	}

	sr := &Request{Signature: sig}
	if err := parseCredential(cred, &sr.Credential); err != nil {
		return nil, err
	}
	if err := parseSignedHeaders(signed, sr); err != nil {
		return nil, err
	}
	if amzDate != "" {
		t, ok := parseAmzTime(amzDate)
		if !ok {
			return nil, badDate(amzDate)
		}
		sr.Time = t
		if sr.Credential.Date != amzDate[:8] {
			return nil, scopeDateMismatch(sr.Credential.Date, amzDate)
		}
	} else {
		t, err := http.ParseTime(date)
		if err != nil {
			return nil, badDate(date)
		}
		sr.Time = t.UTC()
		iso := sr.Time.Format(amzTimeFormat)
		if sr.Credential.Date != iso[:8] {
			return nil, scopeDateMismatch(sr.Credential.Date, iso)
		}
	}
	sr.SecurityToken = firstHeader(r.Header, "X-Amz-Security-Token")
	if sr.SecurityToken == "" && r.URL != nil && r.URL.RawQuery != "" {
		sr.SecurityToken, _ = queryGet(r.URL.RawQuery, "X-Amz-Security-Token")
	}
	if ph, ok := r.Header["X-Amz-Content-Sha256"]; ok && len(ph) > 0 {
		sr.PayloadHash = strings.TrimSpace(ph[0])
		if !validPayloadHash(sr.PayloadHash) {
			return nil, newError(ContentSHA256Mismatch, msgContentSHABad)
		}
	}
	return sr, nil
}

// missingParts builds AWS's message for an Authorization header without
// some of its parts.
func missingParts(auth, cred, signed, sig string, noDate bool) *Error {
	var b strings.Builder
	if cred == "" {
		b.WriteString("Authorization header requires 'Credential' parameter. ")
	}
	if sig == "" {
		b.WriteString("Authorization header requires 'Signature' parameter. ")
	}
	if signed == "" {
		b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
	}
	if noDate {
		b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	b.WriteString("Authorization=")
	b.WriteString(auth)
	return newError(IncompleteSignature, b.String())
}

func badDate(s string) *Error {
	return errorf(IncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", s)
}

func scopeDateMismatch(scopeDate, iso string) *Error {
	d := iso
	if len(d) > 8 {
		d = d[:8]
	}
	return errorf(SignatureDoesNotMatch,
		"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
		scopeDate, d, iso)
}

// parseCredential splits AKID/date/region/service/aws4_request.
func parseCredential(s string, c *Credential) error {
	parts := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			parts++
		}
	}
	if parts != 4 {
		return errorf(IncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", s)
	}
	rest := s
	c.AccessKeyID, rest, _ = strings.Cut(rest, "/")
	c.Date, rest, _ = strings.Cut(rest, "/")
	c.Region, rest, _ = strings.Cut(rest, "/")
	c.Service, rest, _ = strings.Cut(rest, "/")
	if rest != terminator {
		return errorf(SignatureDoesNotMatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", rest)
	}
	return nil
}

// parseSignedHeaders fills sr.SignedHeaders from "a;b;c", lower-casing the
// names.
func parseSignedHeaders(s string, sr *Request) error {
	names := sr.signedBuf[:0]
	host := false
	for s != "" {
		var name string
		name, s, _ = strings.Cut(s, ";")
		name = lower(name)
		if name == "host" {
			host = true
		}
		names = append(names, name)
	}
	if !host {
		return newError(IncompleteSignature, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	sr.SignedHeaders = names
	return nil
}

// lower is strings.ToLower for ASCII that does not allocate when s is
// already lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func validPayloadHash(s string) bool {
	return s == UnsignedPayload || strings.HasPrefix(s, streaming) || isHex64(s)
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if unhex(s[i]) < 0 {
			return false
		}
	}
	return true
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

// parseAmzTime parses YYYYMMDD'T'HHMMSS'Z' strictly and without
// allocating.
func parseAmzTime(s string) (time.Time, bool) {
	if len(s) != 16 || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d := num(0, 4), num(4, 2), num(6, 2)
	h, mi, sec := num(9, 2), num(11, 2), num(13, 2)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if t.Day() != d { // 31 April and the like
		return time.Time{}, false
	}
	return t, true
}

// Presigned URLs.

// presignParams are the raw (still encoded) X-Amz-* parameters of a
// presigned URL, first occurrence of each.
type presignParams struct {
	alg, cred, date, expires, signed, sig, token, sha256 string
	hasExpires, hasSHA256                                bool
}

func scanPresignParams(rawQuery string) presignParams {
	var p presignParams
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if len(kv) < 6 || kv[:6] != "X-Amz-" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "X-Amz-Algorithm":
			if p.alg == "" {
				p.alg = v
			}
		case "X-Amz-Credential":
			if p.cred == "" {
				p.cred = v
			}
		case "X-Amz-Date":
			if p.date == "" {
				p.date = v
			}
		case "X-Amz-Expires":
			if !p.hasExpires {
				p.expires, p.hasExpires = v, true
			}
		case "X-Amz-SignedHeaders":
			if p.signed == "" {
				p.signed = v
			}
		case "X-Amz-Signature":
			if p.sig == "" {
				p.sig = v
			}
		case "X-Amz-Security-Token":
			if p.token == "" {
				p.token = v
			}
		case "X-Amz-Content-Sha256":
			if !p.hasSHA256 {
				p.sha256, p.hasSHA256 = v, true
			}
		}
	}
	return p
}

func parsePresigned(r *http.Request, rawQuery string) (*Request, error) {
	p := scanPresignParams(rawQuery)
	if queryUnescape(p.alg) != Algorithm {
		return nil, newError(UnsupportedAlgorithm, `X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"`)
	}
	cred, sig, signed, amzDate := queryUnescape(p.cred), queryUnescape(p.sig), queryUnescape(p.signed), queryUnescape(p.date)
	if cred == "" || sig == "" || signed == "" || amzDate == "" {
		var b strings.Builder
		for _, p := range [...]struct{ name, v string }{
			{"X-Amz-Credential", cred}, {"X-Amz-Signature", sig},
			{"X-Amz-SignedHeaders", signed}, {"X-Amz-Date", amzDate},
		} {
			if p.v == "" {
				b.WriteString("AWS query-string parameters must include '" + p.name + "'. ")
			}
		}
		b.WriteString("Re-examine the query-string parameters.")
		return nil, newError(IncompleteSignature, b.String())
	}
	sr := &Request{Signature: sig, Presigned: true}
	if err := parseCredential(cred, &sr.Credential); err != nil {
		return nil, err
	}
	if err := parseSignedHeaders(signed, sr); err != nil {
		return nil, err
	}
	t, ok := parseAmzTime(amzDate)
	if !ok {
		return nil, badDate(amzDate)
	}
	sr.Time = t
	if sr.Credential.Date != amzDate[:8] {
		return nil, scopeDateMismatch(sr.Credential.Date, amzDate)
	}
	if p.hasExpires {
		exp := queryUnescape(p.expires)
		n, err := strconv.ParseInt(exp, 10, 64)
		switch {
		case err != nil && !strings.HasPrefix(exp, "-"):
			return nil, newError(IncompleteSignature, "X-Amz-Expires should be a number")
		case err != nil || n < 0:
			return nil, newError(IncompleteSignature, "X-Amz-Expires must be non-negative")
		case n == 0:
			return nil, newError(IncompleteSignature, "X-Amz-Expires must be at least 1")
		case n > int64(MaxExpires/time.Second):
			return nil, newError(IncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		sr.Expires = time.Duration(n) * time.Second
	} else if sr.IsS3() {
		return nil, newError(IncompleteSignature, "AWS query-string parameters must include 'X-Amz-Expires'. Re-examine the query-string parameters.")
	} else {
		sr.Expires = DefaultPresignExpires
	}
	sr.SecurityToken = queryUnescape(p.token)
	if p.hasSHA256 {
		sr.PayloadHash = queryUnescape(p.sha256)
	} else if ph, ok := r.Header["X-Amz-Content-Sha256"]; ok && len(ph) > 0 {
		sr.PayloadHash = strings.TrimSpace(ph[0])
	} else if sr.IsS3() {
		sr.PayloadHash = UnsignedPayload
	} else {
		sr.presignDefaultPayload = true
	}
	if sr.PayloadHash != "" && !validPayloadHash(sr.PayloadHash) {
		return nil, newError(ContentSHA256Mismatch, msgContentSHABad)
	}
	return sr, nil
}

// queryHas reports whether the raw query has the (unencoded) key.
func queryHas(rawQuery, key string) bool {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

// queryGet returns the decoded value of the first occurrence of key in
// rawQuery. Keys are compared as sent: AWS's own parameter names need no
// encoding. It allocates only to decode a value that is encoded.
func queryGet(rawQuery, key string) (string, bool) {
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != key {
			continue
		}
		return queryUnescape(v), true
	}
	return "", false
}

// queryUnescape decodes %XX escapes and '+' (a space), keeping an invalid
// escape literally as the canonical query string does. It allocates only
// when s has something to decode.
func queryUnescape(s string) string {
	next := func(s string) int {
		for i := 0; i < len(s); i++ {
			if s[i] == '%' || s[i] == '+' {
				return i
			}
		}
		return -1
	}
	i := next(s)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		switch {
		case s[i] == '+':
			b.WriteByte(' ')
			s = s[i+1:]
		case i+2 < len(s) && unhex(s[i+1]) >= 0 && unhex(s[i+2]) >= 0:
			b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
			s = s[i+3:]
		default:
			b.WriteByte('%')
			s = s[i+1:]
		}
		i = next(s)
	}
	b.WriteString(s)
	return b.String()
}
