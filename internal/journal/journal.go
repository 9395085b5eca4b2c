package journal

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// Defaults for Options.
const (
	// DefaultSegmentSize is the default Options.SegmentSize: 64 MiB.
	DefaultSegmentSize = 64 << 20
	// DefaultMaxBatch is the default Options.MaxBatch.
	DefaultMaxBatch = 1024
)

// Names in the journal directory besides the segments.
const (
	lockName      = "LOCK"    // held (flock) by the process that has the journal open
	cursorDirName = "cursors" // one file per consumer cursor
)

// Errors returned by the journal. Check them with errors.Is.
var (
	// ErrUnavailable means the journal could not make a record durable (write or fsync
	// failed: disk full, I/O error, read-only file system). The record was not committed and
	// never will be. The server maps it to a 503-class AWS error. The next append retries.
	ErrUnavailable = errors.New("journal: unavailable")
	// ErrClosed means the journal has been closed.
	ErrClosed = errors.New("journal: closed")
	// ErrTooLarge means a payload exceeds MaxPayloadSize or a batch exceeds MaxBatchBytes.
	ErrTooLarge = errors.New("journal: record too large")
	// ErrTruncated means a reader asked for records that TruncateFront has deleted.
	ErrTruncated = errors.New("journal: records truncated")
)

