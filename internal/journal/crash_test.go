package journal_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/journal"
)

// Environment of the child process of TestCrash.
const (
	crashDirEnv  = "JOURNAL_CRASH_DIR"
	crashIterEnv = "JOURNAL_CRASH_ITER"
)

// crashOptions are the options of the crash test: small segments, so that kills land in
// rollovers too, and preallocation, which prepares segments from 32 KiB on, so that kills
// also land in preparations, early rollovers and preallocated segments.
func crashOptions() journal.Options {
	return journal.Options{SegmentSize: 128 << 10, Preallocate: true}
}

// crashPayload is the payload of record id: the id, filler and a hash of both, so that a
// damaged record is detected independently of the journal's own checksum.
func crashPayload(id string) []byte {
	body := id + ":" + strings.Repeat("abcdefgh", 16+len(id)%16)
	sum := sha256.Sum256([]byte(body))
	return []byte(body + ":" + hex.EncodeToString(sum[:8]))
}

// TestCrash runs a child process that appends from many goroutines and prints every
// acknowledged sequence number, kills it with SIGKILL at a random moment, reopens the journal
// and checks that every acknowledged record is there exactly once and intact. It repeats this
// on the same journal, so recovery also runs on journals that earlier crashes left behind.
func TestCrash(t *testing.T) {
	if os.Getenv(crashDirEnv) != "" {
		t.Skip("running as the child of TestCrash")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no test executable:", err)
	}
	iterations := 24
	if testing.Short() {
		iterations = 5
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	acked := map[uint64]string{} // seq -> id, over all iterations
	cursor := uint64(0)          // highest cursor value the children acknowledged
	deadline := time.Now().Add(2 * time.Minute)
	for it := range iterations {
		if time.Now().After(deadline) {
			t.Fatalf("only %d iterations within the time limit", it)
		}
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashIterEnv+"="+strconv.Itoa(it))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lines []string
		readDone := make(chan struct{})
		ready := make(chan struct{})
		go func() {
			defer close(readDone)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if sc.Text() == "ready" {
					close(ready)
				}
				lines = append(lines, sc.Text())
			}
		}()
		// Kill at a random moment: every fourth time from the start (possibly during
		// Open and recovery), otherwise while appending.
		if it%4 != 3 {
			select {
			case <-ready:
			case <-readDone:
			case <-time.After(10 * time.Second):
				t.Fatalf("iteration %d: child not ready", it)
			}
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-readDone
		_ = cmd.Wait() // killed: the error is expected

		ackedNow := 0
		for _, line := range lines {
			f := strings.Fields(line)
			switch {
			case len(f) == 3 && f[0] == "ack":
				seq, err := strconv.ParseUint(f[1], 10, 64)
				if err != nil {
					t.Fatalf("bad line %q", line)
				}
				if old, dup := acked[seq]; dup {
					t.Fatalf("iteration %d: seq %d acknowledged for %s and earlier for %s", it, seq, f[2], old)
				}
				acked[seq] = f[2]
				ackedNow++
			case len(f) == 2 && f[0] == "cursor":
				c, err := strconv.ParseUint(f[1], 10, 64)
				if err != nil {
					t.Fatalf("bad line %q", line)
				}
				cursor = max(cursor, c)
			case len(f) > 0 && f[0] == "error":
				t.Fatalf("iteration %d: child: %s", it, line)
			}
		}

		j, err := journal.Open(dir, crashOptions())
		if err != nil {
			t.Fatalf("iteration %d: Open after kill: %v", it, err)
		}
		seen := map[string]uint64{}
		r := j.NewReader(1)
		for seq := uint64(1); seq <= j.LastSeq(); seq++ {
			rec, err := r.Next(context.Background())
			if err != nil {
				t.Fatalf("iteration %d: Next(%d): %v", it, seq, err)
			}
			if rec.Seq != seq {
				t.Fatalf("iteration %d: got seq %d; want %d", it, rec.Seq, seq)
			}
			id, _, _ := strings.Cut(string(rec.Payload), ":")
			if string(crashPayload(id)) != string(rec.Payload) {
				t.Fatalf("iteration %d: seq %d: damaged payload %q", it, seq, rec.Payload)
			}
			if prev, dup := seen[id]; dup {
				t.Fatalf("iteration %d: %s stored twice, at %d and %d", it, id, prev, seq)
			}
			seen[id] = seq
		}
		r.Close()
		for seq, id := range acked {
			if got, ok := seen[id]; !ok || got != seq {
				t.Fatalf("iteration %d: acknowledged %s at seq %d; journal has it at %d (present %v)", it, id, seq, got, ok)
			}
		}
		c, err := j.Cursor("crash")
		if err != nil || c < cursor || c > j.LastSeq() {
			t.Fatalf("iteration %d: Cursor = %d, %v; acknowledged %d, LastSeq %d", it, c, err, cursor, j.LastSeq())
		}
		t.Logf("iteration %d: %d acknowledged now, %d records in the journal", it, ackedNow, j.LastSeq())
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCrashChild is the child process of TestCrash; it does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		return
	}
	iter := os.Getenv(crashIterEnv)
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		// One write per line: a line in the pipe means the append was acknowledged.
		_, _ = os.Stdout.WriteString(fmt.Sprintf(format, args...) + "\n")
	}
	j, err := journal.Open(dir, crashOptions())
	if err != nil {
		say("error open: %v", err)
		os.Exit(1)
	}
	say("ready")
	ctx := context.Background()
	for w := range 32 {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-%d-%d", iter, w, i)
				var seq uint64
				var err error
				if i%8 == 7 {
					// A batch of two: both records or neither.
					id2 := id + "b"
					seq, err = j.AppendBatch(ctx, [][]byte{crashPayload(id), crashPayload(id2)})
					if err == nil {
						say("ack %d %s", seq, id)
						say("ack %d %s", seq+1, id2)
					}
				} else {
					seq, err = j.Append(ctx, crashPayload(id))
					if err == nil {
						say("ack %d %s", seq, id)
					}
				}
				if err != nil {
					say("error append: %v", err)
					os.Exit(1)
				}
			}
		}()
	}
	go func() {
		for {
			time.Sleep(2 * time.Millisecond)
			seq := j.LastSeq()
			if err := j.SetCursor("crash", seq); err != nil {
				say("error cursor: %v", err)
				os.Exit(1)
			}
			say("cursor %d", seq)
		}
	}()
	time.Sleep(30 * time.Second) // killed long before
	os.Exit(2)
}
