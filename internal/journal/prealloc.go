package journal

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Preallocation (Options.Preallocate).
//
// An fsync after an append that grows the file must also commit the file's new size and
// block allocation: on ext4 that is a journal commit, which waits for whatever other data
// the commit carries (other files' writes, such as Event History's compactions) to reach
// the disk. An fdatasync after overwriting blocks that already hold zeros changes no
// metadata and only waits for the journal's own data: measured on the 2-core VM of
// bench/RESULTS.md, 0.22 ms instead of 0.40 ms (median) and 0.35 ms instead of 0.5–2 ms
// (90th percentile) per commit.
//
// So when Preallocate is set, a background goroutine prepares the next segment as a file of
// SegmentSize zero bytes (written, fsynced) under a temporary name, and roll renames it into
// place instead of creating an empty file. The first segment of a busy journal is rolled
// over early as soon as a prepared file is ready. Preparation starts once the active segment
// holds prepareThreshold bytes, so small journals (and tests) never write zero files.
//
// On disk, the active segment then ends with zeros after its last record. A zero frame never
// passes its checksum, so recovery already stops there; Open keeps an all-zero tail as it is
// instead of reporting and truncating a torn tail, and treats a tail with anything else in it
// as before. Roll cuts a segment back to its last record (and fsyncs it) before it seals it,
// and Close does the same for the active one, so sealed segments, and every segment of a
// cleanly closed journal, still end exactly with their last record.

// prealloc.tmp is the prepared next segment. Open removes a stale one.
const preparedName = "prealloc.tmp"

// prepareChunk is the size of the zero writes of preparation. Each is written back to the
// disk before the next (where the file can, see rangeWriter), with prepareBreath between
// them: written at once and fsynced at the end, the 64 MiB of a segment went to the disk in
// one burst that every commit's fdatasync queued behind for tens to hundreds of
// milliseconds, once per segment.
const (
	prepareChunk  = 256 << 10
	prepareBreath = time.Millisecond
)

// rangeWriter is an optional File capability, found by type assertion: Writeback writes the
// file's dirty data in [off, off+n) to the disk and waits for it, without committing
// metadata (sync_file_range(2)).
type rangeWriter interface {
	Writeback(off, n int64) error
}

// prepareRetry is how long the writer waits after a failed preparation before it asks again.
const prepareRetry = 10 * time.Second

// Datasyncer is an optional File capability, found by type assertion: Datasync commits the
// file's data and only the metadata needed to read it back (fdatasync(2)). The journal uses
// it for commits when the file has it, and Sync otherwise.
type Datasyncer interface {
	Datasync() error
}

// prepared is the outcome of one preparation.
type prepared struct {
	f    File
	size int64
	err  error
}

// preparer prepares zero-filled segment files on request, one at a time.
type preparer struct {
	fs   FS
	path string
	size int64
	req  chan struct{} // a request; capacity 1
	done chan prepared // the outcome; capacity 1
	stop chan struct{} // closed by Close
	exit chan struct{} // closed when the goroutine has returned
}

func newPreparer(fsys FS, dir string, size int64) *preparer {
	p := &preparer{
		fs:   fsys,
		path: filepath.Join(dir, preparedName),
		size: size,
		req:  make(chan struct{}, 1),
		done: make(chan prepared, 1),
		stop: make(chan struct{}),
		exit: make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *preparer) run() {
	defer close(p.exit)
	for {
		select {
		case <-p.stop:
			return
		case <-p.req:
		}
		f, err := p.prepare()
		if err != nil {
			_ = p.fs.Remove(p.path) // best effort: Open removes it too
		}
		p.done <- prepared{f: f, size: p.size, err: err}
	}
}

// prepare writes the zero file.
func (p *preparer) prepare() (File, error) {
	f, err := p.fs.OpenFile(p.path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p.path, err)
	}
	zero := make([]byte, prepareChunk)
	for off := int64(0); off < p.size; off += prepareChunk {
		select {
		case <-p.stop:
			_ = f.Close()
			return nil, ErrClosed
		default:
		}
		n := min(int64(prepareChunk), p.size-off)
		if _, err := f.WriteAt(zero[:n], off); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("write %s: %w", p.path, err)
		}
		if rw, ok := f.(rangeWriter); ok {
			if err := rw.Writeback(off, n); err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("write back %s: %w", p.path, err)
			}
			time.Sleep(prepareBreath)
		}
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("fsync %s: %w", p.path, err)
	}
	return f, nil
}

