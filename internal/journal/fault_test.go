package journal_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
)

// ledger records what appends were told, to check the journal against it.
type ledger struct {
	mu     sync.Mutex
	acked  map[uint64]string   // seq -> payload of acknowledged appends
	failed map[string]struct{} // payloads of failed appends
}

func newLedger() *ledger {
	return &ledger{acked: map[uint64]string{}, failed: map[string]struct{}{}}
}

// append appends p and records the outcome; errors other than ErrUnavailable fail the test.
func (l *ledger) append(t testing.TB, j *journal.Journal, p string) error {
	seq, err := j.Append(context.Background(), []byte(p))
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		if !errors.Is(err, journal.ErrUnavailable) {
			t.Errorf("Append(%q) = %v; want ErrUnavailable", p, err)
		}
		l.failed[p] = struct{}{}
		return err
	}
	if old, dup := l.acked[seq]; dup {
		t.Errorf("seq %d acknowledged for %q and %q", seq, old, p)
	}
	l.acked[seq] = p
	return nil
}

// check verifies that recs (the whole journal) are exactly the acknowledged records.
func (l *ledger) check(t testing.TB, recs []journal.Record) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(recs) != len(l.acked) {
		t.Errorf("journal has %d records; %d were acknowledged", len(recs), len(l.acked))
	}
	for i, rec := range recs {
		if rec.Seq != uint64(i+1) {
			t.Fatalf("record %d has seq %d", i, rec.Seq)
		}
		if _, bad := l.failed[string(rec.Payload)]; bad {
			t.Fatalf("seq %d holds %q, whose append failed", rec.Seq, rec.Payload)
		}
		if want := l.acked[rec.Seq]; string(rec.Payload) != want {
			t.Fatalf("seq %d = %q; acknowledged %q", rec.Seq, rec.Payload, want)
		}
	}
}

