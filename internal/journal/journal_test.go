package journal_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/journal"
)

// testLogger logs through t when -v is set.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return nil
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// openJournal opens the journal in dir and closes it at the end of the test.
func openJournal(t testing.TB, dir string, opts journal.Options) *journal.Journal {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	j, err := journal.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = j.Close() }) // tests that care close it themselves
	return j
}

// payload is the test payload of record i.
func payload(i int) []byte { return fmt.Appendf(nil, "record %d %s", i, strings.Repeat("x", i%50)) }

// appendN appends n test payloads one by one and checks their sequence numbers.
func appendN(t testing.TB, j *journal.Journal, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		seq, err := j.Append(context.Background(), payload(i))
		if err != nil || seq != uint64(i) {
			t.Fatalf("Append(record %d) = %d, %v; want %d, nil", i, seq, err, i)
		}
	}
}

// readAll reads every record from seq from up to LastSeq.
func readAll(t testing.TB, j *journal.Journal, from uint64) []journal.Record {
	t.Helper()
	r := j.NewReader(from)
	defer r.Close()
	var recs []journal.Record
	for last := j.LastSeq(); from+uint64(len(recs)) <= last; {
		rec, err := r.Next(context.Background())
		if err != nil {
			t.Fatalf("Next after %d records from %d: %v", len(recs), from, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// checkRecords checks that recs are the test payloads from..from+len-1.
func checkRecords(t testing.TB, recs []journal.Record, from, n int) {
	t.Helper()
	if len(recs) != n {
		t.Fatalf("got %d records; want %d", len(recs), n)
	}
	for i, rec := range recs {
		want := from + i
		if rec.Seq != uint64(want) || string(rec.Payload) != string(payload(want)) {
			t.Fatalf("record %d = {%d %q}; want {%d %q}", i, rec.Seq, rec.Payload, want, payload(want))
		}
	}
}

func segmentFiles(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range names {
		names[i] = filepath.Base(names[i])
	}
	slices.Sort(names)
	return names
}

func TestAppendAndReopen(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{})
	if got := j.LastSeq(); got != 0 {
		t.Errorf("LastSeq of new journal = %d; want 0", got)
	}
	if got := j.FirstSeq(); got != 1 {
		t.Errorf("FirstSeq of new journal = %d; want 1", got)
	}
	appendN(t, j, 1, 100)
	if got := j.LastSeq(); got != 100 {
		t.Errorf("LastSeq = %d; want 100", got)
	}
	checkRecords(t, readAll(t, j, 1), 1, 100)
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := segmentFiles(t, dir); !slices.Equal(got, []string{"00000000000000000001.seg"}) {
		t.Errorf("segment files = %v", got)
	}

	j = openJournal(t, dir, journal.Options{})
	if got := j.LastSeq(); got != 100 {
		t.Errorf("LastSeq after reopen = %d; want 100", got)
	}
	appendN(t, j, 101, 10)
	checkRecords(t, readAll(t, j, 1), 1, 110)
}

func TestAppendBatch(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{MaxBatch: 2})
	ctx := context.Background()
	appendN(t, j, 1, 3)
	var batch [][]byte
	for i := 4; i < 4+10; i++ {
		batch = append(batch, payload(i))
	}
	// MaxBatch is 2, yet a batch of 10 is committed whole.
	first, err := j.AppendBatch(ctx, batch)
	if err != nil || first != 4 {
		t.Fatalf("AppendBatch = %d, %v; want 4, nil", first, err)
	}
	if first, err := j.AppendBatch(ctx, nil); err != nil || first != 0 {
		t.Errorf("AppendBatch(nil) = %d, %v; want 0, nil", first, err)
	}
	appendN(t, j, 14, 1)
	checkRecords(t, readAll(t, j, 1), 1, 14)
}

func TestTooLarge(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{})
	ctx := context.Background()
	if _, err := j.Append(ctx, make([]byte, journal.MaxPayloadSize+1)); !errors.Is(err, journal.ErrTooLarge) {
		t.Errorf("Append(MaxPayloadSize+1) error = %v; want ErrTooLarge", err)
	}
	if _, err := j.AppendBatch(ctx, [][]byte{make([]byte, journal.MaxPayloadSize+1)}); !errors.Is(err, journal.ErrTooLarge) {
		t.Errorf("AppendBatch(MaxPayloadSize+1) error = %v; want ErrTooLarge", err)
	}
	big := make([][]byte, 5)
	for i := range big {
		big[i] = make([]byte, journal.MaxPayloadSize)
	}
	if _, err := j.AppendBatch(ctx, big); !errors.Is(err, journal.ErrTooLarge) {
		t.Errorf("AppendBatch(5 MiB) error = %v; want ErrTooLarge", err)
	}
	seq, err := j.Append(ctx, make([]byte, journal.MaxPayloadSize))
	if err != nil || seq != 1 {
		t.Errorf("Append(MaxPayloadSize) = %d, %v; want 1, nil", seq, err)
	}
	if got := j.LastSeq(); got != 1 {
		t.Errorf("LastSeq = %d; want 1", got)
	}
}

func TestSegmentRollover(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{SegmentSize: 1000})
	appendN(t, j, 1, 200)
	// A record bigger than a segment gets a segment of its own.
	big := make([]byte, 3000)
	if seq, err := j.Append(context.Background(), big); err != nil || seq != 201 {
		t.Fatalf("Append(big) = %d, %v", seq, err)
	}
	files := segmentFiles(t, dir)
	if len(files) < 10 {
		t.Fatalf("%d segment files for 200 records in 1000-byte segments; want more: %v", len(files), files)
	}
	// Every file is named after its first record, and the sizes respect the limit.
	for _, name := range files {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 1000 && fi.Size() != 16+3000 {
			t.Errorf("%s has %d bytes; want at most 1000", name, fi.Size())
		}
	}
	check := func(j *journal.Journal) {
		t.Helper()
		recs := readAll(t, j, 1)
		checkRecords(t, recs[:200], 1, 200)
		if len(recs[200].Payload) != 3000 {
			t.Errorf("record 201 has %d bytes; want 3000", len(recs[200].Payload))
		}
		for from := 1; from <= 200; from += 37 {
			checkRecords(t, readAll(t, j, uint64(from))[:200-from+1], from, 200-from+1)
		}
	}
	check(j)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	j = openJournal(t, dir, journal.Options{SegmentSize: 1000})
	check(j)
	j.Close()
	j = openJournal(t, dir, journal.Options{SegmentSize: 1000, SkipVerify: true})
	check(j)
}

