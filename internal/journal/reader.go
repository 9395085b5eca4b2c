package journal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
)

// Record is one committed journal record.
type Record struct {
	Seq     uint64 // sequence number, from 1
	Payload []byte // owned by the caller
}

// Reader reads committed records in sequence order, waiting for new ones at the end of the
// journal: a consumer tails the journal with it. It sees only fsynced (acknowledged) records.
// A Reader is not safe for concurrent use; each consumer has its own.
//
// A Reader finds the segment that holds its starting record through the in-memory index of
// segment first sequence numbers and reads that segment from the start (at most SegmentSize
// bytes, once); after that it reads sequentially, in chunks, with its own file handle.
type Reader struct {
	j    *Journal
	next uint64 // sequence number Next returns next

	f        File   // current segment, nil before the first read
	path     string // its path
	segFirst uint64 // its first sequence number
	off      int64  // offset of the next frame to decode
	at       uint64 // sequence number of the frame at off
	end      int64  // committed size of the segment as last seen
	last     uint64 // last committed sequence number as last seen
	fr       frameReader
}

// NewReader returns a Reader whose first record has sequence number from (1 if from is 0).
// From may be beyond LastSeq; Next then waits for the record to be committed. To resume a
// consumer, start from its cursor plus one.
func (j *Journal) NewReader(from uint64) *Reader {
	return &Reader{j: j, next: max(from, 1)}
}

// Next returns the next record, waiting until it is committed or ctx is done. It returns
// ctx's error if it had to wait and ctx ended, ErrClosed after the journal is closed,
// ErrTruncated if the record has been deleted by TruncateFront, and a *CorruptionError if the
// record is damaged (every later call returns it again).
func (r *Reader) Next(ctx context.Context) (Record, error) {
	for {
		if r.next <= r.last && r.f != nil && r.off < r.end {
			return r.decode()
		}
		if err := r.advance(ctx); err != nil {
			return Record{}, err
		}
	}
}

// decode returns the record at r.off, skipping records before r.next.
func (r *Reader) decode() (Record, error) {
	for r.off < r.end {
		seq, payload, n, err := r.fr.frame(r.off, r.end)
		if err != nil {
			if errors.Is(err, errIncomplete) || errors.Is(err, errLength) || errors.Is(err, errChecksum) {
				return Record{}, &CorruptionError{Path: r.path, Offset: r.off, Err: err}
			}
			return Record{}, fmt.Errorf("journal: read %s: %w", r.path, err)
		}
		if seq != r.at {
			return Record{}, &CorruptionError{Path: r.path, Offset: r.off,
				Err: fmt.Errorf("sequence number %d, want %d", seq, r.at)}
		}
		r.off += int64(n)
		r.at++
		if seq < r.next {
			continue // positioning: a record before the starting point
		}
		r.next++
		return Record{Seq: seq, Payload: bytes.Clone(payload)}, nil
	}
	return Record{}, &CorruptionError{Path: r.path, Offset: r.off,
		Err: fmt.Errorf("segment ends before sequence number %d", r.next)}
}

// advance refreshes what r knows about the journal: it waits for record r.next to be
// committed and moves to the segment that holds it.
func (r *Reader) advance(ctx context.Context) error {
	j := r.j
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	r.last = j.lastSeq
	if r.next > r.last {
		ch := j.commitCh
		j.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	i := findSegment(j.segs, r.next)
	if i < 0 {
		first := j.segs[0].first
		j.mu.Unlock()
		return fmt.Errorf("%w: record %d, oldest is %d", ErrTruncated, r.next, first)
	}
	seg := j.segs[i]
	j.mu.Unlock()

	if r.f != nil && seg.first == r.segFirst {
		if r.off >= seg.size {
			// Record r.next is committed, and no later segment starts at or before it,
			// yet this segment has ended: there is a gap.
			return &CorruptionError{Path: r.path, Offset: r.off,
				Err: fmt.Errorf("segment ends before sequence number %d", r.next)}
		}
		r.end = seg.size
		return nil
	}
	return r.open(seg)
}

// open moves r to segment seg, reading from its start.
func (r *Reader) open(seg segment) error {
	if r.f != nil {
		_ = r.f.Close() // read-only
		r.f = nil
	}
	path := r.j.segmentPath(seg.first)
	f, err := r.j.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		if isNotExist(err) && r.next < r.j.FirstSeq() {
			return fmt.Errorf("%w: record %d: %w", ErrTruncated, r.next, err)
		}
		return fmt.Errorf("journal: open %s: %w", path, err)
	}
	r.f, r.path, r.segFirst, r.off, r.at, r.end = f, path, seg.first, 0, seg.first, seg.size
	r.fr.reset(f)
	return nil
}

// Close releases the Reader's file handle.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
