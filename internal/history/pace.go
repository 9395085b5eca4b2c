package history

import (
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Compaction pacing.
//
// Event History runs beside the API server on few cores, and a Pebble compaction is a burst
// of work: one goroutine encoding tables flat out for tenths of a second. While it runs, the
// requests (each waiting for its journal commit) get one core less, and their latency tail
// grows. Nothing waits for Event History (the journal holds its input, and LookupEvents shows
// what has been indexed), so its compactions can yield: pacedFS wraps the files Pebble
// creates for compaction output, and each Write first sleeps pace times the time that passed
// since the previous Write returned — the time the compaction spent producing the bytes. With
// pace 1 a compaction is busy at most half the time: it takes twice as long, with the same
// total work. On a busy machine the time between writes includes time spent waiting for a
// core, so a compaction backs off further, as a niced thread would. Flushes are not paced: a
// memtable that cannot be flushed stalls indexing.

// compactionCategory is the category Pebble creates compaction output files with.
const compactionCategory vfs.DiskWriteCategory = "pebble-compaction"

// minPaceSleep accumulates short sleeps: a timer cannot sleep a few microseconds.
const minPaceSleep = 2 * time.Millisecond

// maxPaceSleep bounds one sleep and the debt, whatever the time between two writes was.
const maxPaceSleep = 100 * time.Millisecond

type pacedFS struct {
	vfs.FS
	pace float64
	// now and sleep are time.Now and time.Sleep, or a test's.
	now   func() time.Time
	sleep func(time.Duration)
}

func newPacedFS(fs vfs.FS, pace float64) pacedFS {
	return pacedFS{FS: fs, pace: pace, now: time.Now, sleep: time.Sleep}
}

func (fs pacedFS) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := fs.FS.Create(name, category)
	if err != nil || category != compactionCategory || fs.pace <= 0 {
		return f, err
	}
	return &pacedFile{File: f, fs: fs}, nil
}

// pacedFile is one compaction output file.
type pacedFile struct {
	vfs.File
	fs   pacedFS
	last time.Time     // when the previous Write returned
	owed time.Duration // sleep owed, not yet slept
}

func (f *pacedFile) Write(p []byte) (int, error) {
	if !f.last.IsZero() {
		// The debt is capped at one sleep: a long gap (the compaction waited for a core,
		// or skipped deleted keys) must not make the next writes sleep on and on.
		f.owed = min(f.owed+time.Duration(float64(f.fs.now().Sub(f.last))*f.fs.pace), maxPaceSleep)
		if f.owed >= minPaceSleep {
			t0 := f.fs.now()
			f.fs.sleep(f.owed)
			f.owed = max(0, f.owed-f.fs.now().Sub(t0))
		}
	}
	n, err := f.File.Write(p)
	f.last = f.fs.now()
	return n, err
}