func TestReaderWaitsForCommits(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{})
	r := j.NewReader(0)
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next on empty journal = %v; want DeadlineExceeded", err)
	}

	got := make(chan journal.Record)
	go func() {
		rec, err := r.Next(context.Background())
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		got <- rec
	}()
	time.Sleep(10 * time.Millisecond)
	appendN(t, j, 1, 1)
	select {
	case rec := <-got:
		if rec.Seq != 1 || string(rec.Payload) != string(payload(1)) {
			t.Errorf("Next = {%d %q}; want record 1", rec.Seq, rec.Payload)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next did not return after Append")
	}

	// A reader from beyond the end waits for that record.
	r2 := j.NewReader(5)
	defer r2.Close()
	appendN(t, j, 2, 4)
	rec, err := r2.Next(context.Background())
	if err != nil || rec.Seq != 5 {
		t.Errorf("Next from 5 = %d, %v; want 5", rec.Seq, err)
	}
}

func TestConcurrentAppendersAndReaders(t *testing.T) {
	const (
		writers   = 64
		perWriter = 200
		readers   = 3
		total     = writers * perWriter
	)
	j := openJournal(t, t.TempDir(), journal.Options{SegmentSize: 64 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// acked[seq] is the payload Append acknowledged with that sequence number.
	var (
		mu    sync.Mutex
		acked = make(map[uint64]string, total)
	)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				p := fmt.Sprintf("writer %d record %d", w, i)
				var seq uint64
				var err error
				if i%10 == 9 {
					seq, err = j.AppendBatch(ctx, [][]byte{[]byte(p)})
				} else {
					seq, err = j.Append(ctx, []byte(p))
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				if old, dup := acked[seq]; dup {
					t.Errorf("seq %d acknowledged twice: %q and %q", seq, old, p)
				}
				acked[seq] = p
				mu.Unlock()
			}
		})
	}

	results := make([][]journal.Record, readers)
	var rwg sync.WaitGroup
	for i := range readers {
		rwg.Go(func() {
			r := j.NewReader(1)
			defer r.Close()
			for len(results[i]) < total {
				rec, err := r.Next(ctx)
				if err != nil {
					t.Errorf("reader %d: Next: %v", i, err)
					return
				}
				if last := j.LastSeq(); rec.Seq > last {
					t.Errorf("reader %d saw seq %d beyond LastSeq %d", i, rec.Seq, last)
				}
				results[i] = append(results[i], rec)
			}
		})
	}
	wg.Wait()
	rwg.Wait()
	if t.Failed() {
		return
	}
	if len(acked) != total {
		t.Fatalf("%d records acknowledged; want %d", len(acked), total)
	}
	for i, recs := range results {
		for k, rec := range recs {
			if rec.Seq != uint64(k+1) {
				t.Fatalf("reader %d: record %d has seq %d; want %d", i, k, rec.Seq, k+1)
			}
			if string(rec.Payload) != acked[rec.Seq] {
				t.Fatalf("reader %d: seq %d = %q; acknowledged %q", i, rec.Seq, rec.Payload, acked[rec.Seq])
			}
		}
	}
}

