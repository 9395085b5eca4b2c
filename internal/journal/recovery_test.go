package journal_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/opentrail/opentrail/internal/journal"
)

// frameLen is the framed size of test payload i.
func frameLen(i int) int64 { return int64(16 + len(payload(i))) }

// writeJournal creates a journal in a new directory with records 1..n and closes it.
func writeJournal(t *testing.T, opts journal.Options, n int) string {
	t.Helper()
	dir := t.TempDir()
	j := openJournal(t, dir, opts)
	appendN(t, j, 1, n)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	files := segmentFiles(t, dir)
	return filepath.Join(dir, files[len(files)-1])
}

// TestTornTail cuts the last segment at every byte offset inside its last record: Open must
// keep every earlier record, drop the partial one, and give its sequence number to the next
// append.
func TestTornTail(t *testing.T) {
	const n = 20
	dir := writeJournal(t, journal.Options{}, n)
	seg := lastSegment(t, dir)
	full, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	start := int64(len(full)) - frameLen(n)
	for cut := start; cut < int64(len(full)); cut++ {
		if err := os.WriteFile(seg, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		j := openJournal(t, dir, journal.Options{})
		if got := j.LastSeq(); got != n-1 {
			t.Fatalf("cut at %d: LastSeq = %d; want %d", cut, got, n-1)
		}
		checkRecords(t, readAll(t, j, 1), 1, n-1)
		if fi, err := os.Stat(seg); err != nil || fi.Size() != start {
			t.Fatalf("cut at %d: segment size after Open = %v, %v; want %d", cut, fi.Size(), err, start)
		}
		appendN(t, j, n, 1) // the lost record's sequence number is reused
		checkRecords(t, readAll(t, j, 1), 1, n)
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestTornTailGarbage puts what a power failure can leave after the last good record: zeros,
// garbage, a damaged copy of a record. Open truncates it, except zeros, which it keeps as
// preallocated space until Close.
func TestTornTailGarbage(t *testing.T) {
	const n = 30
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for _, test := range []struct {
		name string
		tail func(full []byte) []byte
	}{
		{"zeros", func([]byte) []byte { return make([]byte, 4096) }},
		{"random", func([]byte) []byte { return random }},
		{"old record with bad crc", func(full []byte) []byte {
			b := append([]byte(nil), full[len(full)-int(frameLen(n)):]...)
			b[len(b)-1] ^= 0xff
			return b
		}},
		{"record with wrong sequence number", func(full []byte) []byte {
			return append([]byte(nil), full[len(full)-int(frameLen(n)):]...) // seq n again
		}},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := writeJournal(t, journal.Options{}, n)
			seg := lastSegment(t, dir)
			full, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, append(full, test.tail(full)...), 0o644); err != nil {
				t.Fatal(err)
			}
			j := openJournal(t, dir, journal.Options{})
			checkRecords(t, readAll(t, j, 1), 1, n)
			appendN(t, j, n+1, 1)
			want := int64(len(full)) + frameLen(n+1)
			if test.name == "zeros" {
				// Zeros are what preallocation leaves after the last record: Open keeps
				// them, the next record overwrites them, and Close cuts the rest away.
				want = int64(len(full) + len(test.tail(full)))
			}
			if fi, _ := os.Stat(seg); fi.Size() != want {
				t.Errorf("segment size = %d; want %d", fi.Size(), want)
			}
			if err := j.Close(); err != nil {
				t.Fatal(err)
			}
			if fi, _ := os.Stat(seg); fi.Size() != int64(len(full))+frameLen(n+1) {
				t.Errorf("segment size after Close = %d; want %d", fi.Size(), int64(len(full))+frameLen(n+1))
			}
			j = openJournal(t, dir, journal.Options{})
			checkRecords(t, readAll(t, j, 1), 1, n+1)
		})
	}
}

