package journal_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
)

const preallocSegSize = 16 << 10

// segFirst is the first sequence number of a segment file name.
func segFirst(t *testing.T, name string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSuffix(name, ".seg"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// recordBytes is the framed size of test payloads first..last.
func recordBytes(first, last int) int64 {
	var n int64
	for i := first; i <= last; i++ {
		n += frameLen(i)
	}
	return n
}

// checkSegmentSizes checks that every segment of dir ends exactly with its last record, the
// last segment's being record last.
func checkSegmentSizes(t *testing.T, dir string, last int) {
	t.Helper()
	files := segmentFiles(t, dir)
	for i, name := range files {
		end := last
		if i+1 < len(files) {
			end = segFirst(t, files[i+1]) - 1
		}
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := recordBytes(segFirst(t, name), end); fi.Size() != want {
			t.Errorf("%s: %d bytes; want %d (records %d..%d)", name, fi.Size(), want, segFirst(t, name), end)
		}
	}
}

// appendUntilPreallocated appends records one by one until the active segment is a
// preallocated one (its file is a whole segment of zeros and records) and returns the next
// record number.
func appendUntilPreallocated(t *testing.T, j *journal.Journal, dir string, next, segments int) int {
	t.Helper()
	seen := map[string]bool{}
	for limit := next + 5000; len(seen) < segments; next++ {
		if next == limit {
			t.Fatalf("no %d preallocated segments after %d records", segments, limit)
		}
		appendN(t, j, next, 1)
		seg := lastSegment(t, dir)
		if fi, err := os.Stat(seg); err == nil && fi.Size() == preallocSegSize {
			seen[seg] = true
		}
	}
	return next
}

// TestPreallocate checks that with Options.Preallocate the journal moves to prepared,
// zero-filled segments, keeps every record, seals segments at their last record, and leaves
// nothing but exact segments behind on Close.
func TestPreallocate(t *testing.T) {
	dir := t.TempDir()
	opts := journal.Options{SegmentSize: preallocSegSize, Preallocate: true}
	j := openJournal(t, dir, opts)
	next := appendUntilPreallocated(t, j, dir, 1, 3)
	checkRecords(t, readAll(t, j, 1), 1, next-1)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "prealloc.tmp")); !os.IsNotExist(err) {
		t.Errorf("prealloc.tmp after Close: %v", err)
	}
	checkSegmentSizes(t, dir, next-1)

	// Reopened without preallocation, the journal is an ordinary one.
	j = openJournal(t, dir, journal.Options{SegmentSize: preallocSegSize})
	appendN(t, j, next, 10)
	checkRecords(t, readAll(t, j, 1), 1, next+9)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	checkSegmentSizes(t, dir, next+9)
}

// TestPreallocateCrashState opens a copy of a preallocating journal taken while it was
// running (as a crash leaves it: zeros after the last record, maybe a prepared segment):
// Open keeps every record, reuses the zeros and removes the prepared file.
func TestPreallocateCrashState(t *testing.T) {
	dir := t.TempDir()
	opts := journal.Options{SegmentSize: preallocSegSize, Preallocate: true}
	j := openJournal(t, dir, opts)
	next := appendUntilPreallocated(t, j, dir, 1, 2)

	crashed := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name() == "LOCK" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(crashed, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A prepared segment half written when the process died.
	if err := os.WriteFile(filepath.Join(crashed, "prealloc.tmp"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	seg := lastSegment(t, crashed)
	if fi, _ := os.Stat(seg); fi.Size() != preallocSegSize {
		t.Fatalf("copied active segment has %d bytes; want a preallocated %d", fi.Size(), preallocSegSize)
	}

	c := openJournal(t, crashed, journal.Options{SegmentSize: preallocSegSize})
	checkRecords(t, readAll(t, c, 1), 1, next-1)
	if _, err := os.Stat(filepath.Join(crashed, "prealloc.tmp")); !os.IsNotExist(err) {
		t.Errorf("prealloc.tmp after Open: %v", err)
	}
	if fi, _ := os.Stat(seg); fi.Size() != preallocSegSize {
		t.Errorf("Open changed the preallocated segment to %d bytes", fi.Size())
	}
	appendN(t, c, next, 5)
	checkRecords(t, readAll(t, c, 1), 1, next+4)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	checkSegmentSizes(t, crashed, next+4)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPreallocateFailure makes every preparation fail: the journal keeps appending to
// ordinary segments, and leaves no prepared file behind.
func TestPreallocateFailure(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(journal.OSFS{})
	ffs.Inject(faultfs.FailOpPath(faultfs.OpWrite, "prealloc.tmp", syscall.ENOSPC))
	j := openJournal(t, dir, journal.Options{SegmentSize: preallocSegSize, Preallocate: true, FS: ffs})
	const n = 1000
	appendN(t, j, 1, n)
	checkRecords(t, readAll(t, j, 1), 1, n)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "prealloc.tmp")); !os.IsNotExist(err) {
		t.Errorf("prealloc.tmp after Close: %v", err)
	}
	checkSegmentSizes(t, dir, n)
}

// TestPreallocateSyncFailure fails the commits' fdatasync in a preallocated segment: the
// appends fail, the segment is rolled back, and the journal recovers.
func TestPreallocateSyncFailure(t *testing.T) {
	dir := t.TempDir()
	ffs := faultfs.New(journal.OSFS{})
	j := openJournal(t, dir, journal.Options{SegmentSize: preallocSegSize, Preallocate: true, FS: ffs})
	next := appendUntilPreallocated(t, j, dir, 1, 1)
	ffs.Inject(faultfs.FailOp(faultfs.OpSync, syscall.EIO))
	if _, err := j.Append(t.Context(), payload(next)); err == nil {
		t.Fatal("Append succeeded with fdatasync failing")
	}
	ffs.Heal()
	appendN(t, j, next, 50)
	checkRecords(t, readAll(t, j, 1), 1, next+49)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	checkSegmentSizes(t, dir, next+49)
}
