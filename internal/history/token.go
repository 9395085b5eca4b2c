package history

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// A NextToken is base64url (no padding) of
//
//	version:1 (=1) | sec:8 | seq:8 | mac:16
//
// where (sec, seq) is the position of the last event returned, and mac is the first 16 bytes
// of HMAC-SHA256 under the directory's token key over "opentrail-history-token" | version |
// sec | seq | binding. The binding (the account, region, attribute, time range as given, and
// category) is not in the token: a token presented with other parameters, by another
// account, to another History directory, or altered in any way fails the MAC check.

const (
	tokenVersion = 1
	tokenMACLen  = 16
	tokenLen     = 1 + 8 + 8 + tokenMACLen
	tokenDomain  = "opentrail-history-token"
)

func (h *History) tokenMAC(body, binding []byte) []byte {
	m := hmac.New(sha256.New, h.tokenKey)
	m.Write([]byte(tokenDomain))
	m.Write(body)
	m.Write(binding)
	return m.Sum(nil)[:tokenMACLen]
}

// encodeToken returns the token that continues after position p.
func (h *History) encodeToken(p pos, binding []byte) string {
	body := make([]byte, 0, tokenLen)
	body = append(body, tokenVersion)
	body = binary.BigEndian.AppendUint64(body, uint64(p.sec))
	body = binary.BigEndian.AppendUint64(body, p.seq)
	body = append(body, h.tokenMAC(body, binding)...)
	return base64.RawURLEncoding.EncodeToString(body)
}

// decodeToken verifies a token against the binding of the request presenting it and returns
// the position it continues after. Every failure is the same InvalidNextTokenException.
func (h *History) decodeToken(tok string, binding []byte) (pos, error) {
	if len(tok) != base64.RawURLEncoding.EncodedLen(tokenLen) {
		return pos{}, errInvalidToken
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) != tokenLen || raw[0] != tokenVersion {
		return pos{}, errInvalidToken
	}
	body, mac := raw[:tokenLen-tokenMACLen], raw[tokenLen-tokenMACLen:]
	if !hmac.Equal(mac, h.tokenMAC(body, binding)) {
		return pos{}, errInvalidToken
	}
	p := pos{sec: int64(binary.BigEndian.Uint64(body[1:9])), seq: binary.BigEndian.Uint64(body[9:17])}
	if !validSec(p.sec) {
		return pos{}, errInvalidToken
	}
	return p, nil
}
