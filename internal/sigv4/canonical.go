package sigv4

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// The canonical request is built by appending to a caller's buffer, so that
// the hot path of Verify does not allocate: see BenchmarkVerify.

const upperhex = "0123456789ABCDEF"

// unreserved reports whether c is an RFC 3986 unreserved character
// (A-Z a-z 0-9 - . _ ~), which SigV4's UriEncode leaves as is.
func unreserved(c byte) bool {
	const (
		lo = 1<<'-' | 1<<'.' | 0x3ff<<'0'                                          // 0-63
		hi = 0x3ffffff<<('A'-64) | 1<<('_'-64) | 0x3ffffff<<('a'-64) | 1<<('~'-64) // 64-127
	)
	if c < 64 {
		return lo>>c&1 != 0
	}
	return c < 128 && hi>>(c-64)&1 != 0
}

// unreservedRun returns the length of the run of unreserved characters at
// the start of s.
func unreservedRun(s string) int {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return i
		}
	}
	return len(s)
}

func appendEscaped(b []byte, c byte) []byte {
	if unreserved(c) {
		return append(b, c)
	}
	return append(b, '%', upperhex[c>>4], upperhex[c&15])
}

// appendCanonicalRequest appends the canonical request of r without its last
// line, the payload hash, which the caller appends:
//
//	Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n
//
// normalize selects the URI path normalisation of non-S3 services (it is
// never applied to S3).
func appendCanonicalRequest(b []byte, r *http.Request, sr *Request, normalize bool) []byte {
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	b = append(b, method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, rawPath(r), sr.IsS3(), normalize)
	b = append(b, '\n')
	rawQuery := ""
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	b = appendCanonicalQuery(b, rawQuery, sr.Presigned)
	b = append(b, '\n')
	for _, name := range sr.SignedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		b = appendHeaderValue(b, r, name)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range sr.SignedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	return append(b, '\n')
}

// rawPath returns the path as the client sent it, still percent-encoded:
// the path of the request-target when the server has it, else the URL's
// escaped path.
func rawPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if r.URL == nil {
		return "/"
	}
	return r.URL.EscapedPath()
}

// appendCanonicalURI appends the canonical URI of raw, the path as sent.
//
// Non-S3 services: remove "." and ".." segments and empty segments (keeping
// a trailing slash), then URI-encode the path as sent — that is, each
// segment is encoded twice counting the client's own encoding.
//
// S3: no normalisation; each segment is decoded and encoded once, so a
// client's own encoding is kept but normalised to SigV4's.
func appendCanonicalURI(b []byte, raw string, s3, normalize bool) []byte {
	if raw == "" {
		return append(b, '/')
	}
	if s3 {
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			switch {
			case c == '/':
				b = append(b, '/')
			case c == '%' && i+2 < len(raw) && unhex(raw[i+1]) >= 0 && unhex(raw[i+2]) >= 0:
				b = appendEscaped(b, byte(unhex(raw[i+1])<<4|unhex(raw[i+2])))
				i += 2
			default:
				b = appendEscaped(b, c)
			}
		}
		return b
	}
	if !normalize {
		return appendEncodedPath(b, raw)
	}
	type span struct{ start, end int }
	var stack [32]span
	segs := stack[:0]
	for i := 0; i < len(raw); {
		j := strings.IndexByte(raw[i:], '/')
		if j < 0 {
			j = len(raw)
		} else {
			j += i
		}
		switch seg := raw[i:j]; seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, span{i, j})
		}
		i = j + 1
	}
	b = append(b, '/')
	for i, s := range segs {
		if i > 0 {
			b = append(b, '/')
		}
		b = appendEncodedPath(b, raw[s.start:s.end])
	}
	if len(segs) > 0 && raw[len(raw)-1] == '/' {
		b = append(b, '/')
	}
	return b
}

// appendEncodedPath URI-encodes s, leaving '/' alone.
func appendEncodedPath(b []byte, s string) []byte {
	for s != "" {
		n := unreservedRun(s)
		b = append(b, s[:n]...)
		if n == len(s) {
			break
		}
		if s[n] == '/' {
			b = append(b, '/')
		} else {
			b = appendEscaped(b, s[n])
		}
		s = s[n+1:]
	}
	return b
}

