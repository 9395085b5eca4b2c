// Command delivery measures trail delivery.
//
// Throughput: how many records per second the delivery pipeline turns into gzip log files in
// a bucket — routing by selectors, gzip, the outbox commit and the upload — with the real
// delivery package, metadata store and bucket store, fed from memory (the journal's own read
// speed is measured by bench/capture):
//
//	go run ./bench/delivery -mode throughput -n 1000000 -dir /var/tmp
//	go run ./bench/delivery -mode throughput -n 1000000 -dir /var/tmp -s3-endpoint http://127.0.0.1:7070 -s3-access-key-id ID -s3-secret-access-key SECRET
//
// Latency: the time from an acknowledged API call to its record being readable in a
// delivered object, through a real `opentrail serve` at a 1 s delivery interval, with calls at
// a steady rate and the bucket polled every 20 ms:
//
//	go run ./bench/delivery -mode latency -bin ./opentrail -rate 200 -d 30s [-s3-... as above]
//
// run.sh runs both against the local bucket and a versitygw server.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail/internal/blob"
	ctrail "github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/delivery"
	"github.com/opentrail/opentrail/internal/kv"
)

const account = "123456789012"

func main() {
	mode := flag.String("mode", "throughput", "throughput or latency")
	n := flag.Int("n", 1_000_000, "throughput: records to deliver")
	dir := flag.String("dir", os.TempDir(), "directory on the disk to measure (metadata store, local buckets, server data dir)")
	records := flag.String("records", "/work/shared/testdata/cloudtrail-records.jsonl", "CloudTrail records, one JSON object a line")
	s3 := blob.S3Options{}
	flag.StringVar(&s3.Endpoint, "s3-endpoint", "", "S3-compatible endpoint; default a local bucket directory")
	flag.StringVar(&s3.AccessKeyID, "s3-access-key-id", "", "")
	flag.StringVar(&s3.SecretAccessKey, "s3-secret-access-key", "", "")
	flag.StringVar(&s3.Region, "s3-region", "us-east-1", "")
	bin := flag.String("bin", "./opentrail", "latency: the opentrail binary")
	rate := flag.Int("rate", 200, "latency: calls per second")
	dur := flag.Duration("d", 30*time.Second, "latency: how long calls are made")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile here")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}

	work, err := os.MkdirTemp(*dir, "bench-delivery-")
	check(err)
	defer os.RemoveAll(work)
	switch *mode {
	case "throughput":
		check(throughput(work, *records, *n, s3))
	case "latency":
		check(latency(work, *bin, *rate, *dur, s3))
	default:
		check(fmt.Errorf("unknown -mode %q", *mode))
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "delivery bench:", err)
		os.Exit(1)
	}
}

// buckets returns the bucket store and creates bucket in it.
func buckets(work string, s3 blob.S3Options, bucket string) (blob.Store, error) {
	var store blob.Store = blob.NewDir(filepath.Join(work, "buckets"))
	if s3.Endpoint != "" {
		var err error
		if store, err = blob.NewS3(s3); err != nil {
			return nil, err
		}
	}
	if err := store.CreateBucket(context.Background(), bucket); err != nil && !errors.Is(err, blob.ErrBucketExists) {
		return nil, err
	}
	return store, nil
}

// loadRecords returns the sample records as compact JSON, made records of the benchmark
// account in us-east-1 at the current time.
func loadRecords(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	now := time.Now().UTC().Format("2006-01-02T15:04:05Z")
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		m["recipientAccountId"], m["awsRegion"], m["eventTime"] = account, "us-east-1", now
		m["managementEvent"], m["eventCategory"] = true, "Management"
		if _, ok := m["readOnly"].(bool); !ok {
			m["readOnly"] = false
		}
		b, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, sc.Err()
}

// memSource serves n records cycling through samples.
type memSource struct {
	samples [][]byte
	n, next int
}

func (s *memSource) Next(ctx context.Context) (uint64, []byte, error) {
	if s.next >= s.n {
		<-ctx.Done()
		return 0, nil, ctx.Err()
	}
	s.next++
	return uint64(s.next), s.samples[s.next%len(s.samples)], nil
}

type oneTrail struct{ t ctrail.Trail }

func (o *oneTrail) EachTrail(fn func(ctrail.Trail) error) error { return fn(o.t) }
func (o *oneTrail) UpdateDeliveryStatus(string, string, string, func(*ctrail.DeliveryStatus)) error {
	return nil
}

