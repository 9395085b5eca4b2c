package gateway

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// spliceTransport is the gateway's default backend transport. A GET without a body to an
// http:// backend goes over the transport's own HTTP/1.1 connections, so that the body of a
// successful response can move from the backend's socket to the client's with splice(2)
// (through the ResponseWriter's ReadFrom and TCPConn.ReadFrom) instead of being copied into
// the gateway and out again: GETs are where the gateway's own copy of every byte cost half of
// direct throughput. Everything else goes to fallback (a net/http Transport).
type spliceTransport struct {
	fallback http.RoundTripper
	dialer   net.Dialer

	mu   sync.Mutex
	idle map[string][]*backendConn // by host:port, most recently used last
}

// Bounds of the idle pool.
const (
	maxIdleConns    = 256
	idleConnTimeout = 60 * time.Second
	connBufferSize  = 4 << 10
	// minSplice is the smallest body worth splicing: below it a pipe round trip costs more
	// than the copy it saves.
	minSplice = 64 << 10
)

// backendConn is one HTTP/1.1 connection to the backend.
type backendConn struct {
	c         *net.TCPConn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
}

func newSpliceTransport(fallback http.RoundTripper) *spliceTransport {
	return &spliceTransport{
		fallback: fallback,
		dialer:   net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		idle:     map[string][]*backendConn{},
	}
}

// RoundTrip implements http.RoundTripper.
func (t *spliceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || req.URL.Scheme != "http" || (req.Body != nil && req.Body != http.NoBody) {
		return t.fallback.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		bc, reused, err := t.conn(req.Context(), req.URL.Host, attempt == 0)
		if err != nil {
			return nil, err
		}
		resp, err := t.exchange(bc, req)
		if err == nil {
			return resp, nil
		}
		// A pooled connection the backend has closed in the meantime fails before any
		// response: a GET may be sent again, once, on a new connection.
		if !reused || attempt > 0 || req.Context().Err() != nil {
			return nil, err
		}
	}
}

// conn returns an idle connection to host (if pooled is set and one is there), or a new one.
func (t *spliceTransport) conn(ctx context.Context, host string, pooled bool) (bc *backendConn, reused bool, err error) {
	t.mu.Lock()
	for l := t.idle[host]; pooled && len(l) > 0; l = t.idle[host] {
		bc = l[len(l)-1]
		t.idle[host] = l[:len(l)-1]
		if time.Since(bc.idleSince) < idleConnTimeout {
			t.mu.Unlock()
			return bc, true, nil
		}
		_ = bc.c.Close()
	}
	t.mu.Unlock()
	c, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		_ = c.Close()
		return nil, false, errors.New("gateway: backend connection is not TCP")
	}
	return &backendConn{c: tc, br: bufio.NewReaderSize(tc, connBufferSize), bw: bufio.NewWriterSize(tc, connBufferSize)}, false, nil
}

// release returns bc to the pool, or closes it when the pool is full.
func (t *spliceTransport) release(host string, bc *backendConn) {
	bc.idleSince = time.Now()
	t.mu.Lock()
	n := 0
	for _, l := range t.idle {
		n += len(l)
	}
	if n < maxIdleConns {
		t.idle[host] = append(t.idle[host], bc)
		bc = nil
	}
	t.mu.Unlock()
	if bc != nil {
		_ = bc.c.Close()
	}
}

