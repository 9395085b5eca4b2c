package history

import (
	"encoding/binary"
	"math"
	"time"
)

// Key layout (see docs/history.md for the full description and the reasoning):
//
//	meta      00 <name>
//	event     01 <day:4> <len:1><account> <len:1><region> 01 <tod:4> <seq:8>  → entry value
//	insight   01 <day:4> <len:1><account> <len:1><region> 02 <tod:4> <seq:8>  → entry value
//	index     02 <kind:1> <day:4> <len:1><account> <len:1><region> <uvarint len><value> <tod:4> <seq:8> → empty
//
// day is the UTC day number (days since 1970-01-01), big-endian, so that every entry of one
// day (and every index key of one kind and day) shares a prefix and every key older than a day
// sorts before it: retention is one range deletion for the entries and one per index kind.
// Index keys are kept apart from the entries, by kind, so that tables of one flush do not
// overlap older tables of other families (see spanEnd). tod is 86399 minus the second of the day and seq is the bitwise complement of the
// journal sequence number, so that a forward scan of one day returns the newest event first.

const (
	nsMeta  byte = 0x00
	nsDay   byte = 0x01 // entries
	nsIndex byte = 0x02 // index keys

	kindEvent   byte = 0x01 // management events (the stored entry)
	kindInsight byte = 0x02 // Insights events (the stored entry)

	// Index kinds: attribute | indexMgmt or attribute | indexInsight.
	indexMgmt    byte = 0x10
	indexInsight byte = 0x20

	suffixLen   = 4 + 8
	secondsADay = 86400
	// maxDay bounds day numbers (year 9999) so that arithmetic never overflows.
	maxDay = 2932896
)

// Meta keys.
var (
	keyCursor   = []byte{nsMeta, 'c', 'u', 'r', 's', 'o', 'r'}
	keyTokenKey = []byte{nsMeta, 't', 'o', 'k', 'e', 'n', '-', 'k', 'e', 'y'}
	keyFormat   = []byte{nsMeta, 'f', 'o', 'r', 'm', 'a', 't'}
)

// formatVersion is written at keyFormat; Open refuses a directory with another version,
// except formatV1, which it rebuilds (v1 stored index keys with their day partition, among
// the entries; v2 stores them apart, by kind first).
const (
	formatVersion = "history-v2"
	formatV1      = "history-v1"
)

// pos is a position in the newest-first order of one account and region: the event time in
// whole seconds and the journal sequence number. Larger positions come first.
type pos struct {
	sec int64
	seq uint64
}

// next returns the position right after p in newest-first order, if there is one.
func (p pos) next() (pos, bool) {
	switch {
	case p.seq > 0:
		return pos{sec: p.sec, seq: p.seq - 1}, true
	case p.sec > 0:
		return pos{sec: p.sec - 1, seq: math.MaxUint64}, true
	}
	return pos{}, false
}

func dayOf(sec int64) uint32 { return uint32(sec / secondsADay) }

func dayStart(day uint32) int64 { return int64(day) * secondsADay }

// validSec reports whether an event time can be stored.
func validSec(sec int64) bool { return sec >= 0 && sec/secondsADay < maxDay }

// partition appends the day partition prefix of an account and region.
func partition(dst []byte, day uint32, acct, region string) []byte {
	dst = binary.BigEndian.AppendUint32(dst, day)
	dst = append(dst, byte(len(acct)))
	dst = append(dst, acct...)
	dst = append(dst, byte(len(region)))
	dst = append(dst, region...)
	return dst
}

// familyPrefix appends the prefix under which one kind (and, for index kinds, one value)
// of one day, account and region is stored; a key is the prefix plus a position suffix.
// Entries are stored by day first, index keys by kind first (see spanEnd).
func familyPrefix(dst []byte, day uint32, acct, region string, kind byte, value string) []byte {
	if kind < indexMgmt {
		dst = append(dst, nsDay)
		dst = partition(dst, day, acct, region)
		return append(dst, kind)
	}
	dst = append(dst, nsIndex, kind)
	dst = partition(dst, day, acct, region)
	dst = binary.AppendUvarint(dst, uint64(len(value)))
	return append(dst, value...)
}

// appendSuffix appends the position suffix; p.sec must lie in day.
func appendSuffix(dst []byte, p pos) []byte {
	tod := uint32(p.sec % secondsADay)
	dst = binary.BigEndian.AppendUint32(dst, secondsADay-1-tod)
	return binary.BigEndian.AppendUint64(dst, ^p.seq)
}

// decodeSuffix reads the position of a key of the given day.
func decodeSuffix(key []byte, day uint32) (pos, bool) {
	if len(key) < suffixLen {
		return pos{}, false
	}
	s := key[len(key)-suffixLen:]
	inv := binary.BigEndian.Uint32(s[:4])
	if inv >= secondsADay {
		return pos{}, false
	}
	return pos{sec: dayStart(day) + int64(secondsADay-1-inv), seq: ^binary.BigEndian.Uint64(s[4:])}, true
}

// dayBound is the first key of a day's entries (every account): entries of older days
// sort before it.
func dayBound(day uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{nsDay}, day)
}

// indexDayBound is the first key of a day's index keys of one kind (every account).
func indexDayBound(kind byte, day uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{nsIndex, kind}, day)
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// unixToTime converts epoch seconds to a UTC time.
func unixToTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

// clampSec converts t to whole epoch seconds within the storable range.
func clampSec(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return 0
	}
	if s > maxDay*secondsADay {
		return maxDay * secondsADay
	}
	return s
}
