package history

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Source is where Follow reads records from: the journal, adapted by the caller. Next returns
// the next record in sequence order, waiting for one to be committed; it must return promptly
// with ctx's error once ctx is done. The payload is owned by History after Next returns.
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

// Record is one journal record given to IndexBatch.
type Record struct {
	Seq     uint64
	Payload []byte // the CloudTrail record JSON
}

// Limits of one Follow batch (one Pebble commit), and how many records the reader may have
// read ahead of the indexer.
const (
	followMaxRecords = 4096
	followMaxBytes   = 16 << 20
	followReadAhead  = 512
)

// Follow applies the records of src to the index until ctx is done or src fails, and
// returns ctx's error or src's error. Records are applied in batches: whatever src has ready
// when a commit finishes goes into the next commit, so a busy journal is indexed with few
// commits and an idle one with no delay (a record is visible to Lookup as soon as its batch
// commits, typically within milliseconds of its append). Records with a sequence number at or
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
			default:
				break drain
			}
		}
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
	parse := func(i int) {
		e, err := parseRecord(recs[i].Payload, oldest)
		switch {
		case err == nil:
			entries[i] = e
		case errors.Is(err, errNotIndexed):
		default:
			h.log.Warn("history: skipping malformed record", "seq", recs[i].Seq, "err", err)
		}
	}
	if workers := min(runtime.GOMAXPROCS(0), len(recs)/64); workers > 1 {
		var wg sync.WaitGroup
		per := (len(recs) + workers - 1) / workers
		for lo := 0; lo < len(recs); lo += per {
			hi := min(lo+per, len(recs))
			wg.Go(func() {
				for i := lo; i < hi; i++ {
					parse(i)
				}
			})
		}
		wg.Wait()
	} else {
		for i := range recs {
			parse(i)
		}
	}

	h.wmu.Lock()
	defer h.wmu.Unlock()
	b := h.db.NewBatch()
	defer b.Close()
	var key, val []byte
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
		key = appendSuffix(familyPrefix(key[:0], day, e.acct, e.region, kind, ""), p)
		val = e.encodeValue(val[:0])
		if err := b.Set(key, val, nil); err != nil {
			return fmt.Errorf("history: batch: %w", err)
		}
		var setErr error
		e.indexValues(func(a attr, v string) {
			key = appendSuffix(familyPrefix(key[:0], day, e.acct, e.region, idx|byte(a), v), p)
			if err := b.Set(key, nil, nil); err != nil && setErr == nil {
				setErr = err
			}
		})
		if setErr != nil {
			return fmt.Errorf("history: batch: %w", setErr)
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
