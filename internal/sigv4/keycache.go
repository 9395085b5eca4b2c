package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// DefaultKeyCacheSize is the size of a KeyCache made with a size <= 0.
const DefaultKeyCacheSize = 4096

// KeyCache caches derived signing keys, keyed by secret, date, region and
// service, so that the four HMAC derivations are done once per key and day
// rather than once per request. It is safe for concurrent use.
//
// It keeps at most size entries, in two generations of size/2: when the
// current generation is full it becomes the old one and the previous old
// one is dropped; a hit in the old generation moves the entry to the
// current one. This is a cheap approximation of LRU with no per-hit
// writes. Keys for yesterday's date age out on their own.
//
// A nil *KeyCache is valid and caches nothing.
type KeyCache struct {
	mu       sync.RWMutex
	cur, old map[cacheKey][32]byte
	gen      int // entries per generation
}

type cacheKey struct{ secret, date, region, service string }

// NewKeyCache returns a cache of at most size signing keys (about 150 bytes
// each with their map keys, plus the secret and scope strings).
func NewKeyCache(size int) *KeyCache {
	if size <= 0 {
		size = DefaultKeyCacheSize
	}
	gen := max(size/2, 1)
	return &KeyCache{cur: make(map[cacheKey][32]byte, gen), gen: gen}
}

// Len returns the number of cached keys.
func (c *KeyCache) Len() int {
	if c == nil {
		return 0
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.cur) + len(c.old)
}

// SigningKey returns the SigV4 signing key of secret for the credential
// scope: HMAC chain "AWS4"+secret → date → region → service → aws4_request.
func (c *KeyCache) SigningKey(secret string, cred Credential) [32]byte {
	if c == nil {
		return deriveSigningKey(secret, cred)
	}
	k := cacheKey{secret, cred.Date, cred.Region, cred.Service}
	c.mu.RLock()
	key, ok := c.cur[k]
	inOld := false
	if !ok {
		key, inOld = c.old[k]
	}
	c.mu.RUnlock()
	if ok {
		return key
	}
	if !inOld {
		key = deriveSigningKey(secret, cred)
	}
	// Copy the strings: they point into a request's header.
	k = cacheKey{strings.Clone(secret), strings.Clone(cred.Date), strings.Clone(cred.Region), strings.Clone(cred.Service)}
	c.mu.Lock()
	if len(c.cur) >= c.gen {
		c.old, c.cur = c.cur, make(map[cacheKey][32]byte, c.gen)
	}
	c.cur[k] = key
	c.mu.Unlock()
	return key
}

func deriveSigningKey(secret string, cred Credential) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), cred.Date)
	k = hmacSHA256(k, cred.Region)
	k = hmacSHA256(k, cred.Service)
	k = hmacSHA256(k, terminator)
	return [32]byte(k)
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

// signSum returns HMAC-SHA256(key, msg) where buf[:64] is free space and
// msg is buf[64:]. It is HMAC written out (RFC 2104) for a 32-byte key, so
// that the per-request HMAC does not allocate as crypto/hmac does.
func signSum(key *[32]byte, buf []byte) [32]byte {
	for i := range 64 {
		var k byte
		if i < 32 {
			k = key[i]
		}
		buf[i] = k ^ 0x36
	}
	inner := sha256.Sum256(buf)
	var outer [64 + 32]byte
	for i := range 64 {
		var k byte
		if i < 32 {
			k = key[i]
		}
		outer[i] = k ^ 0x5c
	}
	copy(outer[64:], inner[:])
	return sha256.Sum256(outer[:])
}