// TestCorruption damages sealed segments and the middle of the last one: Open (or, with
// SkipVerify, the Reader that gets there) returns a *CorruptionError naming the file and the
// offset, and never skips data silently.
func TestCorruption(t *testing.T) {
	const segSize = 2000
	opts := journal.Options{SegmentSize: segSize}
	for _, test := range []struct {
		name     string
		damage   func(t *testing.T, dir string) (path string, off int64)
		atOpen   bool // even with SkipVerify, Open reports it
		readFrom uint64
	}{
		{"bit flip in sealed segment", func(t *testing.T, dir string) (string, int64) {
			files := segmentFiles(t, dir)
			path := filepath.Join(dir, files[1])
			off := frameLen(1) + frameLen(2) // inside some record after the first
			flipByte(t, path, off+20)
			return path, recordStart(t, path, off+20)
		}, false, 1},
		{"sealed segment cut short", func(t *testing.T, dir string) (string, int64) {
			files := segmentFiles(t, dir)
			path := filepath.Join(dir, files[1])
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()-3); err != nil {
				t.Fatal(err)
			}
			return path, recordStart(t, path, fi.Size()-3)
		}, false, 1},
		{"first record of sealed segment", func(t *testing.T, dir string) (string, int64) {
			path := filepath.Join(dir, segmentFiles(t, dir)[2])
			flipByte(t, path, 9)
			return path, 0
		}, true, 1},
		{"missing segment", func(t *testing.T, dir string) (string, int64) {
			files := segmentFiles(t, dir)
			if err := os.Remove(filepath.Join(dir, files[2])); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, files[1])
			fi, _ := os.Stat(path)
			return path, fi.Size()
		}, false, 1},
	} {
		t.Run(test.name, func(t *testing.T) {
			dir := writeJournal(t, opts, 300)
			if n := len(segmentFiles(t, dir)); n < 4 {
				t.Fatalf("only %d segments", n)
			}
			path, off := test.damage(t, dir)

			_, err := journal.Open(dir, opts)
			checkCorruption(t, "Open", err, path, off)

			j, err := journal.Open(dir, journal.Options{SegmentSize: segSize, SkipVerify: true})
			if test.atOpen {
				checkCorruption(t, "Open with SkipVerify", err, path, off)
				return
			}
			if err != nil {
				t.Fatalf("Open with SkipVerify: %v", err)
			}
			defer j.Close()
			r := j.NewReader(test.readFrom)
			defer r.Close()
			for {
				rec, err := r.Next(context.Background())
				if err != nil {
					checkCorruption(t, "Next", err, path, off)
					// It keeps reporting it.
					_, err = r.Next(context.Background())
					checkCorruption(t, "second Next", err, path, off)
					return
				}
				if rec.Seq == j.LastSeq() {
					t.Fatal("read the whole journal without an error")
				}
			}
		})
	}
}

// TestCorruptionInLastSegment flips a bit far before the end of the last segment: a torn
// write cannot leave good records more than MaxBatchBytes after the damage, so Open reports
// corruption instead of truncating acknowledged records.
func TestCorruptionInLastSegment(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{})
	rec := make([]byte, 1000)
	batch := make([][]byte, 1000) // ~1 MB
	for i := range batch {
		batch[i] = rec
	}
	for range 6 {
		if _, err := j.AppendBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()
	seg := lastSegment(t, dir)
	flipByte(t, seg, 100)
	_, err := journal.Open(dir, journal.Options{})
	checkCorruption(t, "Open", err, seg, 0)

	// Damage within MaxBatchBytes of the end is taken for a torn tail.
	flipByte(t, seg, 100) // repair
	fi, _ := os.Stat(seg)
	flipByte(t, seg, fi.Size()-journal.MaxBatchBytes+5000)
	j = openJournal(t, dir, journal.Options{})
	if last := j.LastSeq(); last >= 6000 || last < 6000-journal.MaxBatchBytes/1016-1 {
		t.Errorf("LastSeq after torn tail = %d", last)
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// recordStart returns the offset of the record that holds byte off of a segment.
func recordStart(t *testing.T, path string, off int64) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var start int64
	for {
		n := int64(16 + int(b[start]) | int(b[start+1])<<8)
		if start+n > off {
			return start
		}
		start += n
	}
}

func checkCorruption(t *testing.T, what string, err error, path string, off int64) {
	t.Helper()
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("%s error = %v; want *CorruptionError", what, err)
	}
	if ce.Path != path || ce.Offset != off {
		t.Errorf("%s: CorruptionError at %s:%d; want %s:%d (%v)", what, ce.Path, ce.Offset, path, off, err)
	}
}
