package logs

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"

	"github.com/cockroachdb/pebble/v2"
)

// The logs database is a Pebble database of its own (Options.Dir). Every key starts with a
// family byte; names are encoded with encodeName, which keeps byte order and makes a name's
// encoding a prefix of the encodings of every name it is a prefix of, so that one account's
// groups, one group's streams and one stream's events are each one contiguous key range.
//
//	famMeta       | "format"                          → formatVersion
//	famMeta       | "tokenkey"                        → 32 random bytes (HMAC key of page tokens)
//	famMeta       | "seq"                             → stats merge operand; Last = last event seq
//	famGroup      | acct | region | group             → groupRecord (JSON)
//	famStream     | acct | region | group | stream    → streamRecord (JSON)
//	famStreamStat | acct | region | group | stream    → stats (merge operands)
//	famGroupStat  | acct | region | group             → stats (merge operands; Bytes only)
//	famFilter     | acct | region | group | filter    → filterRecord (JSON)
//	famEvent      | acct | region | group | stream | ts:8 | seq:8 → ingestion:8 | message
//
// ts is the event timestamp in epoch milliseconds and seq a number unique to the event,
// increasing in ingestion order, so a stream's events are ordered by (timestamp, ingestion).
// Statistics are Pebble merge operands (min/max/sum, see stats), so puts to different
// streams of one group never contend on a read-modify-write.
const (
	famMeta       byte = 0x01
	famGroup      byte = 0x02
	famStream     byte = 0x03
	famStreamStat byte = 0x04
	famGroupStat  byte = 0x05
	famFilter     byte = 0x06
	famEvent      byte = 0x07
)

const formatVersion = "opentrail-logs-1"

var (
	keyFormat   = []byte{famMeta, 'f', 'o', 'r', 'm', 'a', 't'}
	keyTokenKey = []byte{famMeta, 't', 'o', 'k', 'e', 'n', 'k', 'e', 'y'}
	keySeq      = []byte{famMeta, 's', 'e', 'q'}
)

// encodeName appends s so that byte order is kept and no encoding is a prefix of another:
// 0x00 is escaped as 0x00 0xff and the name ends with 0x00 0x01.
func encodeName(b []byte, s string) []byte {
	b = appendEscaped(b, s)
	return append(b, 0x00, 0x01)
}

// appendEscaped appends s escaped as encodeName does, without the terminator: the key prefix
// shared by every name that starts with s.
func appendEscaped(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			b = append(b, 0x00, 0xff)
			continue
		}
		b = append(b, s[i])
	}
	return b
}

// decodeName reads one encoded name from the front of b and returns it and the rest of b.
func decodeName(b []byte) (string, []byte, bool) {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] != 0 {
			continue
		}
		if i+1 >= len(b) {
			return "", nil, false
		}
		switch b[i+1] {
		case 0x01:
			out = append(out, b[:i]...)
			return string(out), b[i+2:], true
		case 0xff:
			out = append(out, b[:i+1]...)
			b = b[i+2:]
			i = -1
		default:
			return "", nil, false
		}
	}
	return "", nil, false
}

func groupKey(fam byte, acct, region, group string) []byte {
	b := make([]byte, 0, 1+len(acct)+len(region)+len(group)+6)
	b = append(b, fam)
	b = encodeName(b, acct)
	b = encodeName(b, region)
	return encodeName(b, group)
}

// regionPrefix is the prefix of every key of a family in one account and region.
func regionPrefix(fam byte, acct, region string) []byte {
	b := append([]byte{fam}, encodeName(nil, acct)...)
	return encodeName(b, region)
}

func streamKey(fam byte, acct, region, group, stream string) []byte {
	return encodeName(groupKey(fam, acct, region, group), stream)
}

// eventKey is the key of one event; eventBound (seq 0) is the first key at or after ts.
func eventKey(streamPrefix []byte, ts int64, seq uint64) []byte {
	b := make([]byte, 0, len(streamPrefix)+16)
	b = append(b, streamPrefix...)
	b = binary.BigEndian.AppendUint64(b, uint64(ts))
	return binary.BigEndian.AppendUint64(b, seq)
}

// splitEventKey returns the timestamp and seq at the end of an event key.
func splitEventKey(k []byte) (ts int64, seq uint64, ok bool) {
	if len(k) < 16 {
		return 0, 0, false
	}
	t := k[len(k)-16:]
	return int64(binary.BigEndian.Uint64(t[:8])), binary.BigEndian.Uint64(t[8:]), true
}

// prefixEnd is the first key after every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// stats is the value of the statistics keys: a Pebble merge operand that combines with
// others by min (First), max (Last, LastIngestion) and sum (Bytes, Count). Retention adds
// negative Bytes and Count.
type stats struct {
	First, Last, LastIngestion int64
	Bytes, Count               int64
}

