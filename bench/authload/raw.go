package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// rawOpenLoop is the open loop with a lean client: conns persistent HTTP/1.1 connections,
// each a goroutine that writes the pre-built request bytes and reads the response itself, so
// that the load generator, which shares the machine's cores with the server, spends a few
// microseconds per request instead of net/http's client's tens. Requests are issued on a
// fixed schedule (a ticket per request, issued when it is due); a ticket waits while every
// connection is busy, and latency is measured from its issue, so a slow server is charged for
// the queue it causes (no coordinated omission, as wrk2).
func rawOpenLoop(endpoint string, hdr http.Header, rate, conns int, dur time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", u.Host, len(body))
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	req.WriteString("\r\n" + body)
	wire := req.Bytes()

	n := int(dur.Seconds()*float64(rate)) + 1
	tickets := make(chan time.Time, n)
	type result struct {
		lats []time.Duration
		errs int
	}
	results := make([]result, conns)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.Dial("tcp", u.Host)
		if err != nil {
			return err
		}
		defer c.Close()
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			br := bufio.NewReaderSize(c, 16<<10)
			for due := range tickets {
				if _, err := c.Write(wire); err != nil {
					r.errs++
					return
				}
				ok, err := readResponse(br)
				if err != nil {
					r.errs++
					return
				}
				if !ok {
					r.errs++
					continue
				}
				r.lats = append(r.lats, time.Since(due))
			}
		}(&results[i])
	}
	// The pacer wakes every 200 µs and issues the tickets due by then, stamped with the time
	// it issues them: its own lateness (a sleep overshoots) is the client's, not the server's.
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	issued := 0
	for issued < n {
		now := time.Now()
		for issued < n && !start.Add(time.Duration(issued)*interval).After(now) {
			tickets <- now
			issued++
		}
		time.Sleep(200 * time.Microsecond)
	}
	close(tickets)
	wg.Wait()
	elapsed := time.Since(start)
	var lats []time.Duration
	errs := 0
	for _, r := range results {
		lats = append(lats, r.lats...)
		errs += r.errs
	}
	slices.Sort(lats)
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[int(float64(len(lats)-1)*p)]
	}
	fmt.Printf("open loop (lean client, %d connections) at %d req/s: %d ok, %d errors in %.1fs = %.0f req/s; latency p50 %.2fms p90 %.2fms p99 %.2fms p99.9 %.2fms max %.2fms\n",
		conns, rate, len(lats), errs, elapsed.Seconds(), float64(len(lats))/elapsed.Seconds(),
		ms(pct(0.5)), ms(pct(0.9)), ms(pct(0.99)), ms(pct(0.999)), ms(pct(1)))
	if errs > 0 {
		fmt.Fprintf(os.Stderr, "%d requests failed\n", errs)
	}
	return nil
}

// readResponse reads one HTTP/1.1 response framed by Content-Length and reports whether its
// status was 200.
func readResponse(br *bufio.Reader) (bool, error) {
	status, err := br.ReadSlice('\n')
	if err != nil {
		return false, err
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	length := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 {
			break
		}
		if k, v, found := bytes.Cut(line, []byte(":")); found && bytes.EqualFold(k, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(v))); err != nil {
				return false, err
			}
		}
	}
	if length < 0 {
		return false, fmt.Errorf("response without Content-Length")
	}
	_, err = br.Discard(length)
	return ok, err
}
