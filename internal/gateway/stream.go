package gateway

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/opentrail/opentrail/internal/sigv4"
)

// countingReader counts the bytes read through it. The transport may still be reading when
// the handler records, hence the atomic.
type countingReader struct {
	r io.ReadCloser
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (c *countingReader) Close() error { return c.r.Close() }

// countingWriter counts the body bytes written and remembers the status. It holds back the
// status line of a body-less response and the last byte of a body until finish, so that the
// client sees the end of the response only after the record is written.
type countingWriter struct {
	http.ResponseWriter
	status     int
	n          int64
	headerSent bool
	held       byte  // the last body byte written, not yet passed on
	holding    bool  // whether held is set
	spliced    int64 // body bytes passed by spliceFrom
}

func (c *countingWriter) WriteHeader(code int) {
	if code < 200 { // 1xx informational responses pass at once
		c.ResponseWriter.WriteHeader(code)
		return
	}
	if c.status == 0 {
		c.status = code
	}
}

func (c *countingWriter) sendHeader() {
	if !c.headerSent {
		c.headerSent = true
		if c.status == 0 {
			c.status = http.StatusOK
		}
		c.ResponseWriter.WriteHeader(c.status)
	}
}

// Write passes p on except its last byte, which it holds back (after sending the one held
// before): holding one byte is enough to keep the response from completing, and copying no
// more than that keeps the gateway's cost per byte at one copy.
func (c *countingWriter) Write(p []byte) (int, error) {
	c.sendHeader()
	if len(p) == 0 {
		return 0, nil
	}
	if err := c.passHeld(); err != nil {
		return 0, err
	}
	last := len(p) - 1
	if last > 0 {
		n, err := c.ResponseWriter.Write(p[:last])
		c.n += int64(n)
		if err != nil {
			return n, err
		}
	}
	c.held, c.holding = p[last], true
	return len(p), nil
}

// passHeld sends the byte held back, if any.
func (c *countingWriter) passHeld() error {
	if !c.holding {
		return nil
	}
	n, err := c.ResponseWriter.Write([]byte{c.held})
	c.n += int64(n)
	c.holding = false
	return err
}

// finish sends what was held back.
func (c *countingWriter) finish() {
	c.sendHeader()
	_ = c.passHeld()
}

// spliceFrom passes r on to the client through the ResponseWriter's ReadFrom: net/http sends
// the header, then TCPConn.ReadFrom splices from the backend's socket to the client's
// (splice(2): the bytes do not pass through the gateway's memory). It passes nothing (0, nil)
// before the proxy has decided the response's status, or when the ResponseWriter cannot read
// from a reader (HTTP/2).
func (c *countingWriter) spliceFrom(r *io.LimitedReader) (int64, error) {
	rf, ok := c.ResponseWriter.(io.ReaderFrom)
	if c.status == 0 || !ok {
		return 0, nil
	}
	c.sendHeader()
	if err := c.passHeld(); err != nil {
		return 0, err
	}
	n, err := rf.ReadFrom(r)
	c.n += n
	c.spliced += n
	return n, err
}

// pending is the number of body bytes held back.
func (c *countingWriter) pending() int64 {
	if c.holding {
		return 1
	}
	return 0
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *countingWriter) Flush() {
	if !c.headerSent {
		return // the status line waits for the body or for finish
	}
	if f, ok := c.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

var (
	errContentSHA     = errors.New("gateway: body does not match x-amz-content-sha256")
	errChunkSignature = errors.New("gateway: chunk signature does not match")
)

// hashingReader checks the body against a hex SHA-256 when it ends; a mismatch fails the
// last read, so the backend never completes the request.
type hashingReader struct {
	r    io.ReadCloser
	h    hash.Hash
	want string
}

func newHashingReader(r io.ReadCloser, want string) io.ReadCloser {
	if r == nil {
		r = http.NoBody
	}
	return &hashingReader{r: r, h: sha256.New(), want: strings.ToLower(want)}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(h.h.Sum(nil)) != h.want {
		return n, errContentSHA
	}
	return n, err
}

func (h *hashingReader) Close() error { return h.r.Close() }

// chunkReader decodes an aws-chunked body signed chunk by chunk
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD): each chunk is "<hex size>;chunk-signature=<sig>\r\n
// <data>\r\n", the last has size 0. Every chunk signature is checked, chained from the seed
// signature; a bad one fails the read.
type chunkReader struct {
	src     io.ReadCloser
	br      *bufio.Reader
	key     [32]byte
	scope   string
	amzDate string
	prevSig string
	left    int64 // bytes left in the current chunk
	h       hash.Hash
	want    string
	done    bool
	trailer bool // trailing headers follow the last chunk
	err     error
}

func newChunkReader(body io.ReadCloser, sr *sigv4.Request, keys *sigv4.KeyCache, secret string) (io.ReadCloser, *s3Error) {
	if body == nil {
		return nil, &s3Error{"IncompleteBody", "The request body is missing.", http.StatusBadRequest}
	}
	return &chunkReader{
		src: body, br: bufio.NewReaderSize(body, 64<<10),
		key:     keys.SigningKey(secret, sr.Credential),
		scope:   sr.Credential.Scope(),
		amzDate: sr.Time.UTC().Format("20060102T150405Z"),
		prevSig: sr.Signature,
		h:       sha256.New(),
	}, nil
}

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	for c.left == 0 {
		if c.done {
			c.err = io.EOF
			return 0, io.EOF
		}
		if err := c.header(); err != nil {
			c.err = err
			return 0, err
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	// The last byte of a chunk is released only once the chunk's signature checks out (and,
	// for the last data chunk, the final chunk's and the trailer's), so that the backend
	// (signed UNSIGNED-PAYLOAD, with the decoded Content-Length) never receives a complete
	// body with a forged chunk in it.
	if c.left == 1 {
		b, err := c.br.ReadByte()
		if err != nil {
			c.err = io.ErrUnexpectedEOF
			return 0, c.err
		}
		c.h.Write([]byte{b})
		c.left = 0
		if err := c.finishChunk(); err != nil {
			c.err = err
			return 0, err
		}
		// Read the next chunk's header too: when it is the last (zero-size) chunk, its
		// signature and the trailer's are checked before the body can complete.
		if err := c.header(); err != nil {
			c.err = err
			return 0, err
		}
		p[0] = b
		return 1, nil
	}
	if int64(len(p)) > c.left-1 {
		p = p[:c.left-1]
	}
	n, err := c.br.Read(p)
	c.h.Write(p[:n])
	c.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		c.err = err
	}
	return n, err
}

// header reads a chunk header; a zero-size chunk is checked and ends the body.
func (c *chunkReader) header() error {
	line, err := c.br.ReadString('\n')
	if err != nil {
		return io.ErrUnexpectedEOF
	}
	line = strings.TrimRight(line, "\r\n")
	size, ext, _ := strings.Cut(line, ";")
	n, err := strconv.ParseInt(size, 16, 64)
	if err != nil || n < 0 {
		return errChunkSignature
	}
	sig, ok := strings.CutPrefix(ext, "chunk-signature=")
	if !ok {
		return errChunkSignature
	}
	c.want, c.left = sig, n
	c.h.Reset()
	if n == 0 {
		c.done = true
		if err := c.check(); err != nil {
			return err
		}
		if c.trailer {
			return c.readTrailer()
		}
		// The body ends with the final chunk's empty line: "0;chunk-signature=...\r\n\r\n".
		var crlf [2]byte
		if _, err := io.ReadFull(c.br, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
			return errChunkSignature
		}
		return nil
	}
	return nil
}

func (c *chunkReader) finishChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil || crlf != [2]byte{'\r', '\n'} {
		return errChunkSignature
	}
	return c.check()
}

