// Command authload measures authenticated no-op calls (STS GetCallerIdentity) against a
// running server: every request carries a real SigV4 signature that the server verifies.
//
//	go run ./bench/authload -endpoint http://127.0.0.1:8470 -key AKID -secret SECRET -c 64 -d 10s
//	go run ./bench/authload ... -rate 10000 -d 10s     # open loop at a fixed rate: latency percentiles
//	go run ./bench/authload ... -rate 10000 -lean -c 64 # the same with the lean client (raw.go)
//	go run ./bench/authload ... -wrk-script out.lua    # write a wrk script with the signed request
//
// One signature is reused for the whole run (a signature stays valid for 15 minutes, as on AWS),
// so the load generator spends its CPU on HTTP, not on signing.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

const body = "Action=GetCallerIdentity&Version=2011-06-15"

// maxInFlight bounds the requests in flight in the open loop.
const maxInFlight = 4096

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:8470", "server URL")
	key := flag.String("key", os.Getenv("AWS_ACCESS_KEY_ID"), "access key ID")
	secret := flag.String("secret", os.Getenv("AWS_SECRET_ACCESS_KEY"), "secret access key")
	region := flag.String("region", "us-east-1", "region")
	conns := flag.Int("c", 64, "concurrent connections (closed loop)")
	rate := flag.Int("rate", 0, "requests per second (open loop); 0 means as fast as possible")
	dur := flag.Duration("d", 10*time.Second, "duration")
	wrkScript := flag.String("wrk-script", "", "write a wrk Lua script for the signed request and exit")
	lean := flag.Bool("lean", false, "open loop with the lean client (raw HTTP/1.1 on -c connections; see raw.go)")
	flag.Parse()

	hdr, err := sign(*endpoint, *key, *secret, *region)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *wrkScript != "" {
		writeWrk(*wrkScript, hdr)
		return
	}
	if *lean && *rate > 0 {
		if err := rawOpenLoop(*endpoint, hdr, *rate, *conns, *dur); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	// Keep every connection the run opens: in the open loop, requests in flight can outnumber
	// -c for a moment, and closing the surplus connections afterwards (the default idle limit)
	// would make the next burst dial new ones, measuring connection set-up, not the server.
	tr := &http.Transport{MaxIdleConnsPerHost: max(*conns+16, maxInFlight), MaxConnsPerHost: 0, DisableCompression: true}
	client := &http.Client{Transport: tr}
	do := func() (time.Duration, bool) {
		req, _ := http.NewRequest(http.MethodPost, *endpoint+"/", strings.NewReader(body))
		req.Header = hdr.Clone()
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, false
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return time.Since(t0), resp.StatusCode == http.StatusOK
	}
	if ok := func() bool { _, ok := do(); return ok }(); !ok {
		fmt.Fprintln(os.Stderr, "the first signed request failed: check the endpoint and credentials")
		os.Exit(1)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var (
		mu      sync.Mutex
		lats    []time.Duration
		okN     atomic.Int64
		errN    atomic.Int64
		wg      sync.WaitGroup
		started = time.Now()
	)
	record := func(d time.Duration, ok bool) {
		if !ok {
			errN.Add(1)
			return
		}
		okN.Add(1)
		mu.Lock()
		lats = append(lats, d)
		mu.Unlock()
	}
	if *rate == 0 {
		for i := 0; i < *conns; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					record(do())
				}
			}()
		}
	} else {
		interval := time.Second / time.Duration(*rate)
		sem := make(chan struct{}, maxInFlight)
		next := time.Now()
		for ctx.Err() == nil {
			next = next.Add(interval)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				record(do())
				<-sem
			}()
		}
	}
	wg.Wait()
	elapsed := time.Since(started)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[int(float64(len(lats)-1)*p)]
	}
	mode := fmt.Sprintf("closed loop, %d connections", *conns)
	if *rate > 0 {
		mode = fmt.Sprintf("open loop at %d req/s", *rate)
	}
	fmt.Printf("%s: %d ok, %d errors in %.1fs = %.0f req/s; latency p50 %.2fms p90 %.2fms p99 %.2fms max %.2fms\n",
		mode, okN.Load(), errN.Load(), elapsed.Seconds(), float64(okN.Load())/elapsed.Seconds(),
		ms(pct(0.5)), ms(pct(0.9)), ms(pct(0.99)), ms(pct(1)))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func sign(endpoint, key, secret, region string) (http.Header, error) {
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "sts", region, time.Now())
	if err != nil {
		return nil, err
	}
	return req.Header, nil
}

func writeWrk(path string, hdr http.Header) {
	var b bytes.Buffer
	b.WriteString("wrk.method = \"POST\"\n")
	fmt.Fprintf(&b, "wrk.body = %q\n", body)
	for k, vs := range hdr {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, vs[0])
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
