package journal

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

// States of a request.
const (
	reqPending   int32 = iota // queued; the caller may still cancel it
	reqClaimed                // taken by the writer; the caller must wait for the outcome
	reqCancelled              // abandoned by its caller; the writer skips it
)

// request is one Append or AppendBatch call waiting for the writer.
type request struct {
	payload  []byte   // Append
	payloads [][]byte // AppendBatch
	records  int      // number of records
	size     int      // framed size in bytes
	state    atomic.Int32

	// Set by the writer before it signals done.
	seq  uint64
	err  error
	done chan struct{} // capacity 1
}

// claim moves a pending request to the writer, unless its caller has cancelled it.
func (r *request) claim() bool { return r.state.CompareAndSwap(reqPending, reqClaimed) }

// finish reports the outcome to the waiting caller.
func (r *request) finish(seq uint64, err error) {
	r.seq, r.err = seq, err
	r.done <- struct{}{}
}

// Append adds one record and returns its sequence number once the record is fsynced. Appends
// from many goroutines share writes and fsyncs (group commit). The payload must not be
// modified until Append returns.
//
// On error the record is not in the journal and never will be: ErrUnavailable when it could
// not be made durable, ctx's error when ctx ended before the writer took the record (if the
// writer already has it, Append waits for the outcome), ErrTooLarge, or ErrClosed.
func (j *Journal) Append(ctx context.Context, payload []byte) (uint64, error) {
	if len(payload) > MaxPayloadSize {
		return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(payload), MaxPayloadSize)
	}
	r := j.reqPool.Get().(*request)
	r.payload, r.records, r.size = payload, 1, frameSize(len(payload))
	return j.submit(ctx, r)
}

// AppendBatch adds records with consecutive sequence numbers, all or none, and returns the
// first sequence number once they are fsynced. Errors are as for Append, and the payloads
// must not be modified until AppendBatch returns. The framed size of the batch (16 bytes plus
// the payload per record) must not exceed MaxBatchBytes. With no payloads it does nothing and
// returns 0, nil.
func (j *Journal) AppendBatch(ctx context.Context, payloads [][]byte) (uint64, error) {
	if len(payloads) == 0 {
		return 0, nil
	}
	size := 0
	for _, p := range payloads {
		if len(p) > MaxPayloadSize {
			return 0, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(p), MaxPayloadSize)
		}
		size += frameSize(len(p))
	}
	if size > MaxBatchBytes {
		return 0, fmt.Errorf("%w: batch of %d framed bytes, limit %d", ErrTooLarge, size, MaxBatchBytes)
	}
	r := j.reqPool.Get().(*request)
	r.payloads, r.records, r.size = payloads, len(payloads), size
	return j.submit(ctx, r)
}

// submit queues r for the writer and waits for the outcome.
func (j *Journal) submit(ctx context.Context, r *request) (uint64, error) {
	if err := ctx.Err(); err != nil {
		j.recycle(r)
		return 0, err
	}
	r.state.Store(reqPending)
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		j.recycle(r)
		return 0, ErrClosed
	}
	j.queue = append(j.queue, r)
	wake := j.writerIdle || (j.gatherTarget > 0 && len(j.queue) >= j.gatherTarget)
	if wake {
		j.writerIdle, j.gatherTarget = false, 0
	}
	j.mu.Unlock()
	if wake {
		j.signalWriter()
	}

	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqCancelled) {
			// The writer will skip r; it still holds a pointer, so r is not recycled.
			return 0, ctx.Err()
		}
		<-r.done
	}
	seq, err := r.seq, r.err
	j.recycle(r)
	return seq, err
}

// recycle returns a finished request to the pool.
func (j *Journal) recycle(r *request) {
	*r = request{done: r.done}
	j.reqPool.Put(r)
}

// signalWriter wakes the writer goroutine if it is waiting.
func (j *Journal) signalWriter() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// runWriter is the writer goroutine: it takes all queued appends at once and commits them
// in groups, one write and one fsync per group. It returns once the journal is closed and
// the queue is empty.
func (j *Journal) runWriter() {
	defer close(j.writerDone)
	var batch []*request
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		j.mu.Lock()
		for len(j.queue) == 0 {
			if j.closed {
				j.mu.Unlock()
				return
			}
			j.writerIdle = true
			j.mu.Unlock()
			<-j.wake
			j.mu.Lock()
		}
		batch, j.queue = j.queue, batch[:0]
		j.mu.Unlock()

		acked := j.process(batch)
		clear(batch)
		j.maybePrepare()
		j.gather(acked, timer)
	}
}

// maxGatherDelay bounds how long the writer waits for more appends after a commit.
const maxGatherDelay = 200 * time.Microsecond

