// Package history is OpenTrail's Event History: a 90-day index of management events that
// answers the CloudTrail LookupEvents operation.
//
// It keeps its own Pebble database (a directory given to Open). Records arrive from the
// journal through Follow, which applies them in journal order and stores, in the same atomic
// batch, the sequence number of the last record applied (Cursor): after a restart the caller
// resumes reading the journal at Cursor()+1, and because every key is derived from the record
// and its sequence number, applying a record twice writes the same keys again and never
// duplicates an event.
//
// Every entry key starts with the UTC day of the event, then the account (recipientAccountId)
// and the region (awsRegion); index keys start with their kind and then the same, so that
//
//   - a lookup by one attribute, or by time alone, is a range scan per day, newest first;
//   - retention deletes whole days with range deletions (Expire, run hourly by Run);
//   - an account only ever reads keys under its own account ID, and LookupEvents reads the
//     Event History of the region it is called in, as CloudTrail does.
//
// Each record is stored once, with the LookupEvents columns derived from it (Username,
// Resources, ...), under its event key; each attribute value it can be looked up by is a
// small, empty-valued index key that names the event key. Data events and network-activity
// events are not kept; Insights events are kept apart and returned only for
// EventCategory=insight. docs/history.md describes the layout and what is indexed.
//
// History runs two kinds of background work, both started by the caller: Follow (ingest)
// and Run (retention). Lookup may be called concurrently with both.
package history

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Defaults for Options.
const (
	// DefaultRetention is how long Event History keeps events: 90 days, as CloudTrail.
	DefaultRetention = 90 * 24 * time.Hour
	// DefaultRetentionInterval is how often Run deletes expired days.
	DefaultRetentionInterval = time.Hour
	// DefaultCacheSize is the default Pebble block cache size.
	DefaultCacheSize = 64 << 20
	// DefaultMemTableSize is the default Pebble memtable size.
	DefaultMemTableSize = 16 << 20
	// DefaultCompactionPace lets a compaction work at most half the time.
	DefaultCompactionPace = 1.0
	// DefaultBlockSize is the default Pebble data block size.
	DefaultBlockSize = 16 << 10
)

// Options configure a History. The zero value is ready to use.
type Options struct {
	// Now is the clock (default time.Now). Retention and the default time range of lookups
	// are computed from it.
	Now func() time.Time
	// Logger receives ingest and retention messages (default: discarded).
	Logger *slog.Logger
	// Retention is how long events are kept (default DefaultRetention). Events older than
	// Now()-Retention are neither indexed nor returned; whole UTC days older than that are
	// deleted by Expire.
	Retention time.Duration
	// RetentionInterval is how often Run calls Expire (default DefaultRetentionInterval).
	RetentionInterval time.Duration
	// CacheSize is the Pebble block cache size in bytes (default DefaultCacheSize).
	CacheSize int64
	// MemTableSize is the Pebble memtable size in bytes (default DefaultMemTableSize).
	MemTableSize uint64
	// CompactionPace is how long a compaction sleeps per unit of time it works (see
	// pacedFS): 0 means DefaultCompactionPace, a negative value turns pacing off.
	CompactionPace float64
	// BlockSize is the Pebble data block size in bytes (default DefaultBlockSize). Lookups
	// read one block per event they return, so smaller blocks mean less to read and
	// decompress per result; larger ones compress better.
	BlockSize int
}

// History is an open Event History. It is safe for concurrent use.
type History struct {
	db        *pebble.DB
	log       *slog.Logger
	now       func() time.Time
	retention time.Duration
	interval  time.Duration
	tokenKey  []byte

	cursor   atomic.Uint64
	inflight atomic.Int32 // lookups running
	wmu      sync.Mutex   // serialises index batches so that the cursor only moves forward
	scratch  kvList       // the keys of the batch being built; guarded by wmu
}

