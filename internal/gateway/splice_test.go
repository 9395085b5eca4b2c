package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func bytesOut(t *testing.T, raw json.RawMessage) int64 {
	t.Helper()
	var ad additionalData
	if err := json.Unmarshal(raw, &ad); err != nil {
		t.Fatal(err)
	}
	return ad.BytesTransferredOut
}

// Large GETs are spliced from the backend's socket to the client's: the bytes arrive intact,
// are counted in the record, and the backend connection is reused afterwards.
func TestSpliceGet(t *testing.T) {
	e := startEnv(t, PassThrough)
	conns := e.conns
	ctx := context.Background()
	c := e.client(userKey, userSecret)
	body := make([]byte, 1<<20+3)
	_, _ = rand.Read(body)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	e.rec.take()
	before := conns.Load()
	for i := range 3 {
		if got := getBody(t, c, fmt.Sprintf("GetObject %d", i), "bkt", "big"); !bytes.Equal(got, body) {
			t.Fatalf("GetObject %d: %d bytes; want the %d put", i, len(got), len(body))
		}
	}
	if n := e.g.spliced.Load(); n < 3*int64(len(body)-minSplice) {
		t.Errorf("%d bytes spliced; want nearly all of 3 × %d", n, len(body))
	}
	if n := conns.Load() - before; n != 1 {
		t.Errorf("%d new backend connections for 3 sequential GETs; want 1 (reused)", n)
	}
	recs := e.rec.take()
	if len(recs) != 3 {
		t.Fatalf("%d records; want 3", len(recs))
	}
	for _, r := range recs {
		if r.EventName != "GetObject" || r.ErrorCode != "" || bytesOut(t, r.AdditionalEventData) != int64(len(body)) {
			t.Errorf("record %s err %q out %d; want GetObject, no error, %d", r.EventName, r.ErrorCode, bytesOut(t, r.AdditionalEventData), len(body))
		}
	}

	// Concurrent GETs leave several connections in the pool; then the backend drops every
	// connection: the pooled ones are dead, and the GET is sent again on a new one.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big")}); err == nil {
				_, _ = io.Copy(io.Discard, out.Body)
				out.Body.Close()
			}
		}()
	}
	wg.Wait()
	e.bs.CloseClientConnections()
	if got := getBody(t, c, "GetObject after the backend closed its connections", "bkt", "big"); !bytes.Equal(got, body) {
		t.Fatalf("GetObject after the backend closed its connections: %d bytes", len(got))
	}
}

// rawBackend answers every request with the raw response resp (after reading the request
// header), then, unless keep, closes the connection.
func rawBackend(t *testing.T, resp func(n int) string, keep bool) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for n := 0; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(n int) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					if _, err := http.ReadRequest(br); err != nil {
						return
					}
					if _, err := io.WriteString(c, resp(n)); err != nil || !keep {
						return
					}
				}
			}(n)
		}
	}()
	u, _ := url.Parse("http://" + l.Addr().String())
	return u
}

func rawGateway(t *testing.T, backend *url.URL) (*httptest.Server, *memRecorder) {
	t.Helper()
	rec := &memRecorder{}
	g, err := New(Config{Backend: backend, Keys: keys{}, Recorder: rec, AccountID: account})
	if err != nil {
		t.Fatal(err)
	}
	gs := httptest.NewServer(g)
	t.Cleanup(gs.Close)
	return gs, rec
}

// A backend that ends a large body early: the client's response fails too (it never looks
// complete), and the record says so.
func TestSpliceShortBody(t *testing.T) {
	const declared, sent = 1 << 20, 300 << 10
	b := rawBackend(t, func(int) string {
		return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", declared, bytes.Repeat([]byte("x"), sent))
	}, false)
	gs, rec := rawGateway(t, b)
	resp, err := http.Get(gs.URL + "/bkt/key")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) >= declared {
		t.Fatalf("read %d bytes, err %v; want a failed body shorter than %d", len(got), err, declared)
	}
	recs := rec.take()
	if len(recs) != 1 || bytesOut(t, recs[0].AdditionalEventData) > sent {
		t.Fatalf("records %d; want one with at most %d bytes out", len(recs), sent)
	}
}

// Bodies framed otherwise (chunked) and small ones pass through the ordinary copy, and the
// connection is reused after a chunked body.
func TestSpliceOtherFramings(t *testing.T) {
	var served atomic.Int64
	b := rawBackend(t, func(n int) string {
		served.Add(1)
		if served.Load()%2 == 1 {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
		}
		return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmall"
	}, true)
	gs, rec := rawGateway(t, b)
	for i, want := range []string{"hello world", "small", "hello world", "small"} {
		resp, err := http.Get(gs.URL + "/bkt/key")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(got) != want {
			t.Fatalf("GET %d: %q, %v; want %q", i, got, err, want)
		}
	}
	if n := len(rec.take()); n != 4 {
		t.Fatalf("%d records; want 4", n)
	}
}

// A client that reads part of an object and drops the connection is recorded all the same,
// with the bytes that reached it.
func TestAbortedDownloadRecorded(t *testing.T) {
	e := startEnv(t, PassThrough)
	body := bytes.Repeat([]byte("z"), 16<<20)
	e.backend.objects["/bkt/huge"] = body
	resp, err := http.Get(e.gw.URL + "/bkt/huge")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 100<<10)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close() // unread body: the client closes the connection
	deadline := time.Now().Add(10 * time.Second)
	for {
		if recs := e.rec.take(); len(recs) > 0 {
			if len(recs) != 1 || recs[0].EventName != "GetObject" {
				t.Fatalf("records %+v; want one GetObject", recs)
			}
			if out := bytesOut(t, recs[0].AdditionalEventData); out <= 0 || out >= int64(len(body)) {
				t.Fatalf("bytesTransferredOut %d; want part of %d", out, len(body))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no record of the aborted GetObject")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