func throughput(work, recordsPath string, n int, s3 blob.S3Options) error {
	samples, err := loadRecords(recordsPath)
	if err != nil {
		return err
	}
	size := 0
	for _, s := range samples {
		size += len(s)
	}
	store, err := kv.Open(filepath.Join(work, "meta"), nil)
	if err != nil {
		return err
	}
	defer store.Close()
	bs, err := buckets(work, s3, "bench-delivery")
	if err != nil {
		return err
	}
	tr := ctrail.Trail{AccountID: account, Name: "bench", HomeRegion: "us-east-1", S3BucketName: "bench-delivery",
		IncludeGlobalServiceEvents: true, EventSelectors: ctrail.DefaultEventSelectors()}
	tr.Status.IsLogging, tr.Status.StartLoggingTime = true, time.Now().Add(-time.Hour)
	d, err := delivery.New(delivery.Options{Store: store, Buckets: bs, Trails: &oneTrail{tr}, Interval: time.Second})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- d.Run(ctx, &memSource{samples: samples, n: n}) }()
	for {
		time.Sleep(20 * time.Millisecond)
		if d.Cursor() < uint64(n) {
			continue
		}
		if left, err := d.Outbox(); err != nil || left > 0 {
			continue
		}
		break
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-done; err != nil {
		return err
	}
	files, bytesOut := 0, int64(0)
	err = bs.List(context.Background(), "bench-delivery", "AWSLogs/", "", func(o blob.Object) error {
		files++
		bytesOut += o.Size
		return nil
	})
	if err != nil {
		return err
	}
	target := "local bucket " + filepath.Join(work, "buckets")
	if s3.Endpoint != "" {
		target = "S3 " + s3.Endpoint
	}
	avg := float64(size) / float64(len(samples))
	fmt.Printf("delivery throughput (%s): %d records (avg %.0f B) in %v = %.0f records/s, %.1f MB/s uncompressed; %d files, %.1f MB gzip\n",
		target, n, avg, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), float64(n)*avg/elapsed.Seconds()/1e6, files, float64(bytesOut)/1e6)
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func latency(work, bin string, rate int, dur time.Duration, s3 blob.S3Options) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	data := filepath.Join(work, "data")
	const akid, secret = "AKIABENCHDELIVERY001", "bench-delivery-secret-0123456789abcdefgh"
	args := []string{"serve", "--data-dir", data, "--listen", addr, "--account-id", account,
		"--root-access-key-id", akid, "--root-secret-access-key", secret, "--log-level", "warn",
		"--delivery-interval", "1s", "--regions", "us-east-1"}
	if s3.Endpoint != "" {
		args = append(args, "--s3-endpoint", s3.Endpoint, "--s3-access-key-id", s3.AccessKeyID, "--s3-region", s3.Region)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "OPENTRAIL_S3_SECRET_ACCESS_KEY="+s3.SecretAccessKey)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			return errors.New("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	bs, err := buckets(filepath.Join(data), s3, "bench-latency")
	if err != nil {
		return err
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}
	ctx := context.Background()
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("latency"), S3BucketName: aws.String("bench-latency")}); err != nil {
		return err
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("latency")}); err != nil {
		return err
	}

	var mu sync.Mutex
	acked := map[string]time.Time{}
	seen := map[string]time.Duration{}
	stsc := sts.NewFromConfig(cfg)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	// Callers: one call every 1/rate seconds, each in its own goroutine so that a slow call
	// does not delay the schedule.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		end := time.Now().Add(dur)
		for time.Now().Before(end) {
			<-tick.C
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := stsc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if err != nil {
					return
				}
				id, _ := awsmiddleware.GetRequestIDMetadata(out.ResultMetadata)
				mu.Lock()
				acked[id] = time.Now()
				mu.Unlock()
			}()
		}
	}()
	// Watcher: polls the bucket for new log files and notes when each record became readable.
	read := map[string]bool{}
	poll := func() error {
		var keys []string
		err := bs.List(ctx, "bench-latency", "AWSLogs/", "", func(o blob.Object) error {
			if !read[o.Key] {
				keys = append(keys, o.Key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			o, err := bs.Get(ctx, "bench-latency", k)
			if err != nil {
				return err
			}
			at := time.Now()
			read[k] = true
			zr, err := gzip.NewReader(bytes.NewReader(o.Body))
			if err != nil {
				return err
			}
			raw, err := io.ReadAll(zr)
			if err != nil {
				return err
			}
			var body struct {
				Records []struct {
					RequestID string `json:"requestID"`
				}
			}
			if err := json.Unmarshal(raw, &body); err != nil {
				return err
			}
			mu.Lock()
			for _, r := range body.Records {
				if t, ok := acked[r.RequestID]; ok {
					seen[r.RequestID] = at.Sub(t)
				}
			}
			mu.Unlock()
		}
		return nil
	}
	go func() { wg.Wait(); close(stop) }()
	finished := false
	for {
		if err := poll(); err != nil {
			return err
		}
		if !finished {
			select {
			case <-stop:
				finished = true
			default:
			}
		}
		mu.Lock()
		complete := finished && len(seen) == len(acked)
		mu.Unlock()
		if complete {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var ls []time.Duration
	for _, d := range seen {
		ls = append(ls, d)
	}
	slices.Sort(ls)
	p := func(q float64) time.Duration {
		return ls[min(len(ls)-1, int(q*float64(len(ls))))].Round(time.Millisecond)
	}
	target := "local bucket"
	if s3.Endpoint != "" {
		target = "S3 " + s3.Endpoint
	}
	fmt.Printf("call→object latency (%s, delivery interval 1s, %d calls/s for %v, bucket polled every 20ms): %d calls, p50 %v, p90 %v, p99 %v, max %v\n",
		target, rate, dur, len(ls), p(0.50), p(0.90), p(0.99), ls[len(ls)-1].Round(time.Millisecond))
	if !strings.Contains(target, "S3") {
		_ = os.RemoveAll(data)
	}
	return nil
}