func TestAppendContextCancelled(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := j.Append(ctx, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Append with cancelled ctx = %v; want Canceled", err)
	}
	if got := j.LastSeq(); got != 0 {
		t.Errorf("LastSeq = %d; want 0", got)
	}
}

// TestAppendCancelRace cancels appends at random points: every append either fails with the
// context's error and is not in the journal, or succeeds with its record in the journal.
func TestAppendCancelRace(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{})
	var (
		mu    sync.Mutex
		acked = map[uint64]string{}
	)
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := range 50 {
				p := fmt.Sprintf("%d/%d", w, i)
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*50*time.Microsecond)
				seq, err := j.Append(ctx, []byte(p))
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					acked[seq] = p
					mu.Unlock()
				case !errors.Is(err, context.DeadlineExceeded):
					t.Errorf("Append = %v", err)
				}
			}
		})
	}
	wg.Wait()
	recs := readAll(t, j, 1)
	if len(recs) != len(acked) {
		t.Fatalf("journal has %d records; %d were acknowledged", len(recs), len(acked))
	}
	for _, rec := range recs {
		if acked[rec.Seq] != string(rec.Payload) {
			t.Fatalf("seq %d = %q; acknowledged %q", rec.Seq, rec.Payload, acked[rec.Seq])
		}
	}
}

func TestClose(t *testing.T) {
	j := openJournal(t, t.TempDir(), journal.Options{})
	appendN(t, j, 1, 3)
	waiting := j.NewReader(4)
	defer waiting.Close()
	done := make(chan error)
	go func() {
		_, err := waiting.Next(context.Background())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	if err := j.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, journal.ErrClosed) {
			t.Errorf("waiting Next after Close = %v; want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Next did not return after Close")
	}
	if err := j.Close(); err != nil {
		t.Errorf("second Close = %v; want nil", err)
	}
	ctx := context.Background()
	if _, err := j.Append(ctx, []byte("x")); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("Append after Close = %v; want ErrClosed", err)
	}
	if _, err := j.AppendBatch(ctx, [][]byte{[]byte("x")}); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("AppendBatch after Close = %v; want ErrClosed", err)
	}
	if _, err := j.NewReader(1).Next(ctx); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("Next after Close = %v; want ErrClosed", err)
	}
	if err := j.SetCursor("c", 1); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("SetCursor after Close = %v; want ErrClosed", err)
	}
	if err := j.TruncateFront(2); !errors.Is(err, journal.ErrClosed) {
		t.Errorf("TruncateFront after Close = %v; want ErrClosed", err)
	}
}