// CloseIdleConnections closes the pooled connections (and the fallback's).
func (t *spliceTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*backendConn{}
	t.mu.Unlock()
	for _, l := range idle {
		for _, bc := range l {
			_ = bc.c.Close()
		}
	}
	if c, ok := t.fallback.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// exchange sends req on bc and reads the response header. The returned body owns bc: it
// goes back to the pool when the body has been read to its end on a reusable connection.
func (t *spliceTransport) exchange(bc *backendConn, req *http.Request) (*http.Response, error) {
	// A canceled request (the client went away) unblocks whatever reads or writes bc.
	stop := context.AfterFunc(req.Context(), func() { _ = bc.c.SetDeadline(time.Unix(1, 0)) })
	fail := func(err error) (*http.Response, error) {
		stop()
		_ = bc.c.Close()
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, err
	}
	if err := req.Write(bc.bw); err != nil {
		return fail(err)
	}
	if err := bc.bw.Flush(); err != nil {
		return fail(err)
	}
	var resp *http.Response
	for {
		var err error
		resp, err = http.ReadResponse(bc.br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	b := &backendBody{t: t, host: req.URL.Host, bc: bc, stop: stop, keep: !resp.Close && !req.Close}
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		return fail(errors.New("gateway: the backend switched protocols on a GET"))
	case resp.Body == http.NoBody:
		b.finish(nil)
		return resp, nil
	case resp.ContentLength >= 0 && len(resp.TransferEncoding) == 0:
		b.n = resp.ContentLength
		if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent {
			if x, ok := req.Context().Value(ctxKey{}).(*exchange); ok && x.out != nil {
				b.sink = x.out
			}
		}
	default: // chunked, or delimited by the end of the connection: net/http's reader frames it
		b.n = -1
		b.framed = resp.Body
		b.keep = b.keep && len(resp.TransferEncoding) > 0
	}
	resp.Body = b
	return resp, nil
}

// spliceSink is where a body can be spliced to: the client's response, once its header is
// decided.
type spliceSink interface {
	spliceFrom(r *io.LimitedReader) (int64, error)
}

// backendBody is a response body read from a backendConn.
type backendBody struct {
	t      *spliceTransport
	host   string
	bc     *backendConn
	stop   func() bool
	keep   bool          // the connection may be reused after the body
	n      int64         // bytes left (Content-Length framing), or -1
	framed io.ReadCloser // the body reader for other framings
	sink   spliceSink    // where to splice the body to, when the proxy starts copying it
	err    error         // sticky: the body ended (io.EOF) or failed
}

func (b *backendBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.framed != nil {
		n, err := b.framed.Read(p)
		if err != nil {
			b.finish(err)
		}
		return n, err
	}
	if b.n == 0 {
		b.finish(io.EOF)
		return 0, io.EOF
	}
	if b.sink != nil && b.bc.br.Buffered() == 0 && b.n > minSplice {
		// Everything but the last byte goes from socket to socket; the last one comes back
		// through Read so that the gateway holds it until the record is written.
		sink := b.sink
		b.sink = nil
		lr := &io.LimitedReader{R: b.bc.c, N: b.n - 1}
		n, err := sink.spliceFrom(lr)
		b.n -= n
		if err == nil && n > 0 && lr.N > 0 {
			err = io.ErrUnexpectedEOF // the backend closed before the end of the body
		}
		if err != nil {
			b.finish(err)
			return 0, err
		}
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.bc.br.Read(p)
	b.n -= int64(n)
	switch {
	case b.n == 0:
		b.finish(io.EOF)
		return n, io.EOF
	case err == io.EOF:
		err = io.ErrUnexpectedEOF
		fallthrough
	case err != nil:
		b.finish(err)
	}
	return n, err
}

// Close ends the body; a connection whose body was not read to its end is closed.
func (b *backendBody) Close() error {
	if b.err == nil {
		b.finish(errBodyClosed)
	}
	return nil
}

var errBodyClosed = errors.New("gateway: read on closed response body")

// finish ends the body with err (io.EOF: read to its end) and releases the connection.
func (b *backendBody) finish(err error) {
	if err == nil {
		err = io.EOF
	}
	if b.err != nil {
		return
	}
	b.err = err
	// stop reports false when the request was canceled: its deadline is then set on bc.
	if b.stop() && err == io.EOF && b.keep && b.bc.br.Buffered() == 0 {
		b.t.release(b.host, b.bc)
		return
	}
	_ = b.bc.c.Close()
}