// Open opens (or creates) the Event History in dir.
func Open(dir string, opts Options) (*History, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.RetentionInterval <= 0 {
		opts.RetentionInterval = DefaultRetentionInterval
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.MemTableSize == 0 {
		opts.MemTableSize = DefaultMemTableSize
	}
	if opts.CompactionPace == 0 {
		opts.CompactionPace = DefaultCompactionPace
	}
	if opts.BlockSize <= 0 {
		opts.BlockSize = DefaultBlockSize
	}
	cache := pebble.NewCache(opts.CacheSize)
	po := &pebble.Options{
		FS:                          newPacedFS(vfs.Default, opts.CompactionPace),
		Cache:                       cache,
		Comparer:                    comparer,
		Logger:                      pebbleLogger{opts.Logger},
		MemTableSize:                opts.MemTableSize,
		MemTableStopWritesThreshold: 4,
		FormatMajorVersion:          pebble.FormatNewest,
		// No write-ahead log: the journal is the log. Every index batch carries the cursor
		// of the last record it indexed, and a batch lives in one memtable, so after a crash
		// the store holds a consistent prefix of the journal (what was flushed) and Follow
		// indexes the rest again from the cursor; index and entry keys are functions of the
		// record and its position, so indexing a record twice writes the same keys. What is
		// not derived from the journal (format, token key, retention's deletions) is
		// flushed when written. This halves what Event History writes to disk per record,
		// and the disk is what the journal's fsync of every call waits on.
		DisableWAL: true,
	}
	// Keys of one family share a Pebble "prefix" (see comparer), but their suffixes are
	// positions, not versions: keep every value inline. And no table holds both entries
	// and index keys (see spanEnd).
	po.Experimental.SpanPolicyFunc = func(start []byte) (pebble.SpanPolicy, []byte, error) {
		return pebble.SpanPolicy{DisableValueSeparationBySuffix: true}, spanEnd(start), nil
	}
	po.Levels[0].BlockSize = opts.BlockSize
	po.Levels[0].IndexBlockSize = 256 << 10
	po.Levels[0].FilterPolicy = bloom.FilterPolicy(10)
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	db, err := pebble.Open(dir, po)
	if err == nil && isFormat(db, formatV1) {
		// The index of an older format is rebuilt from the journal: start empty, with cursor
		// 0. (NextTokens issued before do not verify with the new token key.)
		opts.Logger.Warn("history: rebuilding Event History from the journal: the index format changed", "dir", dir, "old", formatV1, "new", formatVersion)
		err = db.Close()
		if err == nil {
			err = os.RemoveAll(dir)
		}
		if err == nil {
			db, err = pebble.Open(dir, po)
		}
	}
	cache.Unref() // the DB holds its own reference
	if err != nil {
		return nil, fmt.Errorf("history: open %s: %w", dir, err)
	}
	h := &History{
		db:        db,
		log:       opts.Logger,
		now:       opts.Now,
		retention: opts.Retention,
		interval:  opts.RetentionInterval,
	}
	if err := h.loadMeta(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return h, nil
}

// loadMeta checks the format, loads the cursor and loads (or creates) the token key.
func (h *History) loadMeta() error {
	format, err := h.get(keyFormat)
	if err != nil {
		return err
	}
	switch {
	case format == nil:
		// A new directory: write the format and a fresh token key, durably.
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("history: token key: %w", err)
		}
		b := h.db.NewBatch()
		_ = b.Set(keyFormat, []byte(formatVersion), nil)
		_ = b.Set(keyTokenKey, key, nil)
		if err := b.Commit(pebble.NoSync); err != nil {
			return fmt.Errorf("history: initialise: %w", err)
		}
		if err := h.db.Flush(); err != nil { // no WAL: make it durable now
			return fmt.Errorf("history: initialise: %w", err)
		}
		h.tokenKey = key
		return nil
	case string(format) != formatVersion:
		return fmt.Errorf("history: unsupported format %q (want %q)", format, formatVersion)
	}
	key, err := h.get(keyTokenKey)
	if err != nil {
		return err
	}
	if len(key) != 32 {
		return errors.New("history: token key missing or damaged")
	}
	h.tokenKey = key
	cur, err := h.get(keyCursor)
	if err != nil {
		return err
	}
	if cur != nil {
		if len(cur) != 8 {
			return errors.New("history: cursor damaged")
		}
		h.cursor.Store(binary.BigEndian.Uint64(cur))
	}
	return nil
}

// isFormat reports whether db holds an index of the given format.
func isFormat(db *pebble.DB, format string) bool {
	v, closer, err := db.Get(keyFormat)
	if err != nil {
		return false
	}
	defer closer.Close()
	return string(v) == format
}

// get returns a copy of key's value, or nil when it is absent.
func (h *History) get(key []byte) ([]byte, error) {
	v, closer, err := h.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("history: read %q: %w", key, err)
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

// Cursor returns the sequence number of the last journal record applied (0 if none). A
// consumer resumes the journal at Cursor()+1.
func (h *History) Cursor() uint64 { return h.cursor.Load() }

// DurableCursor flushes the index and returns a cursor that survives a crash: every record
// up to it is on disk. (Cursor may be ahead of what a crash keeps: the store has no WAL.)
// The journal must keep the records after it.
func (h *History) DurableCursor() (uint64, error) {
	c := h.Cursor()
	if err := h.db.Flush(); err != nil {
		return 0, fmt.Errorf("history: flush: %w", err)
	}
	return c, nil
}

// Close flushes and closes the database. Follow, Run and Lookup must have returned.
func (h *History) Close() error {
	// Without a WAL, the memtable is lost at close unless flushed; flushing saves indexing
	// it again from the journal at the next start.
	ferr := h.db.Flush()
	if err := errors.Join(ferr, h.db.Close()); err != nil {
		return fmt.Errorf("history: close: %w", err)
	}
	return nil
}

// Metrics returns the Pebble metrics of the store (block cache hits, levels, sizes), for
// diagnostics and benchmarks.
func (h *History) Metrics() *pebble.Metrics { return h.db.Metrics() }

// Flush writes the memtable to disk. Tests and benchmarks use it; the server never needs to:
// Close flushes.
func (h *History) Flush() error { return h.db.Flush() }

// Compact compacts the whole key space. Benchmarks use it to measure a settled store.
func (h *History) Compact(ctx context.Context) error {
	return h.db.Compact(ctx, []byte{nsMeta}, []byte{nsIndex + 1}, true)
}

// pebbleLogger routes Pebble's messages to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "history-pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "history-pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "history-pebble")
	panic(msg)
}

// spanEnd tells Pebble where the table holding start must end, so that no table mixes
// entries with index keys, or index keys of two kinds. Every record adds keys to one entry
// family and several index families of its partition, each at its newest end; in one key
// range, a flushed table would span from the entries to the last index family, overlapping
// (and making compactions rewrite) every older table of the partition in between. Apart,
// the entries of a flush sort before all older entries of their partition, and an index
// table overlaps only tables of its own kind. The metadata (the cursor, rewritten by every
// batch) has a span of its own too: sharing one with the entries, every flush overlapped the
// table holding the newest entries, and compactions rewrote it again and again.
func spanEnd(start []byte) []byte {
	if len(start) == 0 || start[0] < nsDay {
		return []byte{nsDay}
	}
	if len(start) >= 2 && start[0] == nsIndex {
		if start[1] == 0xff {
			return nil
		}
		return []byte{nsIndex, start[1] + 1}
	}
	if len(start) > 0 && start[0] > nsIndex {
		return nil
	}
	return []byte{nsIndex}
}