// gather waits briefly after a commit of acked requests so that the next commit group is
// larger. Callers that append in a loop come back right after their acknowledgement, just
// after the writer has taken the queue for the next group; without the wait, they would
// always miss it, and groups would alternate between two halves of the callers, with twice
// as many fsyncs. The wait ends as soon as as many appends as were just acknowledged have
// joined the queue, and lasts at most a quarter of the last commit's write and fsync time
// (and maxGatherDelay), so it costs little latency when they do not come.
func (j *Journal) gather(acked int, timer *time.Timer) {
	wait := min(j.commitTime/4, maxGatherDelay)
	if acked < 2 || wait <= 0 {
		return
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.gatherTarget = len(j.queue) + acked
	j.mu.Unlock()
	timer.Reset(wait)
	select {
	case <-j.wake:
	case <-timer.C:
	}
	timer.Stop()
	j.mu.Lock()
	j.gatherTarget = 0
	j.mu.Unlock()
}

// process commits the requests of batch in order, in as few groups as the limits allow, and
// returns how many it acknowledged.
// After a failure it fails the rest of the batch too: they were waiting on the same broken
// disk, and requests queued later retry.
func (j *Journal) process(batch []*request) (acked int) {
	for i := 0; i < len(batch); {
		r := batch[i]
		i++
		if !r.claim() {
			continue
		}
		if err := j.prepare(r.size); err != nil {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
			r.finish(0, err)
			j.failAll(batch[i:], err)
			return acked
		}
		group, size, records := append(j.group[:0], r), r.size, r.records
		for i < len(batch) {
			r := batch[i]
			if records+r.records > j.maxBatch || size+r.size > MaxBatchBytes || j.off+int64(size+r.size) > j.segSize {
				break
			}
			i++
			if r.claim() {
				group = append(group, r)
				size += r.size
				records += r.records
			}
		}
		j.group = group
		if err := j.commit(group); err != nil {
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
			for _, r := range group {
				r.finish(0, err)
			}
			j.failAll(batch[i:], err)
			clear(group)
			return acked
		}
		acked += len(group)
		clear(group)
	}
	return acked
}

// failAll fails every request of rs that its caller has not cancelled.
func (j *Journal) failAll(rs []*request, err error) {
	for _, r := range rs {
		if r.claim() {
			r.finish(0, err)
		}
	}
}

// prepare makes the active segment ready for a commit group that starts with a request of
// size bytes: it retries the rollback of an earlier failed write and rolls over to a new
// segment when the active one is full.
func (j *Journal) prepare(size int) error {
	if j.broken != nil {
		if err := j.rollback(); err != nil {
			return err
		}
		j.log.Info("journal: recovered from write failure", slog.String(logDir, j.dir))
	}
	// A segment that was not preallocated is rolled over as soon as a prepared one is ready.
	if j.needRoll || (j.off > 0 && j.off+int64(size) > j.segSize) || (j.off > 0 && j.prealloc == 0 && j.ready != nil) {
		return j.roll()
	}
	return nil
}

// commit writes the group with one write and one fsync, then publishes it to readers and
// acknowledges it. On failure it rolls the write back, and nothing of the group is committed.
func (j *Journal) commit(group []*request) error {
	buf := j.buf[:0]
	seq := j.next
	for _, r := range group {
		r.seq = seq
		if r.payloads == nil {
			buf = appendFrame(buf, seq, r.payload)
			seq++
			continue
		}
		for _, p := range r.payloads {
			buf = appendFrame(buf, seq, p)
			seq++
		}
	}
	j.buf = buf

	start := time.Now()
	n, err := j.active.WriteAt(buf, j.off)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		err = fmt.Errorf("write segment %d: %w", j.activeFirst, err)
	} else if err = j.syncActive(); err != nil {
		err = fmt.Errorf("fsync segment %d: %w", j.activeFirst, err)
	}
	if err != nil {
		j.log.Error("journal: commit failed", slog.String(logDir, j.dir),
			slog.Uint64(logSeq, j.next), slog.Int(logBytes, len(buf)), slog.String(logErr, err.Error()))
		j.broken = err
		if rerr := j.rollback(); rerr != nil {
			j.log.Error("journal: cannot roll back failed commit; retrying before the next one",
				slog.String(logDir, j.dir), slog.Int64(logOffset, j.off), slog.String(logErr, rerr.Error()))
			return fmt.Errorf("%w (rollback: %w)", err, rerr)
		}
		return err
	}

	j.commitTime = time.Since(start)
	j.off += int64(len(buf))
	j.next = seq
	j.mu.Lock()
	j.lastSeq = seq - 1
	j.segs[len(j.segs)-1].size = j.off
	close(j.commitCh)
	j.commitCh = make(chan struct{})
	j.mu.Unlock()
	for _, r := range group {
		r.finish(r.seq, nil)
	}
	return nil
}

// rollback truncates the active segment back to its committed size and fsyncs it, removing
// whatever a failed write left behind. Until it succeeds the journal accepts no writes.
func (j *Journal) rollback() error {
	err := j.active.Truncate(j.off)
	if err == nil {
		err = j.active.Sync()
	}
	if err != nil {
		if j.broken == nil {
			j.broken = err
		}
		return fmt.Errorf("roll back to offset %d: %w", j.off, err)
	}
	j.broken, j.prealloc = nil, 0
	return nil
}

// roll seals the active segment and starts a new one named after the next sequence number.
// The new file is created empty (truncating what an earlier failed attempt left), and the
// directory is fsynced before any record goes into it. Until roll succeeds nothing more is
// written to the old segment: a file named after the next sequence number may exist.
func (j *Journal) roll() error {
	if j.off == 0 {
		j.needRoll = false
		return nil
	}
	j.needRoll = true
	// A sealed segment ends with its last record: cut away preallocated zeros first.
	if err := j.cutPreallocated(); err != nil {
		return err
	}
	path := j.segmentPath(j.next)
	f, prealloc, err := j.takePrepared(path)
	if err != nil {
		return err
	}
	if f == nil {
		if f, err = j.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644); err != nil {
			return fmt.Errorf("create segment: %w", err)
		}
	}
	if err := syncDir(j.fs, j.dir); err != nil {
		_ = f.Close() // the sync error is the one to report; the next roll reopens it
		return err
	}
	if err := j.active.Close(); err != nil {
		j.log.Warn("journal: closing sealed segment",
			slog.String(logSegment, j.segmentPath(j.activeFirst)), slog.String(logErr, err.Error()))
	}
	j.active, j.activeFirst, j.off, j.needRoll, j.prealloc = f, j.next, 0, false, prealloc
	j.mu.Lock()
	j.segs = append(j.segs, segment{first: j.next})
	j.mu.Unlock()
	j.log.Debug("journal: new segment", slog.String(logSegment, path))
	return nil
}