// TestCloseFlushes closes the journal while appends are queued: every one either commits or
// fails with ErrClosed, and the committed ones survive.
func TestCloseFlushes(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{})
	var (
		mu    sync.Mutex
		acked = map[uint64]string{}
	)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("%d/%d", w, i)
				seq, err := j.Append(context.Background(), []byte(p))
				if errors.Is(err, journal.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acked[seq] = p
				mu.Unlock()
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	j = openJournal(t, dir, journal.Options{})
	recs := readAll(t, j, 1)
	if len(recs) != len(acked) {
		t.Fatalf("journal has %d records; %d were acknowledged", len(recs), len(acked))
	}
	for _, rec := range recs {
		if acked[rec.Seq] != string(rec.Payload) {
			t.Fatalf("seq %d = %q; acknowledged %q", rec.Seq, rec.Payload, acked[rec.Seq])
		}
	}
}

func TestLocked(t *testing.T) {
	dir := t.TempDir()
	openJournal(t, dir, journal.Options{})
	if j, err := journal.Open(dir, journal.Options{}); err == nil {
		j.Close()
		t.Fatal("second Open of the same directory succeeded; want an error")
	}
}

func TestOpenOptions(t *testing.T) {
	for _, opts := range []journal.Options{{SegmentSize: -1}, {MaxBatch: -1}} {
		if j, err := journal.Open(t.TempDir(), opts); err == nil {
			j.Close()
			t.Errorf("Open(%+v) succeeded; want an error", opts)
		}
	}
}

func TestTruncateFront(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{SegmentSize: 500})
	appendN(t, j, 1, 100)
	before := segmentFiles(t, dir)

	// A reader positioned in an old segment keeps its file handle.
	early := j.NewReader(2)
	defer early.Close()
	if rec, err := early.Next(context.Background()); err != nil || rec.Seq != 2 {
		t.Fatalf("Next = %d, %v", rec.Seq, err)
	}

	if err := j.TruncateFront(50); err != nil {
		t.Fatalf("TruncateFront(50): %v", err)
	}
	after := segmentFiles(t, dir)
	if len(after) >= len(before) {
		t.Fatalf("segments after TruncateFront(50) = %v; before %v", after, before)
	}
	first := j.FirstSeq()
	if first > 50 || first <= 1 {
		t.Fatalf("FirstSeq after TruncateFront(50) = %d; want in (1, 50]", first)
	}
	if got := after[0]; got != fmt.Sprintf("%020d.seg", first) {
		t.Errorf("first segment %s; FirstSeq %d", got, first)
	}
	checkRecords(t, readAll(t, j, 50), 50, 51)
	checkRecords(t, readAll(t, j, first), int(first), 100-int(first)+1)
	if _, err := j.NewReader(1).Next(context.Background()); !errors.Is(err, journal.ErrTruncated) {
		t.Errorf("Next from 1 after truncation = %v; want ErrTruncated", err)
	}
	if rec, err := early.Next(context.Background()); err != nil || rec.Seq != 3 {
		t.Errorf("Next on early reader = %d, %v; want 3", rec.Seq, err)
	}

	// Truncating everything keeps the active segment.
	if err := j.TruncateFront(1000); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); len(got) != 1 {
		t.Errorf("segments after TruncateFront(1000) = %v; want just the active one", got)
	}
	last := j.LastSeq()
	j.Close()
	j = openJournal(t, dir, journal.Options{SegmentSize: 500})
	if j.LastSeq() != last {
		t.Errorf("LastSeq after reopen = %d; want %d", j.LastSeq(), last)
	}
	appendN(t, j, int(last)+1, 5)
	checkRecords(t, readAll(t, j, j.FirstSeq()), int(j.FirstSeq()), int(last+5-j.FirstSeq()+1))
}