// appendQueryComponent decodes a raw query name or value (percent escapes,
// and '+' as a space, as in HTML forms; an invalid escape is kept
// literally) and appends its SigV4 encoding.
func appendQueryComponent(b []byte, raw string) []byte {
	for raw != "" {
		n := unreservedRun(raw)
		b = append(b, raw[:n]...)
		if n == len(raw) {
			break
		}
		c := raw[n]
		raw = raw[n+1:]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && len(raw) >= 2 && unhex(raw[0]) >= 0 && unhex(raw[1]) >= 0:
			c = byte(unhex(raw[0])<<4 | unhex(raw[1]))
			raw = raw[2:]
		}
		b = appendEscaped(b, c)
	}
	return b
}

// appendCanonicalQuery appends the canonical query string: every parameter
// decoded then re-encoded, sorted by encoded name then encoded value,
// "name=value" joined by '&'. For a presigned URL, X-Amz-Signature is left
// out.
func appendCanonicalQuery(b []byte, rawQuery string, presigned bool) []byte {
	if rawQuery == "" {
		return b
	}
	// Encode every pair into scratch, then sort spans of it.
	type pair struct{ k0, k1, v1 int } // key scratch[k0:k1], value scratch[k1:v1]
	var pairBuf [16]pair
	var scratchBuf [2048]byte
	pairs, scratch := pairBuf[:0], scratchBuf[:0]
	for rawQuery != "" {
		var kv string
		kv, rawQuery, _ = strings.Cut(rawQuery, "&")
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		k0 := len(scratch)
		scratch = appendQueryComponent(scratch, k)
		k1 := len(scratch)
		scratch = appendQueryComponent(scratch, v)
		pairs = append(pairs, pair{k0, k1, len(scratch)})
	}
	slices.SortFunc(pairs, func(a, c pair) int {
		if n := bytes.Compare(scratch[a.k0:a.k1], scratch[c.k0:c.k1]); n != 0 {
			return n
		}
		return bytes.Compare(scratch[a.k1:a.v1], scratch[c.k1:c.v1])
	})
	for i, p := range pairs {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, scratch[p.k0:p.k1]...)
		b = append(b, '=')
		b = append(b, scratch[p.k1:p.v1]...)
	}
	return b
}

// appendHeaderValue appends the canonical value of the signed header name:
// every value trimmed, runs of spaces collapsed, values joined by ','. The
// host header is r.Host; content-length and transfer-encoding, which
// net/http may move out of r.Header, fall back to r's fields.
func appendHeaderValue(b []byte, r *http.Request, name string) []byte {
	if name == "host" {
		host := r.Host
		if host == "" && r.URL != nil {
			host = r.URL.Host
		}
		return appendTrimmed(b, host)
	}
	vals := headerValues(r.Header, name)
	if vals == nil {
		switch name {
		case "content-length":
			if r.ContentLength > 0 {
				return strconv.AppendInt(b, r.ContentLength, 10)
			}
		case "transfer-encoding":
			vals = r.TransferEncoding
		}
	}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTrimmed(b, v)
	}
	return b
}

// appendTrimmed appends v without leading and trailing spaces and tabs and
// with every run of spaces collapsed to one.
func appendTrimmed(b []byte, v string) []byte {
	i, j := 0, len(v)
	for i < j && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	for j > i && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	v = v[i:j]
	for {
		k := strings.Index(v, "  ")
		if k < 0 {
			return append(b, v...)
		}
		b = append(b, v[:k+1]...)
		v = strings.TrimLeft(v[k+1:], " ")
	}
}

// headerValues returns the values of the header with the lower-case name,
// without allocating when h uses canonical keys (as net/http's server
// does).
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) <= len(buf) {
		ok := true
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !tokenByte(c) {
				ok = false
				break
			}
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
			upper = c == '-'
		}
		if ok {
			if v, found := h[string(buf[:len(name)])]; found {
				return v
			}
		}
	}
	// Non-canonical keys, set by hand rather than by net/http.
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// tokenByte reports whether c may appear in an HTTP header name (RFC 7230
// tchar); net/http canonicalises only names made of these.
func tokenByte(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return true
	}
	switch c {
	case '-', '!', '#', '$', '%', '&', '\'', '*', '+', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
