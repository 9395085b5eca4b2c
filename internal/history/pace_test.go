package history

import (
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// A compaction's output file sleeps pace times the time between writes (accumulating short
// debts, capping the debt at one sleep); other files are not paced.
func TestPacedFS(t *testing.T) {
	now := time.Unix(1000, 0)
	var slept []time.Duration
	fs := newPacedFS(vfs.NewMem(), 2)
	fs.now = func() time.Time { return now }
	fs.sleep = func(d time.Duration) { slept = append(slept, d); now = now.Add(d) }

	f, err := fs.Create("000001.sst", compactionCategory)
	if err != nil {
		t.Fatal(err)
	}
	write := func(busy time.Duration) {
		t.Helper()
		now = now.Add(busy)
		if _, err := f.Write([]byte("block")); err != nil {
			t.Fatal(err)
		}
	}
	write(time.Second)            // first write: nothing owed yet
	write(500 * time.Microsecond) // owes 1 ms: below minPaceSleep, kept
	write(1500 * time.Microsecond)
	write(time.Second) // owes 2 s, capped: one sleep of maxPaceSleep
	want := []time.Duration{4 * time.Millisecond, maxPaceSleep}
	if len(slept) != len(want) || slept[0] != want[0] || slept[1] != want[1] {
		t.Fatalf("slept %v; want %v", slept, want)
	}
	if p := f.(*pacedFile); p.owed != 0 {
		t.Fatalf("still owed %v; want nothing (the debt is capped)", p.owed)
	}

	g, err := fs.Create("000002.sst", "pebble-memtable-flush")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := g.(*pacedFile); ok {
		t.Fatal("a flush's file is paced")
	}
	off := newPacedFS(vfs.NewMem(), -1)
	h, err := off.Create("000003.sst", compactionCategory)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.(*pacedFile); ok {
		t.Fatal("pacing turned off, yet the compaction's file is paced")
	}
}
