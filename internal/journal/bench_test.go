package journal_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
)

// benchDir returns a directory for a benchmark journal: in $JOURNAL_BENCH_DIR if set (for
// example /dev/shm, to measure the CPU cost without the disk), else a temporary directory.
func benchDir(b *testing.B) string {
	base := os.Getenv("JOURNAL_BENCH_DIR")
	if base == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(base, "journal-bench-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// BenchmarkAppendParallel measures acknowledged (fsynced) records per second with many
// concurrent callers, as in the server: callers = parallelism × GOMAXPROCS goroutines each
// appending in a loop. It reports records/s and the mean number of records per fsync.
func BenchmarkAppendParallel(b *testing.B) {
	for _, callers := range []int{16, 64, 256} {
		for _, size := range []int{1024, 2048} {
			b.Run(fmt.Sprintf("callers=%d/payload=%d", callers, size), func(b *testing.B) {
				ffs := faultfs.New(journal.OSFS{}) // counts the fsyncs
				j := openJournal(b, benchDir(b), journal.Options{FS: ffs})
				p := []byte(strings.Repeat("x", size))
				b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
				b.SetBytes(int64(size))
				b.ReportAllocs()
				syncs := ffs.Count(faultfs.OpSync)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := j.Append(context.Background(), p); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(b.N)/float64(max(1, ffs.Count(faultfs.OpSync)-syncs)), "records/fsync")
			})
		}
	}
}

// BenchmarkRead measures reading committed records sequentially.
func BenchmarkRead(b *testing.B) {
	const size = 1024
	j := openJournal(b, benchDir(b), journal.Options{SegmentSize: 16 << 20})
	ctx := context.Background()
	p := []byte(strings.Repeat("x", size))
	batch := make([][]byte, 0, 1000)
	for n := 0; n < b.N; n += len(batch) {
		batch = batch[:0]
		for range min(1000, b.N-n) {
			batch = append(batch, p)
		}
		if _, err := j.AppendBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	r := j.NewReader(1)
	defer r.Close()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, err := r.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