func (c *chunkReader) check() error {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.amzDate + "\n" + c.scope + "\n" + c.prevSig + "\n" + emptySHA256 + "\n" + hex.EncodeToString(c.h.Sum(nil))
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(sts))
	got := hex.EncodeToString(m.Sum(nil))
	if !hmac.Equal([]byte(got), []byte(strings.ToLower(c.want))) {
		return errChunkSignature
	}
	c.prevSig = got
	return nil
}

// readTrailer reads the trailing headers after the last chunk
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER): "name:value" lines, then
// "x-amz-trailer-signature:<sig>", then an empty line. The signature, chained from the last
// chunk's, covers the headers as "name:value\n" each. The headers (checksums) are not passed
// on: the backend gets the decoded body, whose chunks were each verified.
func (c *chunkReader) readTrailer() error {
	var canon strings.Builder
	sig := ""
	for i := 0; ; i++ {
		if i > 64 {
			return errChunkSignature
		}
		line, err := c.br.ReadString('\n')
		if err != nil && line == "" {
			break // the final CRLF may be absent
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return errChunkSignature
		}
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "x-amz-trailer-signature" {
			sig = strings.TrimSpace(value)
			continue
		}
		canon.WriteString(name + ":" + strings.TrimSpace(value) + "\n")
	}
	sum := sha256.Sum256([]byte(canon.String()))
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.amzDate + "\n" + c.scope + "\n" + c.prevSig + "\n" + hex.EncodeToString(sum[:])
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(sts))
	if !hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(strings.ToLower(sig))) {
		return errChunkSignature
	}
	return nil
}

func (c *chunkReader) Close() error { return c.src.Close() }

var backendSigner = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })

// signBackend signs an outgoing request with the backend's credentials.
func signBackend(r *http.Request, keyID, secret, region, payload string, now time.Time) error {
	creds := aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}
	return backendSigner.SignHTTP(r.Context(), creds, r, payload, "s3", region, now.UTC())
}

func tlsVersion(r *http.Request) string {
	switch r.TLS.Version {
	case tls.VersionTLS13:
		return "TLSv1.3"
	case tls.VersionTLS12:
		return "TLSv1.2"
	}
	return tls.VersionName(r.TLS.Version)
}

func tlsCipher(r *http.Request) string { return tls.CipherSuiteName(r.TLS.CipherSuite) }