// close stops the goroutine and returns a prepared file it still holds, if any.
func (p *preparer) close() File {
	close(p.stop)
	<-p.exit
	select {
	case r := <-p.done:
		return r.f
	default:
		return nil
	}
}

// prepareThreshold is how full the active segment must be before the next one is prepared.
func (j *Journal) prepareThreshold() int64 { return min(j.segSize/4, 4<<20) }

// maybePrepare asks for the next segment to be prepared, or collects a finished one. The
// writer calls it after every commit.
func (j *Journal) maybePrepare() {
	if j.prep == nil {
		return
	}
	if j.preparing {
		select {
		case r := <-j.prep.done:
			j.preparing = false
			if r.err != nil {
				j.log.Warn("journal: preparing the next segment failed; appending without preallocation",
					slog.String(logDir, j.dir), slog.String(logErr, r.err.Error()))
				j.prepRetry = time.Now().Add(prepareRetry)
				return
			}
			j.ready = r.f
		default:
		}
		return
	}
	if j.ready == nil && j.off >= j.prepareThreshold() && time.Now().After(j.prepRetry) {
		j.preparing = true
		j.prep.req <- struct{}{}
	}
}

// takePrepared renames the prepared file to path and returns it, or returns nil if none is
// ready. On error the prepared file is gone and path may exist.
func (j *Journal) takePrepared(path string) (File, int64, error) {
	f := j.ready
	if f == nil {
		return nil, 0, nil
	}
	j.ready = nil
	if err := j.fs.Rename(filepath.Join(j.dir, preparedName), path); err != nil {
		_ = f.Close()
		_ = j.fs.Remove(filepath.Join(j.dir, preparedName))
		return nil, 0, fmt.Errorf("rename prepared segment: %w", err)
	}
	return f, j.prep.size, nil
}

// cutPreallocated cuts the active segment back to its committed size and fsyncs it, removing
// the zeros after the last record.
func (j *Journal) cutPreallocated() error {
	if j.prealloc == 0 {
		return nil
	}
	if err := j.active.Truncate(j.off); err != nil {
		return fmt.Errorf("cut segment %d to its records: %w", j.activeFirst, err)
	}
	if err := j.active.Sync(); err != nil {
		return fmt.Errorf("cut segment %d to its records: %w", j.activeFirst, err)
	}
	j.prealloc = 0
	return nil
}

// syncActive makes the last write to the active segment durable: with fdatasync where the
// file has it, else with fsync.
func (j *Journal) syncActive() error {
	if ds, ok := j.active.(Datasyncer); ok {
		return ds.Datasync()
	}
	return j.active.Sync()
}

// zeroTail reports whether the bytes of f in [from, size) are all zero.
func zeroTail(f io.ReaderAt, from, size int64) (bool, error) {
	buf := make([]byte, min(size-from, prepareChunk))
	for off := from; off < size; {
		n := min(int64(len(buf)), size-off)
		if got, err := f.ReadAt(buf[:n], off); int64(got) < n {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return false, fmt.Errorf("read tail: %w", err)
		}
		if !allZero(buf[:n]) {
			return false, nil
		}
		off += n
	}
	return true, nil
}

var zeroBlock [4096]byte

func allZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroBlock))
		if !bytes.Equal(b[:n], zeroBlock[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// removePrepared removes a prepared segment left by a crash or an earlier run.
func (j *Journal) removePrepared() error {
	if err := j.fs.Remove(filepath.Join(j.dir, preparedName)); err != nil && !isNotExist(err) {
		return fmt.Errorf("remove %s: %w", preparedName, err)
	}
	return nil
}

// closePreparer stops the preparer and removes a prepared segment that was not used.
func (j *Journal) closePreparer() error {
	if j.prep == nil {
		return nil
	}
	f := j.prep.close()
	if j.ready != nil {
		f, j.ready = j.ready, nil
	}
	if f != nil {
		_ = f.Close() // unused zeros
	}
	return j.removePrepared()
}