const statsLen = 40

var noStats = stats{First: math.MaxInt64, Last: math.MinInt64, LastIngestion: math.MinInt64}

func (s stats) encode() []byte {
	b := make([]byte, 0, statsLen)
	for _, v := range []int64{s.First, s.Last, s.LastIngestion, s.Bytes, s.Count} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func decodeStats(b []byte) (stats, error) {
	if len(b) != statsLen {
		return stats{}, fmt.Errorf("logs: statistics value of %d bytes", len(b))
	}
	v := func(i int) int64 { return int64(binary.BigEndian.Uint64(b[i*8:])) }
	return stats{First: v(0), Last: v(1), LastIngestion: v(2), Bytes: v(3), Count: v(4)}, nil
}

func (s *stats) add(o stats) {
	s.First = min(s.First, o.First)
	s.Last = max(s.Last, o.Last)
	s.LastIngestion = max(s.LastIngestion, o.LastIngestion)
	s.Bytes += o.Bytes
	s.Count += o.Count
}

// statsMerger combines stats operands; the operation is commutative, so newer and older
// operands are treated alike.
type statsMerger struct {
	s stats
}

func (m *statsMerger) MergeNewer(v []byte) error { return m.merge(v) }
func (m *statsMerger) MergeOlder(v []byte) error { return m.merge(v) }

func (m *statsMerger) merge(v []byte) error {
	o, err := decodeStats(v)
	if err != nil {
		return err
	}
	m.s.add(o)
	return nil
}

func (m *statsMerger) Finish(bool) ([]byte, io.Closer, error) { return m.s.encode(), nil, nil }

var statsMergerDef = &pebble.Merger{
	Name: "opentrail.logs.stats.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := &statsMerger{s: noStats}
		if err := m.merge(value); err != nil {
			return nil, err
		}
		return m, nil
	},
}

// openDB opens (or creates) the database and returns its token key and the last event seq.
func openDB(dir string, logger *slog.Logger) (*pebble.DB, []byte, uint64, error) {
	cache := pebble.NewCache(32 << 20)
	defer cache.Unref()
	db, err := pebble.Open(dir, &pebble.Options{
		Cache:              cache,
		Merger:             statsMergerDef,
		Logger:             pebbleLogger{logger},
		FormatMajorVersion: pebble.FormatNewest,
	})
	if err != nil {
		return nil, nil, 0, fmt.Errorf("logs: open %s: %w", dir, err)
	}
	key, seq, err := loadMeta(db)
	if err != nil {
		_ = db.Close()
		return nil, nil, 0, err
	}
	return db, key, seq, nil
}

func loadMeta(db *pebble.DB) ([]byte, uint64, error) {
	format, err := getRaw(db, keyFormat)
	if err != nil {
		return nil, 0, err
	}
	if format == nil {
		key := newTokenKey()
		b := db.NewBatch()
		_ = b.Set(keyFormat, []byte(formatVersion), nil)
		_ = b.Set(keyTokenKey, key, nil)
		if err := b.Commit(pebble.Sync); err != nil {
			return nil, 0, fmt.Errorf("logs: initialise: %w", err)
		}
		return key, 0, nil
	}
	if string(format) != formatVersion {
		return nil, 0, fmt.Errorf("logs: unsupported format %q (want %q)", format, formatVersion)
	}
	key, err := getRaw(db, keyTokenKey)
	if err != nil {
		return nil, 0, err
	}
	if len(key) != tokenKeyLen {
		return nil, 0, errors.New("logs: token key missing or damaged")
	}
	raw, err := getRaw(db, keySeq)
	if err != nil || raw == nil {
		return key, 0, err
	}
	st, err := decodeStats(raw)
	if err != nil {
		return nil, 0, err
	}
	return key, uint64(max(st.Last, 0)), nil
}

// getRaw returns a copy of key's value, or nil when it is absent.
func getRaw(db *pebble.DB, key []byte) ([]byte, error) {
	v, closer, err := db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("logs: read: %w", err)
	}
	defer closer.Close()
	return bytes.Clone(v), nil
}

// getJSON reads key into v; found is false when the key is absent.
func getJSON(db *pebble.DB, key []byte, v any) (bool, error) {
	raw, err := getRaw(db, key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("logs: decode %x: %w", key, err)
	}
	return true, nil
}

func getStats(db *pebble.DB, key []byte) (stats, error) {
	raw, err := getRaw(db, key)
	if err != nil || raw == nil {
		return noStats, err
	}
	return decodeStats(raw)
}

func setJSON(b *pebble.Batch, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("logs: encode: %w", err)
	}
	return b.Set(key, raw, nil)
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble-logs")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble-logs")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble-logs")
	panic(msg)
}
