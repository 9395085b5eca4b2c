// Command capture measures the journal's append throughput as the server uses it: many
// concurrent appenders, each appending one realistic CloudTrail record (JSON, about 1.5 KB,
// taken from the shared test records) and waiting for it to be fsynced, as every API call does
// before its response is written.
//
//	go run ./bench/capture -dir /var/tmp -c 64,256 -d 10s
//	go run ./bench/capture -count DATA_DIR/journal    # how many records a stopped server's journal holds
//
// It prints, per concurrency level, acknowledged records per second, records per fsync and the
// append latency percentiles, then the peak resident set size of the process (VmHWM). The
// journal goes in a fresh directory under -dir, which should be on the disk to be measured
// (not a tmpfs), and is removed afterwards. run.sh runs it together with the HTTP benchmarks.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
)

func main() {
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure; the journal goes in a new subdirectory")
	conc := flag.String("c", "64,256", "comma-separated numbers of concurrent appenders")
	dur := flag.Duration("d", 10*time.Second, "duration of each run")
	records := flag.String("records", "/work/shared/testdata/cloudtrail-records.jsonl", "CloudTrail records, one JSON object a line")
	minSize := flag.Int("min", 1200, "smallest record used, in bytes (compact JSON)")
	maxSize := flag.Int("max", 2000, "largest record used, in bytes (compact JSON)")
	count := flag.String("count", "", "only open the journal in this directory (its server stopped) and print how many records it holds")
	flag.Parse()

	if *count != "" {
		j, err := journal.Open(*count, journal.Options{})
		if err != nil {
			fail(err)
		}
		fmt.Printf("journal %s: records %d to %d\n", *count, j.FirstSeq(), j.LastSeq())
		if err := j.Close(); err != nil {
			fail(err)
		}
		return
	}

	payloads, err := loadRecords(*records, *minSize, *maxSize)
	if err != nil {
		fail(err)
	}
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	fmt.Printf("journal: %d distinct records of %d-%d bytes, mean %d bytes; journal under %s\n",
		len(payloads), *minSize, *maxSize, total/len(payloads), *dir)
	for _, f := range strings.Split(*conc, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fail(fmt.Errorf("-c: bad number %q", f))
		}
		if err := run(*dir, n, *dur, payloads); err != nil {
			fail(err)
		}
	}
	fmt.Printf("journal: peak RSS (VmHWM) %s\n", vmHWM())
}

// loadRecords reads the records, compacts them and keeps those within [min, max] bytes.
func loadRecords(path string, minSize, maxSize int) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var b bytes.Buffer
		if err := json.Compact(&b, sc.Bytes()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if b.Len() >= minSize && b.Len() <= maxSize {
			out = append(out, b.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no record of %d-%d bytes", path, minSize, maxSize)
	}
	return out, nil
}

// run appends from n goroutines for d and prints the result.
func run(base string, n int, d time.Duration, payloads [][]byte) error {
	dir, err := os.MkdirTemp(base, "capture-journal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ffs := faultfs.New(journal.OSFS{}) // injects nothing; counts the fsyncs
	j, err := journal.Open(dir, journal.Options{FS: ffs})
	if err != nil {
		return err
	}
	defer j.Close()

	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var (
		wg      sync.WaitGroup
		acked   atomic.Int64
		bytesN  atomic.Int64
		errN    atomic.Int64
		lats    histogram // fixed size, so that the peak RSS is the journal's, not the samples'
		syncs0  = ffs.Count(faultfs.OpSync)
		started = time.Now()
	)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; ctx.Err() == nil; i++ {
				p := payloads[i%len(payloads)]
				t0 := time.Now()
				if _, err := j.Append(context.Background(), p); err != nil {
					errN.Add(1)
					continue
				}
				lats.add(time.Since(t0))
				acked.Add(1)
				bytesN.Add(int64(len(p)))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(started)
	syncs := ffs.Count(faultfs.OpSync) - syncs0
	if errN.Load() > 0 {
		return fmt.Errorf("%d appends failed", errN.Load())
	}
	if got := j.LastSeq(); got != uint64(acked.Load()) {
		return fmt.Errorf("journal holds %d records, %d were acknowledged", got, acked.Load())
	}
	fmt.Printf("journal: %d appenders: %d records in %.1fs = %.0f records/s (%.1f MB/s), %.1f records/fsync; append latency p50 %s p99 %s max %s\n",
		n, acked.Load(), elapsed.Seconds(), float64(acked.Load())/elapsed.Seconds(),
		float64(bytesN.Load())/elapsed.Seconds()/1e6, float64(acked.Load())/float64(max(1, syncs)),
		lats.quantile(0.5), lats.quantile(0.99), lats.quantile(1))
	return nil
}

// histogram counts latencies in 10 µs buckets up to 1 s (slower ones in the last bucket).
type histogram struct {
	buckets [histBuckets]atomic.Int64
}

const (
	histStep    = 10 * time.Microsecond
	histBuckets = int(time.Second / histStep)
)

func (h *histogram) add(d time.Duration) {
	h.buckets[min(int(d/histStep), histBuckets-1)].Add(1)
}

// quantile returns the upper bound of the bucket that holds quantile q (0 < q <= 1).
func (h *histogram) quantile(q float64) string {
	var total int64
	for i := range h.buckets {
		total += h.buckets[i].Load()
	}
	want := int64(math.Ceil(q * float64(total)))
	var seen int64
	for i := range h.buckets {
		if seen += h.buckets[i].Load(); seen >= want && seen > 0 {
			if i == histBuckets-1 {
				return ">1s"
			}
			return fmt.Sprintf("%.2fms", float64(time.Duration(i+1)*histStep)/float64(time.Millisecond))
		}
	}
	return "n/a"
}

// vmHWM is the process's peak resident set size as /proc/self/status reports it.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "capture:", err)
	os.Exit(1)
}