func segmentSize(t testing.TB, dir string) int64 {
	t.Helper()
	files := segmentFiles(t, dir)
	fi, err := os.Stat(filepath.Join(dir, files[len(files)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// failN returns an injector that fails the first n operations op on paths containing substr.
func failN(op faultfs.Op, substr string, n int, err error) faultfs.Injector {
	var count atomic.Int64
	return func(o faultfs.Op, path string) error {
		if o == op && strings.Contains(path, substr) && count.Add(1) <= int64(n) {
			return err
		}
		return nil
	}
}

func TestWriteFailures(t *testing.T) {
	for _, test := range []struct {
		name   string
		inject func(ffs *faultfs.FS)
		want   error
		broken bool // the rollback fails too: appends fail until healed
		once   bool // only one operation fails
	}{
		{"disk full mid-record", func(ffs *faultfs.FS) { ffs.LimitWrites(20, syscall.ENOSPC) }, syscall.ENOSPC, false, false},
		{"disk full", func(ffs *faultfs.FS) { ffs.LimitWrites(0, syscall.ENOSPC) }, syscall.ENOSPC, false, false},
		{"read-only", func(ffs *faultfs.FS) { ffs.Inject(faultfs.FailOp(faultfs.OpWrite, syscall.EROFS)) }, syscall.EROFS, false, false},
		{"fsync fails once", func(ffs *faultfs.FS) { ffs.Inject(failN(faultfs.OpSync, ".seg", 1, syscall.EIO)) }, syscall.EIO, false, true},
		{"fsync keeps failing", func(ffs *faultfs.FS) { ffs.Inject(faultfs.FailOpPath(faultfs.OpSync, ".seg", syscall.EIO)) }, syscall.EIO, true, false},
		{"fsync and truncate fail", func(ffs *faultfs.FS) {
			ffs.Inject(faultfs.FailOpPath(faultfs.OpSync, ".seg", syscall.EIO))
			ffs.Inject(faultfs.FailOp(faultfs.OpTruncate, syscall.EIO))
		}, syscall.EIO, true, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(journal.OSFS{})
			j := openJournal(t, dir, journal.Options{FS: ffs})
			l := newLedger()
			for i := range 10 {
				if err := l.append(t, j, fmt.Sprintf("good %d", i)); err != nil {
					t.Fatal(err)
				}
			}
			goodSize := segmentSize(t, dir)
			tail := j.NewReader(11)
			defer tail.Close()

			test.inject(ffs)
			// Concurrent appends share the failing commit group; while the disk fails, all
			// of them fail.
			appenders := 8
			if test.once {
				appenders = 1
			}
			var wg sync.WaitGroup
			for i := range appenders {
				wg.Go(func() {
					err := l.append(t, j, fmt.Sprintf("failed %d", i))
					if !errors.Is(err, journal.ErrUnavailable) || !errors.Is(err, test.want) {
						t.Errorf("Append during failure = %v; want ErrUnavailable wrapping %v", err, test.want)
					}
				})
			}
			wg.Wait()
			if got := j.LastSeq(); got != 10 {
				t.Errorf("LastSeq after failures = %d; want 10", got)
			}
			if test.broken {
				if err := l.append(t, j, "while broken"); !errors.Is(err, journal.ErrUnavailable) {
					t.Errorf("Append while the rollback fails = %v; want ErrUnavailable", err)
				}
			} else if got := segmentSize(t, dir); got != goodSize {
				t.Errorf("segment size after failed appends = %d; want %d (rolled back)", got, goodSize)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			if rec, err := tail.Next(ctx); err == nil {
				t.Errorf("reader saw %d %q after failed appends", rec.Seq, rec.Payload)
			}
			cancel()

			ffs.Heal()
			if err := l.append(t, j, "after heal"); err != nil {
				t.Fatalf("Append after heal: %v", err)
			}
			rec, err := tail.Next(context.Background())
			if err != nil || rec.Seq != 11 || string(rec.Payload) != "after heal" {
				t.Errorf("reader after heal = {%d %q}, %v; want {11 \"after heal\"}", rec.Seq, rec.Payload, err)
			}
			l.check(t, readAll(t, j, 1))
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			j = openJournal(t, dir, journal.Options{})
			l.check(t, readAll(t, j, 1))
		})
	}
}

// TestFailureDuringClose closes the journal while a failed commit cannot be rolled back:
// Close retries the rollback, and reports an error if it still fails.
func TestFailureDuringClose(t *testing.T) {
	for _, heal := range []bool{false, true} {
		t.Run(fmt.Sprintf("heal=%v", heal), func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(journal.OSFS{})
			j := openJournal(t, dir, journal.Options{FS: ffs})
			l := newLedger()
			if err := l.append(t, j, "good"); err != nil {
				t.Fatal(err)
			}
			ffs.Inject(faultfs.FailOpPath(faultfs.OpSync, ".seg", syscall.EIO))
			ffs.Inject(faultfs.FailOp(faultfs.OpTruncate, syscall.EIO))
			if err := l.append(t, j, "bad"); err == nil {
				t.Fatal("Append succeeded with fsync failing")
			}
			if !heal {
				// The failed record stays in the file past the committed end; after a
				// restart Open cannot tell it from one whose fsync was interrupted by a
				// crash (docs/journal.md, "Failure semantics").
				if err := j.Close(); err == nil {
					t.Error("Close with a failing rollback returned nil")
				}
				return
			}
			ffs.Heal()
			if err := j.Close(); err != nil {
				t.Errorf("Close after heal: %v", err)
			}
			j = openJournal(t, dir, journal.Options{})
			l.check(t, readAll(t, j, 1))
		})
	}
}

// TestRollFailure fails the creation of a new segment: appends fail, nothing more goes into
// the full segment (a file named after the next record may exist), and the journal recovers.
func TestRollFailure(t *testing.T) {
	for _, test := range []struct {
		name   string
		inject faultfs.Injector
	}{
		{"create fails", func(op faultfs.Op, path string) error {
			if op == faultfs.OpOpen && strings.HasSuffix(path, ".seg") {
				return syscall.ENOSPC
			}
			return nil
		}},
		{"directory fsync fails", func(op faultfs.Op, path string) error {
			if op == faultfs.OpSync && !strings.HasSuffix(path, ".seg") {
				return syscall.EIO
			}
			return nil
		}},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := t.TempDir()
			ffs := faultfs.New(journal.OSFS{})
			opts := journal.Options{FS: ffs, SegmentSize: 1000}
			j := openJournal(t, dir, opts)
			l := newLedger()
			for i := 0; segmentSize(t, dir) < 900; i++ {
				if err := l.append(t, j, fmt.Sprintf("filler %d", i)); err != nil {
					t.Fatal(err)
				}
			}
			ffs.Inject(test.inject)
			if err := l.append(t, j, strings.Repeat("big", 50)); !errors.Is(err, journal.ErrUnavailable) {
				t.Fatalf("Append needing a new segment = %v; want ErrUnavailable", err)
			}
			// A small record would fit in the old segment, but a roll is under way.
			if err := l.append(t, j, "s"); !errors.Is(err, journal.ErrUnavailable) {
				t.Fatalf("small Append during a failed roll = %v; want ErrUnavailable", err)
			}
			ffs.Heal()
			if err := l.append(t, j, "s2"); err != nil {
				t.Fatalf("Append after heal: %v", err)
			}
			l.check(t, readAll(t, j, 1))
			if n := len(segmentFiles(t, dir)); n != 2 {
				t.Errorf("%d segments; want 2", n)
			}
			j.Close()
			j = openJournal(t, dir, journal.Options{SegmentSize: 1000})
			l.check(t, readAll(t, j, 1))
		})
	}
}

// TestRandomFaults appends from many goroutines while writes, fsyncs, truncations and segment
// creation fail at random, with a reader tailing. The reader sees only acknowledged records,
// and after healing and reopening the journal holds exactly the acknowledged records.
func TestRandomFaults(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(journal.OSFS{})
	j := openJournal(t, dir, journal.Options{FS: ffs, SegmentSize: 4 << 10})
	l := newLedger()
	var failing atomic.Bool
	rng := rand.New(rand.NewPCG(7, 11))
	var rngMu sync.Mutex
	ffs.Inject(func(op faultfs.Op, path string) error {
		if !failing.Load() {
			return nil
		}
		rngMu.Lock()
		p := rng.Float64()
		rngMu.Unlock()
		switch {
		case op == faultfs.OpWrite && p < 0.3:
			return syscall.ENOSPC
		case op == faultfs.OpSync && p < 0.3:
			return syscall.EIO
		case op == faultfs.OpTruncate && p < 0.2:
			return syscall.EIO
		case op == faultfs.OpOpen && strings.HasSuffix(path, ".seg") && p < 0.3:
			return syscall.EROFS
		}
		return nil
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tailed := make(chan journal.Record, 1024)
	go func() {
		r := j.NewReader(1)
		defer r.Close()
		for {
			rec, err := r.Next(ctx)
			var ce *journal.CorruptionError
			switch {
			case errors.Is(err, context.Canceled):
				return
			case errors.As(err, &ce):
				t.Errorf("reader: %v", err)
				return
			case err != nil:
				// Opening the next segment failed (injected); Next can be retried.
				time.Sleep(time.Millisecond)
				continue
			}
			tailed <- rec
		}
	}()
	var seen []journal.Record
	collect := func(until uint64) {
		timeout := time.After(10 * time.Second)
		for uint64(len(seen)) < until {
			select {
			case rec := <-tailed:
				seen = append(seen, rec)
			case <-timeout:
				t.Fatalf("reader saw %d records; want %d", len(seen), until)
			}
		}
	}

	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 150 {
				failing.Store(i%30 >= 10 && i%30 < 20)
				_ = l.append(t, j, fmt.Sprintf("w%d-%d-%s", w, i, strings.Repeat("p", i%40)))
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case rec := <-tailed:
			seen = append(seen, rec)
		case <-done:
			running = false
		}
	}
	failing.Store(false)
	ffs.Heal()
	if err := l.append(t, j, "final"); err != nil {
		t.Fatalf("Append after heal: %v", err)
	}
	last := j.LastSeq()
	if last != uint64(len(l.acked)) {
		t.Fatalf("LastSeq = %d; %d records acknowledged", last, len(l.acked))
	}
	collect(last)
	cancel()
	t.Logf("%d acknowledged, %d failed", len(l.acked), len(l.failed))
	if len(l.failed) == 0 || len(l.acked) < 100 {
		t.Errorf("%d acknowledged, %d failed: the test did not exercise failures", len(l.acked), len(l.failed))
	}
	l.check(t, seen)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openJournal(t, dir, journal.Options{SegmentSize: 4 << 10})
	l.check(t, readAll(t, j, 1))
}

func TestCursorWriteFailure(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(journal.OSFS{})
	j := openJournal(t, dir, journal.Options{FS: ffs})
	appendN(t, j, 1, 5)
	if err := j.SetCursor("c", 2); err != nil {
		t.Fatal(err)
	}
	for _, op := range []faultfs.Op{faultfs.OpWrite, faultfs.OpSync, faultfs.OpRename} {
		ffs.Inject(faultfs.FailOp(op, syscall.EIO))
		if err := j.SetCursor("c", 4); !errors.Is(err, syscall.EIO) {
			t.Errorf("SetCursor with failing %v = %v; want EIO", op, err)
		}
		ffs.Heal()
		if got, err := j.Cursor("c"); err != nil || got != 2 {
			t.Errorf("Cursor after failed SetCursor (%v) = %d, %v; want 2", op, got, err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cursors"))
	if err != nil || len(entries) != 1 {
		t.Errorf("cursors directory = %v, %v; want just the cursor", entries, err)
	}
}
