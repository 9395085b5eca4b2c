package logs

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math/big"
	"strings"
)

// Page tokens. Every token this service hands out carries a MAC (HMAC-SHA256 under the
// database's token key) over its content and over the request it continues — the operation,
// the account, the region and the parameters that select what is listed — so a token that
// was altered, forged, issued to another account, presented with other parameters or issued
// by another data directory is refused with InvalidParameterException.
//
// Describe* and FilterLogEvents tokens are base64url (no padding) of
//
//	version:1 (=1) | position | mac:16
//
// where position is what the page continues after (a name, or an event's timestamp and seq).
//
// GetLogEvents tokens look like AWS's: "f/<56 digits>/s" (forward) and "b/<56 digits>/s"
// (backward), the digits being the decimal value of the 22 bytes
//
//	timestamp:6 | seq:8 | mac:8
//
// which name a boundary between events: a forward token reads the events at or after it, a
// backward token the events before it.

const (
	pageTokenVersion = 1
	pageMACLen       = 16
	streamMACLen     = 8
	streamTokenLen   = 6 + 8 + streamMACLen
	streamDigits     = 56
	maxTokenTS       = 1<<48 - 1
)

// tokenBinding encodes the request parameters a token is bound to.
func tokenBinding(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = binary.AppendUvarint(b, uint64(len(p)))
		b = append(b, p...)
	}
	return b
}

func (s *Service) mac(domain string, n int, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(domain))
	for _, p := range parts {
		var l [binary.MaxVarintLen64]byte
		m.Write(l[:binary.PutUvarint(l[:], uint64(len(p)))])
		m.Write(p)
	}
	return m.Sum(nil)[:n]
}

// pageToken returns the token that continues after pos.
func (s *Service) pageToken(binding, pos []byte) string {
	body := append([]byte{pageTokenVersion}, pos...)
	body = append(body, s.mac("opentrail-logs-page", pageMACLen, binding, body)...)
	return base64.RawURLEncoding.EncodeToString(body)
}

// parsePageToken verifies a token against the request presenting it and returns its
// position.
func (s *Service) parsePageToken(binding []byte, tok string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	if err != nil || len(raw) < 1+pageMACLen || raw[0] != pageTokenVersion {
		return nil, errBadToken()
	}
	body, mac := raw[:len(raw)-pageMACLen], raw[len(raw)-pageMACLen:]
	if !hmac.Equal(mac, s.mac("opentrail-logs-page", pageMACLen, binding, body)) {
		return nil, errBadToken()
	}
	return body[1:], nil
}

// eventPos is a position among events: (timestamp, seq), ordered as event keys are.
type eventPos struct {
	ts  int64
	seq uint64
}

func (p eventPos) less(q eventPos) bool {
	return p.ts < q.ts || (p.ts == q.ts && p.seq < q.seq)
}

// next is the position just after p.
func (p eventPos) next() eventPos {
	if p.seq == ^uint64(0) {
		return eventPos{ts: p.ts + 1}
	}
	return eventPos{ts: p.ts, seq: p.seq + 1}
}

func clampTS(ts int64) int64 { return min(max(ts, 0), maxTokenTS) }

// streamToken encodes a GetLogEvents token: dir is 'f' or 'b'.
func (s *Service) streamToken(dir byte, binding []byte, p eventPos) string {
	raw := make([]byte, 0, streamTokenLen)
	ts := uint64(clampTS(p.ts))
	raw = append(raw, byte(ts>>40), byte(ts>>32), byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts))
	raw = binary.BigEndian.AppendUint64(raw, p.seq)
	raw = append(raw, s.mac("opentrail-logs-stream", streamMACLen, []byte{dir}, binding, raw)...)
	digits := new(big.Int).SetBytes(raw).String()
	return string(dir) + "/" + strings.Repeat("0", streamDigits-len(digits)) + digits + "/s"
}

// parseStreamToken verifies a GetLogEvents token and returns its direction and position.
func (s *Service) parseStreamToken(binding []byte, tok string) (byte, eventPos, error) {
	if len(tok) != 2+streamDigits+2 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/' || !strings.HasSuffix(tok, "/s") {
		return 0, eventPos{}, errBadToken()
	}
	dir, digits := tok[0], tok[2:2+streamDigits]
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, eventPos{}, errBadToken()
		}
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok || n.BitLen() > 8*streamTokenLen {
		return 0, eventPos{}, errBadToken()
	}
	raw := n.FillBytes(make([]byte, streamTokenLen))
	body, mac := raw[:streamTokenLen-streamMACLen], raw[streamTokenLen-streamMACLen:]
	if !hmac.Equal(mac, s.mac("opentrail-logs-stream", streamMACLen, []byte{dir}, binding, body)) {
		return 0, eventPos{}, errBadToken()
	}
	var ts uint64
	for _, c := range body[:6] {
		ts = ts<<8 | uint64(c)
	}
	return dir, eventPos{ts: int64(ts), seq: binary.BigEndian.Uint64(body[6:14])}, nil
}

// encodePos and decodePos are the position of FilterLogEvents page tokens.
func encodePos(p eventPos) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(p.ts))
	return binary.BigEndian.AppendUint64(b, p.seq)
}

func decodePos(b []byte) (eventPos, bool) {
	if len(b) != 16 {
		return eventPos{}, false
	}
	ts := int64(binary.BigEndian.Uint64(b))
	if ts < 0 {
		return eventPos{}, false
	}
	return eventPos{ts: ts, seq: binary.BigEndian.Uint64(b[8:])}, true
}
