// Command gateway benchmarks the S3 audit gateway against the store it fronts: throughput of
// 1 MiB and 64 MiB PUT/GET, the latency added to small-object GETs, and the gateway process's
// memory under 100 concurrent transfers. bench/gateway/run.sh starts versitygw and
// `opentrail serve --gateway-listen` (pass-through) and runs it.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	direct := flag.String("direct", "", "store URL")
	gateway := flag.String("gateway", "", "gateway URL")
	key := flag.String("key", "", "access key ID")
	secret := flag.String("secret", "", "secret access key")
	bucket := flag.String("bucket", "bench", "bucket (must exist)")
	dur := flag.Duration("dur", 10*time.Second, "duration of each throughput run")
	pid := flag.Int("pid", 0, "opentrail process ID, for memory (VmRSS/VmHWM)")
	flag.Parse()

	ctx := context.Background()
	client := func(u string, conns int) *s3.Client {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = conns
		tr.DisableCompression = true
		return s3.New(s3.Options{
			Region: "us-east-1", BaseEndpoint: aws.String(u), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(*key, *secret, ""),
			HTTPClient:  &http.Client{Transport: tr},
		})
	}
	targets := []struct{ name, url string }{{"direct", *direct}, {"gateway", *gateway}}

	fmt.Println("## throughput (MiB/s, PUT then GET, 4 concurrent)")
	for _, size := range []int{1 << 20, 64 << 20} {
		body := bytes.Repeat([]byte{0xA5}, size)
		for _, tg := range targets {
			c := client(tg.url, 8)
			put := run(ctx, 4, *dur, func(w, i int) int64 {
				k := fmt.Sprintf("tp/%d/%d-%d", size, w, i%4)
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &k, Body: bytes.NewReader(body)}); err != nil {
					log.Fatalf("%s put: %v", tg.name, err)
				}
				return int64(size)
			})
			get := run(ctx, 4, *dur, func(w, i int) int64 {
				k := fmt.Sprintf("tp/%d/%d-0", size, w)
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: &k})
				if err != nil {
					log.Fatalf("%s get: %v", tg.name, err)
				}
				n, _ := io.Copy(io.Discard, out.Body)
				out.Body.Close()
				return n
			})
			fmt.Printf("| %d MiB | %s | PUT %.1f MiB/s | GET %.1f MiB/s |\n", size>>20, tg.name, put, get)
		}
	}

	fmt.Println("## small-object GET latency (4 KiB, sequential, 2000 requests)")
	small := bytes.Repeat([]byte{1}, 4096)
	for _, tg := range targets {
		c := client(tg.url, 2)
		k := "lat/small"
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &k, Body: bytes.NewReader(small)}); err != nil {
			log.Fatal(err)
		}
		var lat []time.Duration
		for i := 0; i < 2000; i++ {
			t0 := time.Now()
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: &k})
			if err != nil {
				log.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, out.Body)
			out.Body.Close()
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		fmt.Printf("| %s | p50 %.2f ms | p90 %.2f ms | p99 %.2f ms |\n", tg.name, ms(lat[len(lat)/2]), ms(lat[len(lat)*9/10]), ms(lat[len(lat)*99/100]))
	}

	if *pid > 0 {
		fmt.Println("## memory: 100 concurrent 16 MiB PUTs then GETs through the gateway")
		fmt.Printf("before: %s\n", mem(*pid))
		c := client(*gateway, 128)
		body := bytes.Repeat([]byte{0x5A}, 16<<20)
		var wg sync.WaitGroup
		var peak atomic.Value
		stop := make(chan struct{})
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					peak.Store(mem(*pid))
				}
			}
		}()
		t0 := time.Now()
		for w := 0; w < 100; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				k := fmt.Sprintf("mem/%d", w)
				if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: &k, Body: bytes.NewReader(body)}); err != nil {
					log.Printf("put %d: %v", w, err)
					return
				}
				out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: &k})
				if err != nil {
					log.Printf("get %d: %v", w, err)
					return
				}
				_, _ = io.Copy(io.Discard, out.Body)
				out.Body.Close()
			}(w)
		}
		wg.Wait()
		close(stop)
		fmt.Printf("100 × (16 MiB PUT + GET) in %.1f s; during: %v; after: %s\n", time.Since(t0).Seconds(), peak.Load(), mem(*pid))
	}
}

// run calls fn from n workers for d and returns MiB/s.
func run(ctx context.Context, n int, d time.Duration, fn func(w, i int) int64) float64 {
	var total atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	t0 := time.Now()
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				total.Add(fn(w, i))
			}
		}(w)
	}
	wg.Wait()
	return float64(total.Load()) / (1 << 20) / time.Since(t0).Seconds()
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// mem reports VmRSS and VmHWM of a process.
func mem(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}
