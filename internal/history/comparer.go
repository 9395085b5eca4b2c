package history

import (
	"bytes"
	"encoding/binary"

	"github.com/cockroachdb/pebble/v2"
)

// comparer orders keys bytewise, like Pebble's default, but tells Pebble where the position
// suffix (tod, seq) of a key starts: a key's "prefix" is its family (day, account, region,
// kind and, for index keys, the value). Pebble builds its bloom filters over these prefixes,
// so a lookup seeks each day with SeekPrefixGE and skips, without reading data blocks, every
// table that holds no key of the family — which is what keeps lookups of rare values (an
// EventId, a user seen on few days) cheap across 90 day partitions.
//
// Bytewise order and prefix-then-suffix order agree because family prefixes are prefix-free
// (every variable part is length-prefixed). Separator and Successor return their input
// unchanged so that Pebble never stores a synthetic key whose split would be meaningless.
var comparer = func() *pebble.Comparer {
	c := *pebble.DefaultComparer
	c.Name = "opentrail.history.v1"
	c.Compare = bytes.Compare
	c.Split = splitKey
	c.Separator = func(dst, a, _ []byte) []byte { return append(dst, a...) }
	c.Successor = func(dst, a []byte) []byte { return append(dst, a...) }
	return &c
}()

// splitKey returns the length of a key's family prefix when the key is a family prefix
// followed by a position suffix, and the whole length for any other key.
func splitKey(k []byte) int {
	n := familyLen(k)
	if n < 0 || len(k) != n+suffixLen {
		return len(k)
	}
	return n
}

// familyLen parses the family prefix at the start of k and returns its length, or -1.
func familyLen(k []byte) int {
	if len(k) < 6 {
		return -1
	}
	var i int
	switch k[0] {
	case nsDay:
		i = 5
	case nsIndex:
		if k[1] < indexMgmt {
			return -1
		}
		i = 6
	default:
		return -1
	}
	if i >= len(k) {
		return -1
	}
	i += 1 + int(k[i]) // account
	if i >= len(k) {
		return -1
	}
	i += 1 + int(k[i]) // region
	if k[0] == nsDay {
		if i >= len(k) || k[i] >= indexMgmt {
			return -1
		}
		return i + 1 // kind
	}
	if i > len(k) {
		return -1
	}
	vl, n := binary.Uvarint(k[i:])
	if n <= 0 || vl > uint64(len(k)-i-n) {
		return -1
	}
	return i + n + int(vl)
}