// CorruptionError reports damaged journal data: a record in a sealed segment (or in the
// middle of the last one) that fails its checksum, is cut short or breaks the sequence, a gap
// between segments, or a damaged cursor file. The journal never skips such data silently.
type CorruptionError struct {
	Path   string // the damaged segment (or cursor) file
	Offset int64  // byte offset in Path of the first bad record
	Err    error  // what is wrong
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("journal: corrupt data in %s at offset %d: %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the reason.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Options configure a journal. The zero value is ready to use.
type Options struct {
	// SegmentSize is the size in bytes at which the journal starts a new segment file
	// (default DefaultSegmentSize). It is a soft limit: a commit group is never split, so a
	// segment is larger only when one Append or AppendBatch is larger than SegmentSize.
	SegmentSize int64
	// MaxBatch is the largest number of records written and fsynced as one commit group
	// (default DefaultMaxBatch). One AppendBatch call is never split, whatever its length.
	MaxBatch int
	// Logger receives recovery, failure and retention messages. Nil discards them.
	Logger *slog.Logger
	// FS is the file system (default OSFS).
	FS FS
	// SkipVerify makes Open check only the last segment fully, and the first record of every
	// other one. Damage in older segments is then reported by the Reader that reaches it.
	// By default Open reads and checks every record, which takes time proportional to the
	// size of the journal.
	SkipVerify bool
	// Preallocate makes a busy journal write its records into segment files prepared in
	// advance full of zeros, and commit them with fdatasync where the file system has it, so
	// that a commit changes no file metadata (see prealloc.go). It costs writing every
	// segment twice, once as zeros in the background, and up to two segments of disk space.
	Preallocate bool
}

// Log attribute keys.
const (
	logDir      = "dir"
	logSegment  = "segment"
	logOffset   = "offset"
	logBytes    = "bytes"
	logSeq      = "seq"
	logFirstSeq = "first_seq"
	logSegments = "segments"
	logErr      = "err"
)

// Journal is a durable, ordered, append-only log of records, each with a sequence number
// that starts at 1 and increases by one. It is safe for concurrent use.
type Journal struct {
	dir        string
	cursorDir  string
	fs         FS
	log        *slog.Logger
	segSize    int64
	maxBatch   int
	lock       io.Closer
	reqPool    sync.Pool
	wake       chan struct{} // wakes the writer; capacity 1
	writerDone chan struct{} // closed when the writer goroutine has returned

	truncating sync.Mutex // serialises TruncateFront
	cursorMu   sync.Mutex // serialises SetCursor

	// mu guards the fields below it.
	mu           sync.Mutex
	closed       bool
	writerIdle   bool          // the writer is waiting for wake
	gatherTarget int           // if not 0, the queue length at which the gathering writer wants wake
	queue        []*request    // appends waiting for the writer
	segs         []segment     // ascending by first; the last one is the active segment
	lastSeq      uint64        // highest committed sequence number, 0 if none
	commitCh     chan struct{} // closed and replaced on every commit, and closed by Close

	writerState           // owned by the writer goroutine (and by Open and Close)
	prep        *preparer // prepares the next segment (Options.Preallocate), or nil
}

// writerState is the state only the writer goroutine touches.
type writerState struct {
	active      File          // the active (last) segment
	activeFirst uint64        // its first sequence number
	off         int64         // committed size of active: where the next commit group goes
	next        uint64        // sequence number of the next record
	buf         []byte        // frames of the commit group being written
	group       []*request    // the commit group being written
	broken      error         // a failed write could not be rolled back; retried before the next write
	needRoll    bool          // a segment rollover was started and must finish before the next write
	commitTime  time.Duration // how long the last commit's write and fsync took
	prealloc    int64         // size of the active segment's file when it was preallocated, else 0
	preparing   bool          // the preparer is preparing the next segment
	ready       File          // a prepared next segment, or nil
	prepRetry   time.Time     // no preparation before this time (after a failure)
}

// Open opens the journal in dir, creating dir and an empty journal if needed, and recovers
// it: it checks the records (see Options.SkipVerify), truncates a torn tail left by a crash
// in the last segment and returns a *CorruptionError for damage anywhere else.
func Open(dir string, opts Options) (*Journal, error) {
	if opts.SegmentSize < 0 || opts.MaxBatch < 0 {
		return nil, fmt.Errorf("journal: negative SegmentSize %d or MaxBatch %d", opts.SegmentSize, opts.MaxBatch)
	}
	j := &Journal{
		dir:        filepath.Clean(dir),
		fs:         opts.FS,
		log:        opts.Logger,
		segSize:    opts.SegmentSize,
		maxBatch:   opts.MaxBatch,
		wake:       make(chan struct{}, 1),
		writerDone: make(chan struct{}),
		commitCh:   make(chan struct{}),
	}
	j.cursorDir = filepath.Join(j.dir, cursorDirName)
	j.reqPool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	if j.fs == nil {
		j.fs = OSFS{}
	}
	if j.log == nil {
		j.log = slog.New(slog.DiscardHandler)
	}
	if j.segSize == 0 {
		j.segSize = DefaultSegmentSize
	}
	if j.maxBatch == 0 {
		j.maxBatch = DefaultMaxBatch
	}
	if err := j.open(opts.SkipVerify); err != nil {
		j.closeFiles()
		return nil, fmt.Errorf("journal: open %s: %w", dir, err)
	}
	if opts.Preallocate {
		j.prep = newPreparer(j.fs, j.dir, j.segSize)
	}
	go j.runWriter()
	return j, nil
}

// open prepares the directory and recovers the segments.
func (j *Journal) open(skipVerify bool) error {
	if err := j.fs.MkdirAll(j.cursorDir, 0o755); err != nil {
		return err
	}
	if err := syncDir(j.fs, parentDir(j.dir)); err != nil {
		return err
	}
	if err := syncDir(j.fs, j.dir); err != nil {
		return err
	}
	if l, ok := j.fs.(Locker); ok {
		lock, err := l.Lock(filepath.Join(j.dir, lockName))
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		j.lock = lock
	}
	if err := j.removeCursorTemps(); err != nil {
		return err
	}
	firsts, prepared, err := listSegments(j.fs, j.dir)
	if err != nil {
		return err
	}
	if prepared {
		// Left by a crash or an earlier run: prepared segments are never reused.
		if err := j.removePrepared(); err != nil {
			return err
		}
	}
	if len(firsts) == 0 {
		return j.createFirstSegment()
	}
	for i, first := range firsts[:len(firsts)-1] {
		size, err := j.checkSealed(first, firsts[i+1], skipVerify)
		if err != nil {
			return err
		}
		j.segs = append(j.segs, segment{first: first, size: size})
	}
	return j.recoverLast(firsts[len(firsts)-1])
}

// createFirstSegment starts an empty journal.
func (j *Journal) createFirstSegment() error {
	f, err := j.fs.OpenFile(j.segmentPath(1), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	j.active, j.activeFirst = f, 1
	if err := syncDir(j.fs, j.dir); err != nil {
		return err
	}
	j.segs = []segment{{first: 1}}
	j.next = 1
	return nil
}

// checkSealed checks a segment that is not the last one and returns its size. Its records
// must run without damage from first up to next-1 and fill the file exactly.
func (j *Journal) checkSealed(first, next uint64, skipVerify bool) (int64, error) {
	path := j.segmentPath(first)
	f, err := j.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close() //nolint:errcheck // read-only
	size, err := fileSize(f)
	if err != nil {
		return 0, err
	}
	if skipVerify {
		var fr frameReader
		fr.reset(f)
		seq, _, _, err := fr.frame(0, size)
		switch {
		case err != nil:
			return 0, &CorruptionError{Path: path, Offset: 0, Err: err}
		case seq != first:
			return 0, &CorruptionError{Path: path, Offset: 0, Err: fmt.Errorf("sequence number %d, want %d", seq, first)}
		}
		return size, nil
	}
	res, err := scanSegment(f, size, first, nil)
	switch {
	case err != nil:
		return 0, err
	case res.bad != nil:
		return 0, &CorruptionError{Path: path, Offset: res.end, Err: res.bad}
	case res.next != next:
		return 0, &CorruptionError{Path: path, Offset: res.end,
			Err: fmt.Errorf("segment ends before sequence number %d, but the next segment starts at %d", res.next, next)}
	}
	return size, nil
}

// recoverLast opens the last segment for writing, truncating a torn tail.
func (j *Journal) recoverLast(first uint64) error {
	path := j.segmentPath(first)
	f, err := j.fs.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	j.active, j.activeFirst = f, first
	size, err := fileSize(f)
	if err != nil {
		return err
	}
	res, err := scanSegment(f, size, first, nil)
	if err != nil {
		return err
	}
	if res.bad != nil {
		zero, err := zeroTail(f, res.end, size)
		if err != nil {
			return err
		}
		if zero {
			// Preallocated space after the last record (Options.Preallocate): nothing was
			// torn, and the zeros are kept for the next records.
			res.bad, j.prealloc = nil, size
		}
	}
	if res.bad != nil {
		// A crash can tear only the commit group that was being written, which is at
		// most MaxBatchBytes long and starts at or before the damage. A good record
		// beyond that is acknowledged data after the damage: corruption, not a torn tail.
		off, found, err := findFrameAfter(f, res.end+MaxBatchBytes, size, res.next)
		if err != nil {
			return err
		}
		if found {
			return &CorruptionError{Path: path, Offset: res.end,
				Err: fmt.Errorf("%w; a good record follows at offset %d", res.bad, off)}
		}
		j.log.Warn("journal: truncating torn tail of last segment",
			slog.String(logSegment, path), slog.Int64(logOffset, res.end),
			slog.Int64(logBytes, size-res.end), slog.String(logErr, res.bad.Error()))
	}
	if size != res.end && j.prealloc == 0 {
		if err := f.Truncate(res.end); err != nil {
			return fmt.Errorf("truncate torn tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			return fmt.Errorf("truncate torn tail: %w", err)
		}
	}
	j.segs = append(j.segs, segment{first: first, size: res.end})
	j.off = res.end
	j.next = res.next
	j.lastSeq = res.next - 1
	return nil
}

// fileSize returns the size of f.
func fileSize(f File) (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// LastSeq returns the sequence number of the last committed record, or 0 if there is none.
func (j *Journal) LastSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastSeq
}

// FirstSeq returns the sequence number of the oldest record still in the journal (the first
// one TruncateFront kept). If the journal has no records, it is LastSeq()+1.
func (j *Journal) FirstSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return min(j.segs[0].first, j.lastSeq+1)
}

// TruncateFront deletes the segments all of whose records have sequence numbers below seq,
// typically the lowest cursor of all consumers plus one. It never deletes the active segment,
// so records at or after seq are always kept and some before it may be. It costs one unlink
// per segment and one directory fsync.
func (j *Journal) TruncateFront(seq uint64) error {
	j.truncating.Lock()
	defer j.truncating.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	n := 0
	for n+1 < len(j.segs) && j.segs[n+1].first <= seq {
		n++
	}
	victims := slices.Clone(j.segs[:n])
	j.segs = slices.Clone(j.segs[n:])
	j.mu.Unlock()
	if n == 0 {
		return nil
	}
	for i, s := range victims {
		if err := j.fs.Remove(j.segmentPath(s.first)); err != nil && !isNotExist(err) {
			// Keep the index a contiguous run of what is on disk.
			j.mu.Lock()
			j.segs = append(slices.Clone(victims[i:]), j.segs...)
			j.mu.Unlock()
			return fmt.Errorf("journal: truncate front: %w", err)
		}
	}
	if err := syncDir(j.fs, j.dir); err != nil {
		return fmt.Errorf("journal: truncate front: %w", err)
	}
	j.log.Info("journal: deleted old segments", slog.String(logDir, j.dir),
		slog.Int(logSegments, n), slog.Uint64(logFirstSeq, j.FirstSeq()))
	return nil
}

// TruncateFrontBefore is TruncateFront(seq) limited to segments last written before t (the
// segment file's modification time), oldest first: it deletes the leading run of segments
// all of whose records are below seq and that no append has touched since t. It is how a
// retention policy ("keep at least 90 days, and everything a consumer still needs") deletes.
func (j *Journal) TruncateFrontBefore(seq uint64, t time.Time) error {
	entries, err := j.fs.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("journal: truncate front: %w", err)
	}
	mtimes := make(map[string]time.Time, len(entries))
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			mtimes[e.Name()] = info.ModTime()
		}
	}
	j.mu.Lock()
	segs := slices.Clone(j.segs)
	j.mu.Unlock()
	cut := uint64(0)
	for i := 0; i+1 < len(segs) && segs[i+1].first <= seq; i++ {
		m, ok := mtimes[segmentName(segs[i].first)]
		if !ok || !m.Before(t) {
			break
		}
		cut = segs[i+1].first
	}
	if cut == 0 {
		return nil
	}
	return j.TruncateFront(cut)
}

// Close commits the appends already queued, stops the writer and closes the files. Appends
// and reads after Close return ErrClosed. Readers must still be closed by their owners.
func (j *Journal) Close() error {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	j.mu.Unlock()
	j.signalWriter()
	<-j.writerDone

	var errs []error
	if j.broken != nil {
		if err := j.rollback(); err != nil {
			errs = append(errs, fmt.Errorf("journal: close: %w", err))
		}
	} else if err := j.cutPreallocated(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: %w", err))
	}
	if err := j.closePreparer(); err != nil {
		errs = append(errs, fmt.Errorf("journal: close: %w", err))
	}
	errs = append(errs, j.closeFiles())
	j.mu.Lock()
	close(j.commitCh)
	j.mu.Unlock()
	return errors.Join(errs...)
}

// closeFiles closes the active segment and releases the lock.
func (j *Journal) closeFiles() error {
	var errs []error
	if j.active != nil {
		if err := j.active.Close(); err != nil {
			errs = append(errs, fmt.Errorf("journal: close: %w", err))
		}
		j.active = nil
	}
	if j.lock != nil {
		if err := j.lock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("journal: unlock: %w", err))
		}
		j.lock = nil
	}
	return errors.Join(errs...)
}