// TestTruncateFrontBefore: only segments last written before the time go, oldest first, and
// never past seq.
func TestTruncateFrontBefore(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{SegmentSize: 500})
	defer j.Close()
	appendN(t, j, 1, 100)
	segs := segmentFiles(t, dir)
	if len(segs) < 5 {
		t.Fatalf("segments %v; want at least 5", segs)
	}
	old, now := time.Now().Add(-100*24*time.Hour), time.Now()
	// The first three segments are old, the fourth recent, the rest old again.
	for i, name := range segs {
		m := old
		if i == 3 {
			m = now
		}
		if err := os.Chtimes(filepath.Join(dir, name), m, m); err != nil {
			t.Fatal(err)
		}
	}
	cutoff := now.Add(-90 * 24 * time.Hour)
	// seq inside the second segment: only the first may go.
	var second uint64
	fmt.Sscanf(segs[1], "%020d.seg", &second)
	if err := j.TruncateFrontBefore(second+1, cutoff); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); !slices.Equal(got, segs[1:]) {
		t.Fatalf("after TruncateFrontBefore(%d) = %v; want %v", second+1, got, segs[1:])
	}
	// Every record is below seq now, but the fourth segment is recent: it and what follows stay.
	if err := j.TruncateFrontBefore(1000, cutoff); err != nil {
		t.Fatal(err)
	}
	if got := segmentFiles(t, dir); !slices.Equal(got, segs[3:]) {
		t.Fatalf("after TruncateFrontBefore(1000) = %v; want %v", got, segs[3:])
	}
	var fourth uint64
	fmt.Sscanf(segs[3], "%020d.seg", &fourth)
	if j.FirstSeq() != fourth {
		t.Errorf("FirstSeq = %d; want %d", j.FirstSeq(), fourth)
	}
	checkRecords(t, readAll(t, j, fourth), int(fourth), 100-int(fourth)+1)
}

func TestCursors(t *testing.T) {
	dir := t.TempDir()
	j := openJournal(t, dir, journal.Options{})
	appendN(t, j, 1, 10)
	if got, err := j.Cursor("delivery"); err != nil || got != 0 {
		t.Errorf("Cursor of unknown consumer = %d, %v; want 0, nil", got, err)
	}
	for _, seq := range []uint64{3, 7, 5} {
		if err := j.SetCursor("delivery", seq); err != nil {
			t.Fatalf("SetCursor(%d): %v", seq, err)
		}
		if got, err := j.Cursor("delivery"); err != nil || got != seq {
			t.Errorf("Cursor = %d, %v; want %d", got, err, seq)
		}
	}
	if err := j.SetCursor("history", 10); err != nil {
		t.Fatal(err)
	}
	if err := j.SetCursor("history", 11); err == nil {
		t.Error("SetCursor beyond LastSeq succeeded; want an error")
	}
	for _, name := range []string{"", ".x", "a/b", "../x"} {
		if err := j.SetCursor(name, 1); err == nil {
			t.Errorf("SetCursor(%q) succeeded; want an error", name)
		}
		if _, err := j.Cursor(name); err == nil {
			t.Errorf("Cursor(%q) succeeded; want an error", name)
		}
	}
	j.Close()

	// A temporary file left by a crash in SetCursor is ignored and removed.
	tmp := filepath.Join(dir, "cursors", ".delivery.tmp")
	if err := os.WriteFile(tmp, []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	j = openJournal(t, dir, journal.Options{})
	for name, want := range map[string]uint64{"delivery": 5, "history": 10} {
		if got, err := j.Cursor(name); err != nil || got != want {
			t.Errorf("Cursor(%q) after reopen = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Errorf("temporary cursor file still there after Open: %v", err)
	}

	// A damaged cursor file is reported, not read as 0.
	if err := os.WriteFile(filepath.Join(dir, "cursors", "history"), []byte("OTJC\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *journal.CorruptionError
	if _, err := j.Cursor("history"); !errors.As(err, &ce) {
		t.Errorf("Cursor of damaged file = %v; want *CorruptionError", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cursors", "history"), []byte("short"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := j.Cursor("history"); !errors.As(err, &ce) {
		t.Errorf("Cursor of short file = %v; want *CorruptionError", err)
	}
}
