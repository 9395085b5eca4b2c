package e2e

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/testserver"
)

// callLoad makes GetCallerIdentity calls from a few workers until stopped and collects the
// request IDs of the acknowledged ones.
type callLoad struct {
	stop  atomic.Bool
	wg    sync.WaitGroup
	mu    sync.Mutex
	acked []string
}

func startCallLoad(ctx context.Context, cfg aws.Config, workers int) *callLoad {
	l := &callLoad{}
	client := sts.NewFromConfig(cfg)
	for range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for !l.stop.Load() && ctx.Err() == nil {
				out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					time.Sleep(5 * time.Millisecond) // the server is down: do not spin
					continue
				}
				l.mu.Lock()
				l.acked = append(l.acked, requestID(out.ResultMetadata))
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *callLoad) finish() []string {
	l.stop.Store(true)
	l.wg.Wait()
	return l.acked
}

// waitDelivered polls the bucket until every acknowledged call is in a log file and
// returns how many times each request ID was delivered.
func waitDelivered(t *testing.T, store blob.Store, bucket string, acked []string, timeout time.Duration) map[string]int {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		count := map[string]int{}
		for _, r := range readLogFiles(t, store, bucket) {
			count[r.RequestID]++
		}
		missing := 0
		for _, id := range acked {
			if count[id] == 0 {
				missing++
			}
		}
		if missing == 0 {
			return count
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged calls never delivered", missing, len(acked))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestDeliveryKilledServer kills the server with SIGKILL at random moments while calls are
// made and log files delivered: after restarts every acknowledged call is delivered exactly
// once, and no record is in two log files.
func TestDeliveryKilledServer(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0xde1))
	srv := testserver.Start(t, testserver.WithArgs("--delivery-interval", "1s", "--regions", "us-east-1"))
	adminCreateBucket(t, srv)("crash-logs")
	store := blob.NewDir(filepath.Join(srv.DataDir, "buckets"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ct := cloudtrail.NewFromConfig(srv.RootConfig())
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("crash"), S3BucketName: aws.String("crash-logs"), EnableLogFileValidation: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("crash")}); err != nil {
		t.Fatal(err)
	}
	load := startCallLoad(ctx, srv.RootConfig(), 4)
	for range 6 {
		time.Sleep(500*time.Millisecond + time.Duration(rng.Int64N(int64(2*time.Second))))
		srv.Kill()
		srv.StartAgain()
	}
	time.Sleep(time.Second)
	acked := load.finish()
	if len(acked) < 100 {
		t.Fatalf("only %d calls acknowledged", len(acked))
	}
	count := waitDelivered(t, store, "crash-logs", acked, 30*time.Second)
	dups := 0
	for id, n := range count {
		if n > 1 {
			dups++
			if dups < 5 {
				t.Errorf("record %s delivered %d times", id, n)
			}
		}
	}
	if dups > 0 {
		t.Errorf("%d records delivered more than once", dups)
	}
	t.Logf("%d acknowledged calls, %d records delivered, across 6 kills", len(acked), len(count))
}
