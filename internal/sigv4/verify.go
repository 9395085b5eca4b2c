package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// Verify checks the signature of r (as parsed into sr) with the secret key,
// where body is the full request body (already read; may be nil when the
// payload hash is UNSIGNED-PAYLOAD or STREAMING-*). now is the server's
// clock. It derives the signing key on every call; a server should use
// (*KeyCache).Verify. Errors are *Error.
func Verify(r *http.Request, sr *Request, secret string, body []byte, now time.Time) error {
	var c *KeyCache
	return c.Verify(r, sr, secret, body, now)
}

// Verify is the package-level Verify with the signing key taken from the
// cache. It does not allocate when the request is valid and its signing key
// is cached (a failure allocates its *Error).
//
// It checks, in order: the signing time against now (MaxSkew; for a
// presigned URL, X-Amz-Date+Expires), the signature, in constant time, and
// a hex x-amz-content-sha256 against the body.
//
// Beyond the canonical request AWS specifies, it accepts two others that
// some real signers produce, and only when the first does not match: the
// URI path without normalisation (aws-sdk-go-v2 signs the path as is), and,
// for a presigned non-S3 request without a payload hash, UNSIGNED-PAYLOAD.
func (c *KeyCache) Verify(r *http.Request, sr *Request, secret string, body []byte, now time.Time) error {
	if err := checkTime(sr, now); err != nil {
		return err
	}

	var phBuf [64]byte
	ph := sr.PayloadHash
	checkBody := false
	switch {
	case ph == "":
		sum := sha256.Sum256(body)
		hex.Encode(phBuf[:], sum[:])
	case ph == UnsignedPayload || strings.HasPrefix(ph, streaming):
	case isHex64(ph):
		checkBody = true
	default:
		return newError(ContentSHA256Mismatch, msgContentSHABad)
	}
	var want [32]byte
	sigOK := decodeSignature(sr.Signature, &want)
	key := c.SigningKey(secret, sr.Credential)

	// Room for a canonical request with a long session token; a larger one
	// grows onto the heap.
	var creqBuf [4096]byte
	var stsBuf [64 + 256]byte
	creq := appendCanonicalRequest(creqBuf[:0], r, sr, true)
	if ph == "" {
		creq = append(creq, phBuf[:]...)
	} else {
		creq = append(creq, ph...)
	}
	sts := appendStringToSign(stsBuf[:64], sr, creq)
	got := signSum(&key, sts)
	match := subtle.ConstantTimeCompare(got[:], want[:]) == 1
	if !match {
		match = tryAlternatives(r, sr, &key, &want, ph, phBuf[:], len(creq))
	}
	if !match || !sigOK {
		return &Error{
			Kind:             SignatureDoesNotMatch,
			Message:          msgMismatch,
			CanonicalRequest: string(creq),
			StringToSign:     string(sts[64:]),
		}
	}
	if checkBody {
		sum := sha256.Sum256(body)
		var sent [32]byte
		for i := range sent {
			sent[i] = byte(unhex(ph[2*i])<<4 | unhex(ph[2*i+1]))
		}
		if sent != sum {
			return newError(ContentSHA256Mismatch, msgContentSHA)
		}
	}
	return nil
}

// tryAlternatives tries the canonical requests AWS does not specify but
// real signers produce (see Verify), only after the first one failed.
func tryAlternatives(r *http.Request, sr *Request, key, want *[32]byte, ph string, computed []byte, size int) bool {
	pathDiffers := false
	if !sr.IsS3() {
		raw := rawPath(r)
		pathDiffers = string(appendCanonicalURI(nil, raw, false, true)) != string(appendCanonicalURI(nil, raw, false, false))
	}
	buf := make([]byte, 0, size+64)
	var sts [64 + 256]byte
	for _, alt := range [...]struct {
		normalize bool
		payload   string
	}{{false, ph}, {true, UnsignedPayload}, {false, UnsignedPayload}} {
		if !alt.normalize && !pathDiffers || alt.payload == UnsignedPayload && !sr.presignDefaultPayload {
			continue
		}
		b := appendCanonicalRequest(buf[:0], r, sr, alt.normalize)
		if alt.payload == "" {
			b = append(b, computed...)
		} else {
			b = append(b, alt.payload...)
		}
		got := signSum(key, appendStringToSign(sts[:64], sr, b))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return true
		}
	}
	return false
}

// appendStringToSign appends the string to sign of the canonical request
// creq to b:
//
//	AWS4-HMAC-SHA256 \n YYYYMMDDTHHMMSSZ \n scope \n hex(sha256(creq))
func appendStringToSign(b []byte, sr *Request, creq []byte) []byte {
	sum := sha256.Sum256(creq)
	b = append(b, Algorithm...)
	b = append(b, '\n')
	b = sr.Time.UTC().AppendFormat(b, amzTimeFormat)
	b = append(b, '\n')
	b = append(b, sr.Credential.Date...)
	b = append(b, '/')
	b = append(b, sr.Credential.Region...)
	b = append(b, '/')
	b = append(b, sr.Credential.Service...)
	b = append(b, "/"+terminator+"\n"...)
	var h [64]byte
	hex.Encode(h[:], sum[:])
	return append(b, h[:]...)
}

// decodeSignature decodes a signature of 64 lower-case hex digits, the only
// form SigV4 signers produce.
func decodeSignature(s string, dst *[32]byte) bool {
	if len(s) != 64 {
		return false
	}
	ok := true
	for i := range dst {
		hi, lo := s[2*i], s[2*i+1]
		if hi >= 'A' && hi <= 'F' || lo >= 'A' && lo <= 'F' {
			ok = false
		}
		h, l := unhex(hi), unhex(lo)
		if h < 0 || l < 0 {
			return false
		}
		dst[i] = byte(h<<4 | l)
	}
	return ok
}

// checkTime applies the 15-minute skew to the header form, and the
// [X-Amz-Date-15min, X-Amz-Date+Expires] window to presigned URLs.
func checkTime(sr *Request, now time.Time) error {
	t := sr.Time
	if late := now.Add(MaxSkew); t.After(late) {
		return &Error{
			Kind: Expired,
			Message: "Signature not yet current: " + amzTime(t) + " is still later than " + amzTime(late) +
				" (" + amzTime(now) + " + 15 min.)",
			RequestTime: t, ServerTime: now,
		}
	}
	if sr.Presigned {
		if exp := t.Add(sr.Expires); now.After(exp) {
			return &Error{Kind: Expired, Message: msgPresignExpired, RequestTime: t, ServerTime: now, ExpiresAt: exp}
		}
		return nil
	}
	if early := now.Add(-MaxSkew); t.Before(early) {
		return &Error{
			Kind: Expired,
			Message: "Signature expired: " + amzTime(t) + " is now earlier than " + amzTime(early) +
				" (" + amzTime(now) + " - 15 min.)",
			RequestTime: t, ServerTime: now,
		}
	}
	return nil
}

func amzTime(t time.Time) string { return t.UTC().Format(amzTimeFormat) }

// CheckScope checks the credential scope against the region and the
// service (signing name) the server answers for; an empty argument is not
// checked. The errors are AWS's, of kind SignatureDoesNotMatch.
func (r *Request) CheckScope(region, service string) error {
	if region != "" && r.Credential.Region != region {
		return errorf(SignatureDoesNotMatch, "Credential should be scoped to a valid region, not '%s'. ", r.Credential.Region)
	}
	if service != "" && r.Credential.Service != service {
		return errorf(SignatureDoesNotMatch, "Credential should be scoped to correct service: '%s'. ", service)
	}
	return nil
}
