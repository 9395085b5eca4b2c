package history

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Source is where Follow reads records from: the journal, adapted by the caller. Next returns
// the next record in sequence order, waiting for one to be committed; it must return promptly
// with ctx's error once ctx is done. The payload is owned by History after Next returns.
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

// yieldEvery is how many records IndexBatch parses between yields to other goroutines.
const yieldEvery = 256

// Record is one journal record given to IndexBatch.
type Record struct {
	Seq     uint64
	Payload []byte // the CloudTrail record JSON
}

// Limits of one Follow batch (one Pebble commit), and how many records the reader may have
// read ahead of the indexer. Batches are kept small enough that one commit (which cannot
// yield to other goroutines) takes a few milliseconds at most.
const (
	followMaxRecords = 1024
	// followLinger is how long a batch waits for more records after its first one. Fewer,
	// larger batches cost less per record (one Pebble commit, one sort, fewer wakeups), and
	// a record is still visible to Lookup within about this long of its append.
	followLinger    = 10 * time.Millisecond
	followMaxBytes  = 16 << 20
	followReadAhead = 512
)

// Follow applies the records of src to the index until ctx is done or src fails, and
// returns ctx's error or src's error. Records are applied in batches: a batch takes the
// records that arrive within followLinger of its first one (or until it is full), so a busy
// journal is indexed with few commits and a record is visible to Lookup about followLinger
// after its append. Records with a sequence number at or
// below Cursor() are skipped, so the caller may start src anywhere at or before Cursor()+1.
// Malformed records are logged and skipped. A failed write is retried until it succeeds or
// ctx ends.
func (h *History) Follow(ctx context.Context, src Source) error {
	type item struct {
		rec Record
		err error
	}
	rctx, cancel := context.WithCancel(ctx)
	ch := make(chan item, followReadAhead)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(ch)
		for {
			seq, payload, err := src.Next(rctx)
			select {
			case ch <- item{Record{seq, payload}, err}:
			case <-rctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		cancel()
		<-done
	}()

	var batch []Record
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	for {
		batch = batch[:0]
		var srcErr error
		select {
		case it, ok := <-ch:
			if !ok {
				return ctx.Err()
			}
			if it.err != nil {
				srcErr = it.err
			} else {
				batch = append(batch, it.rec)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
		size := 0
		if len(batch) > 0 {
			size = len(batch[0].Payload)
		}
		linger.Reset(followLinger)
	drain:
		for srcErr == nil && len(batch) < followMaxRecords && size < followMaxBytes {
			select {
			case it, ok := <-ch:
				if !ok {
					break drain
				}
				if it.err != nil {
					srcErr = it.err
					break drain
				}
				batch = append(batch, it.rec)
				size += len(it.rec.Payload)
			case <-linger.C:
				break drain
			case <-ctx.Done():
				break drain
			}
		}
		linger.Stop()
		if err := h.applyFollowed(ctx, batch); err != nil {
			return err
		}
		if srcErr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("history: read journal: %w", srcErr)
		}
	}
}

// applyFollowed indexes the records of batch newer than the cursor, retrying failed writes.
func (h *History) applyFollowed(ctx context.Context, batch []Record) error {
	cur := h.Cursor()
	fresh := batch[:0:0]
	for _, r := range batch {
		if r.Seq > cur {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	if fresh[0].Seq != cur+1 && cur != 0 {
		h.log.Warn("history: gap in journal sequence", "cursor", cur, "next", fresh[0].Seq)
	}
	backoff := 100 * time.Millisecond
	for {
		err := h.IndexBatch(ctx, fresh)
		if err == nil || errors.Is(err, pebble.ErrClosed) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		h.log.Error("history: index batch failed; retrying", "first_seq", fresh[0].Seq, "records", len(fresh), "err", err)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// Index applies one record; see IndexBatch.
func (h *History) Index(ctx context.Context, seq uint64, payload []byte) error {
	return h.IndexBatch(ctx, []Record{{Seq: seq, Payload: payload}})
}

// IndexBatch applies records in one atomic Pebble commit together with the new cursor (the
// largest sequence number of the batch, if larger than the current one). Records that are
// not management or Insights events, or are older than the retention period, are skipped;
// malformed ones are logged and skipped. Applying a record again rewrites the same keys.
// The commit is not fsynced: the journal is the durable copy, and after a crash the cursor
// and the index roll back together to the last batch that reached the disk.
func (h *History) IndexBatch(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	oldest := h.now().Add(-h.retention).Unix()
	entries := make([]*entry, len(recs))
	for i := range recs {
		if i%yieldEvery == yieldEvery-1 {
			// Indexing runs beside the API server on few cores: let waiting request
			// goroutines run rather than holding a P for a whole large batch.
			runtime.Gosched()
		}
		e, err := parseRecord(recs[i].Payload, oldest)
		switch {
		case err == nil:
			entries[i] = e
		case errors.Is(err, errNotIndexed):
		default:
			h.log.Warn("history: skipping malformed record", "seq", recs[i].Seq, "err", err)
		}
	}

	h.wmu.Lock()
	defer h.wmu.Unlock()
	b := h.db.NewBatch()
	defer b.Close()
	// The keys of a batch are added in key order: Pebble inserts a batch into its memtable
	// (a skiplist) in batch order, and an insert next to the previous one is much cheaper
	// than one that searches the list from the top.
	kvs := &h.scratch
	kvs.reset()
	maxSeq := h.cursor.Load()
	for i, e := range entries {
		seq := recs[i].Seq
		maxSeq = max(maxSeq, seq)
		if e == nil {
			continue
		}
		day := dayOf(e.sec)
		p := pos{sec: e.sec, seq: seq}
		kind, idx := kindEvent, indexMgmt
		if e.insight {
			kind, idx = kindInsight, indexInsight
		}
		k0 := len(kvs.buf)
		kvs.buf = appendSuffix(familyPrefix(kvs.buf, day, e.acct, e.region, kind, ""), p)
		k1 := len(kvs.buf)
		kvs.buf = e.encodeValue(kvs.buf)
		kvs.refs = append(kvs.refs, kvRef{k0, k1, len(kvs.buf)})
		e.indexValues(func(a attr, v string) {
			k0 := len(kvs.buf)
			kvs.buf = appendSuffix(familyPrefix(kvs.buf, day, e.acct, e.region, idx|byte(a), v), p)
			kvs.refs = append(kvs.refs, kvRef{k0, len(kvs.buf), len(kvs.buf)})
		})
	}
	kvs.sort()
	for _, r := range kvs.refs {
		if err := b.Set(kvs.buf[r.k0:r.k1], kvs.buf[r.k1:r.v1], nil); err != nil {
			return fmt.Errorf("history: batch: %w", err)
		}
	}
	if maxSeq != h.cursor.Load() {
		if err := b.Set(keyCursor, binary.BigEndian.AppendUint64(nil, maxSeq), nil); err != nil {
			return fmt.Errorf("history: batch: %w", err)
		}
	}
	if b.Empty() {
		return nil
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("history: commit: %w", err)
	}
	h.cursor.Store(maxSeq)
	return nil
}

// kvRef locates one key (buf[k0:k1]) and its value (buf[k1:v1]) in a kvList.
type kvRef struct{ k0, k1, v1 int }

// kvList collects the keys and values of one index batch so that they can be sorted.
type kvList struct {
	buf  []byte
	refs []kvRef
}

// maxScratch bounds the memory a kvList keeps between batches.
const maxScratch = 4 << 20

func (l *kvList) reset() {
	if cap(l.buf) > maxScratch {
		l.buf, l.refs = nil, nil
	}
	l.buf, l.refs = l.buf[:0], l.refs[:0]
}

// sort orders the entries by key, keeping the order of equal keys (the later one wins).
func (l *kvList) sort() {
	slices.SortStableFunc(l.refs, func(a, b kvRef) int {
		return bytes.Compare(l.buf[a.k0:a.k1], l.buf[b.k0:b.k1])
	})
}
