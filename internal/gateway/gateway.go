// Package gateway is OpenTrail's S3 audit gateway: a streaming reverse proxy for the S3 REST
// API, in front of any S3-compatible store, that records one CloudTrail record per request
// into the same journal as the API server (docs/gateway.md).
//
// Two modes:
//
//   - pass-through: the client's signed request goes to the backend unchanged (Host
//     included); the backend authenticates it. The caller is identified by the access key ID
//     of the signature: a key OpenTrail knows is recorded as its owner, any other key as
//     userIdentity type Unknown.
//   - front-door: the gateway verifies the SigV4 signature with OpenTrail's IAM, authorizes
//     the s3:* action with the caller's IAM policies, and re-signs the request to the backend
//     with the backend's credentials.
//
// Bodies are never buffered: request and response bodies stream through, counted as they go
// (bytesTransferredIn/Out). Only small error bodies (at most 64 KiB) are read, to record their
// error code and message. A record is therefore written when the transfer ends, before the
// handler returns; with FailClosed the gateway refuses requests (503 SlowDown-style XML) while
// the journal cannot record.
package gateway

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
	"github.com/opentrail/opentrail/internal/sigv4"
)

// Mode is how the gateway treats the client's signature.
type Mode string

// Modes.
const (
	PassThrough Mode = "pass-through"
	FrontDoor   Mode = "front-door"
)

// KeyLookup resolves access key IDs (iam.IAM implements it).
type KeyLookup interface {
	LookupKey(accessKeyID string) (server.Credentials, bool)
}

// Authorizer evaluates the caller's IAM policies (iam.IAM implements it).
type Authorizer interface {
	Allowed(c *opentrail.Caller, action, resource string, conditions map[string][]string) (allowed, explicitDeny bool)
}

// Recorder makes a record durable (the server's journal recorder).
type Recorder interface {
	Record(ctx context.Context, e *opentrail.Event) error
}

// Config is the gateway's wiring.
type Config struct {
	Backend *url.URL // http(s)://host:port of the S3-compatible store
	Mode    Mode     // default PassThrough
	// Backend credentials, for front-door mode: the gateway signs every request with them.
	BackendAccessKeyID, BackendSecretAccessKey string
	Keys                                       KeyLookup
	Authorizer                                 Authorizer // front-door mode
	Recorder                                   Recorder
	// AccountID receives the records (recipientAccountId): the account the gateway's
	// buckets belong to.
	AccountID string
	// Region is the awsRegion of unsigned requests; signed ones use their credential scope.
	Region string
	// Domains are base domains for virtual-hosted-style addressing (<bucket>.<domain>).
	Domains []string
	// FailClosed refuses requests while the recorder reports itself unhealthy.
	FailClosed bool
	// TrustedProxies are the peers whose X-Forwarded-For names the client (sourceIPAddress).
	TrustedProxies []netip.Prefix
	Transport      http.RoundTripper
	Now            func() time.Time
	Logger         *slog.Logger
}

// Gateway is an http.Handler proxying S3 requests to the backend.
type Gateway struct {
	cfg   Config
	log   *slog.Logger
	proxy *httputil.ReverseProxy
	keys  *sigv4.KeyCache
	// spliced counts the response body bytes passed from backend to client on the splicing
	// path (ResponseWriter.ReadFrom, splice(2) on TCP).
	spliced atomic.Int64
}

// New returns a gateway for cfg.
func New(cfg Config) (*Gateway, error) {
	if cfg.Backend == nil || (cfg.Backend.Scheme != "http" && cfg.Backend.Scheme != "https") || cfg.Backend.Host == "" {
		return nil, errors.New("gateway: backend must be an http or https URL")
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = PassThrough
	case PassThrough:
	case FrontDoor:
		if cfg.BackendAccessKeyID == "" || cfg.BackendSecretAccessKey == "" {
			return nil, errors.New("gateway: front-door mode needs the backend's access key ID and secret access key")
		}
		if cfg.Authorizer == nil {
			return nil, errors.New("gateway: front-door mode needs an authorizer")
		}
	default:
		return nil, fmt.Errorf("gateway: unknown mode %q (pass-through or front-door)", cfg.Mode)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = 256
		t.DisableCompression = true // bodies pass through byte for byte
		cfg.Transport = newSpliceTransport(t)
	}
	g := &Gateway{cfg: cfg, log: cfg.Logger, keys: sigv4.NewKeyCache(1024)}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:   g.rewrite,
		Transport: cfg.Transport,
		// Bodies stream through a pooled buffer, written on as they are read (no periodic
		// flush needed: writes of a buffer's size go straight to the connection).
		BufferPool:     bufferPool{},
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelDebug),
	}
	return g, nil
}

// bufferPool lends ReverseProxy its copy buffers.
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { b := make([]byte, 128<<10); return &b }}

func (bufferPool) Get() []byte  { return *(buffers.Get().(*[]byte)) }
func (bufferPool) Put(b []byte) { buffers.Put(&b) }

// exchange is what the gateway learns of one request as it passes through.
type exchange struct {
	op         Operation
	start      time.Time
	reqID      string // ours; the backend's x-amz-request-id replaces it when present
	hostID     string
	region     string
	accessKey  string
	authMeth   string // AuthHeader, QueryString or "" (anonymous)
	sigVersion string // SigV4, SigV2, SigV4A or ""
	caller     *opentrail.Caller
	secret     string // front-door: the caller's secret, for chunk signatures
	payload    string // front-door: the payload hash to sign with
	status     int
	response   json.RawMessage // responseElements; nil is null
	errCode    string
	errMsg     string
	in         *countingReader
	out        *countingWriter // the client's response, for the transport to splice a body to
}

type ctxKey struct{}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{start: g.cfg.Now(), reqID: newRequestID(), region: g.cfg.Region}
	x.op = Classify(r.Method, r.URL, r.Header, r.Host, g.cfg.Domains)
	cw := &countingWriter{ResponseWriter: w}
	x.out = cw

	sr, perr := sigv4.Parse(r)
	if perr != nil {
		// Not SigV4 (SigV2, SigV4A, malformed): still say which key signed, when one is named.
		x.accessKey, x.authMeth, x.sigVersion = otherSignature(r)
		if c, ok := g.cfg.Keys.LookupKey(x.accessKey); ok && x.accessKey != "" {
			x.caller = &c.Caller
		}
	}
	if perr == nil {
		x.sigVersion = "SigV4"
		x.accessKey = sr.Credential.AccessKeyID
		if sr.Credential.Region != "" {
			x.region = sr.Credential.Region
		}
		x.authMeth = "AuthHeader"
		if sr.Presigned {
			x.authMeth = "QueryString"
		}
		if creds, ok := g.cfg.Keys.LookupKey(x.accessKey); ok {
			c := creds.Caller
			x.caller, x.secret = &c, creds.Secret
			if g.cfg.Mode == FrontDoor {
				if err := g.verify(r, sr, creds); err != nil {
					g.refuse(cw, r, x, err)
					return
				}
			}
		} else if g.cfg.Mode == FrontDoor {
			g.refuse(cw, r, x, &s3Error{"InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", http.StatusForbidden})
			return
		}
	} else if g.cfg.Mode == FrontDoor {
		var se *sigv4.Error
		if errors.As(perr, &se) && se.Kind == sigv4.MissingAuthentication {
			g.refuse(cw, r, x, &s3Error{"AccessDenied", "Access Denied", http.StatusForbidden})
		} else {
			g.refuse(cw, r, x, &s3Error{"AuthorizationHeaderMalformed", "The authorization header is malformed.", http.StatusBadRequest})
		}
		return
	}

	if g.cfg.FailClosed && !g.recorderHealthy() {
		g.refuse(cw, r, x, errJournal)
		return
	}
	if g.cfg.Mode == FrontDoor {
		allowed, _ := g.cfg.Authorizer.Allowed(x.caller, x.op.Action(), x.op.ResourceARN(), g.conditions(r, x))
		if !allowed {
			g.refuse(cw, r, x, &s3Error{"AccessDenied", "Access Denied", http.StatusForbidden})
			return
		}
		if err := g.prepareFrontDoor(r, sr, x); err != nil {
			g.refuse(cw, r, x, err)
			return
		}
	}

	if r.Body != nil && r.Body != http.NoBody {
		x.in = &countingReader{r: r.Body}
		r.Body = x.in
	}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, x))
	// settle takes what the response writer saw once the proxy is done.
	settle := func() {
		g.spliced.Add(cw.spliced)
		x.status = cmp.Or(cw.status, http.StatusOK)
	}
	defer func() {
		// The proxy aborts the response (http.ErrAbortHandler) when a body breaks off:
		// the client went away or the backend ended early. The request is recorded all the
		// same, with the bytes that reached the client: reading most of an object and then
		// dropping the connection must not leave the read unrecorded.
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler && x.status == 0 {
				settle()
				_ = g.record(r, x, cw.n)
			}
			panic(v)
		}
	}()
	g.proxy.ServeHTTP(cw, r)
	settle()
	if err := g.record(r, x, cw.n+cw.pending()); err != nil && g.cfg.FailClosed {
		// The response must not complete unrecorded: drop the connection with the last
		// bytes (or the status line) still held back, so the client sees a failed request.
		panic(http.ErrAbortHandler)
	}
	cw.finish()
}

// conditionHeaders are the request headers S3 offers as condition keys (s3:<header>).
var conditionHeaders = []string{"x-amz-acl", "x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
	"x-amz-storage-class", "x-amz-copy-source", "x-amz-metadata-directive", "x-amz-content-sha256",
	"x-amz-object-ownership", "x-amz-grant-read", "x-amz-grant-write", "x-amz-grant-read-acp", "x-amz-grant-write-acp",
	"x-amz-grant-full-control", "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold"}

// conditions are the condition keys of a front-door request for its identity-based policies:
// the global keys, as the API server sets them (aws:SourceIp, aws:SecureTransport,
// aws:CurrentTime, aws:PrincipalArn, …), and S3's own that the request carries (s3:prefix,
// s3:delimiter and s3:max-keys of listings, s3:VersionId, the s3:x-amz-* headers,
// s3:authType, s3:signatureversion). Keys are lower-cased, as the evaluator looks them up.
func (g *Gateway) conditions(r *http.Request, x *exchange) map[string][]string {
	c := server.ConditionKeys(x.caller, sourceIP(r, g.cfg.TrustedProxies), r.TLS != nil, x.start, x.region)
	q := r.URL.Query()
	if x.op.Key == "" {
		for _, k := range []string{"prefix", "delimiter", "max-keys"} {
			if q.Has(k) {
				c["s3:"+k] = []string{q.Get(k)}
			}
		}
	}
	if v := q.Get("versionId"); v != "" {
		c["s3:versionid"] = []string{v}
	}
	for _, h := range conditionHeaders {
		if v := r.Header.Get(h); v != "" {
			c["s3:"+h] = []string{v}
		}
	}
	c["s3:authtype"] = []string{map[bool]string{true: "REST-QUERY-STRING", false: "REST-HEADER"}[x.authMeth == "QueryString"]}
	c["s3:signatureversion"] = []string{"AWS4-HMAC-SHA256"}
	return c
}

// refuse answers the request with an S3 XML error and records it — before the response, as
// the API server does; when the record cannot be written and FailClosed is set, the answer
// becomes 503.
func (g *Gateway) refuse(w *countingWriter, r *http.Request, x *exchange, e *s3Error) {
	x.status, x.errCode, x.errMsg = e.status, e.code, e.message
	if err := g.record(r, x, 0); err != nil && g.cfg.FailClosed {
		e = errJournal
	}
	writeError(w, r, e, x.reqID)
	w.finish()
}

var errJournal = &s3Error{"ServiceUnavailable", "The audit journal cannot record requests; try again later.", http.StatusServiceUnavailable}

func (g *Gateway) recorderHealthy() bool {
	h, ok := g.cfg.Recorder.(server.HealthReporter)
	return !ok || h.Healthy()
}

// verify checks a front-door request's signature with the caller's secret. A hex payload
// hash is checked against the body as it streams (hashingReader).
func (g *Gateway) verify(r *http.Request, sr *sigv4.Request, creds server.Credentials) *s3Error {
	if creds.SessionToken != "" || sr.SecurityToken != "" {
		if subtle.ConstantTimeCompare([]byte(creds.SessionToken), []byte(sr.SecurityToken)) != 1 {
			return &s3Error{"InvalidToken", "The provided token is malformed or otherwise invalid.", http.StatusBadRequest}
		}
	}
	now := g.cfg.Now()
	err := g.keys.Verify(r, sr, creds.Secret, nil, now)
	var se *sigv4.Error
	if errors.As(err, &se) && se.Kind == sigv4.ContentSHA256Mismatch && isHex64(sr.PayloadHash) {
		// The signature matched; only the (unread) body differs from the empty body Verify
		// hashed. The body is checked while it streams.
		err = nil
	}
	if err != nil {
		if errors.As(err, &se) {
			status := se.Kind.Status(true)
			if status == 0 {
				status = http.StatusForbidden
			}
			return &s3Error{se.Kind.Code(true), se.Message, status}
		}
		return &s3Error{"SignatureDoesNotMatch", err.Error(), http.StatusForbidden}
	}
	if !creds.Expires.IsZero() && now.After(creds.Expires) {
		return &s3Error{"ExpiredToken", "The provided token has expired.", http.StatusBadRequest}
	}
	return nil
}

// prepareFrontDoor readies a verified request for re-signing: the payload hash to sign with,
// and the body as the backend must see it (chunk signatures removed).
func (g *Gateway) prepareFrontDoor(r *http.Request, sr *sigv4.Request, x *exchange) *s3Error {
	ph := sr.PayloadHash
	switch {
	case ph == "" || ph == sigv4.UnsignedPayload:
		x.payload = sigv4.UnsignedPayload
	case isHex64(ph):
		x.payload = ph
		r.Body = newHashingReader(r.Body, ph)
	case ph == streamingSigned || ph == streamingSignedTrailer:
		body, err := newChunkReader(r.Body, sr, g.keys, x.secret)
		if err != nil {
			return err
		}
		if ph == streamingSignedTrailer {
			body.(*chunkReader).trailer = true
			r.Header.Del("X-Amz-Trailer")
		}
		r.Body = body
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" {
			var n int64
			if _, err := fmt.Sscan(dl, &n); err == nil {
				r.ContentLength = n
			}
		} else {
			r.ContentLength = -1
		}
		r.Header.Del("X-Amz-Decoded-Content-Length")
		removeAWSChunked(r.Header)
		x.payload = sigv4.UnsignedPayload
	case ph == streamingUnsignedTrailer:
		x.payload = ph // chunks carry no signatures; the backend decodes them
	default:
		return &s3Error{"NotImplemented", "The payload signing method " + ph + " is not supported by the gateway in front-door mode.", http.StatusNotImplemented}
	}
	return nil
}

const (
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

func removeAWSChunked(h http.Header) {
	var keep []string
	for _, v := range strings.Split(h.Get("Content-Encoding"), ",") {
		if v = strings.TrimSpace(v); v != "" && v != "aws-chunked" {
			keep = append(keep, v)
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
	} else {
		h.Set("Content-Encoding", strings.Join(keep, ","))
	}
}

// rewrite points the outgoing request at the backend. Pass-through keeps everything the
// client signed, Host included; front-door strips the client's signature and signs anew.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	out := pr.Out
	out.URL.Scheme = g.cfg.Backend.Scheme
	out.URL.Host = g.cfg.Backend.Host
	x, _ := out.Context().Value(ctxKey{}).(*exchange)
	if g.cfg.Mode != FrontDoor || x == nil {
		out.Host = pr.In.Host
		return
	}
	out.Host = g.cfg.Backend.Host
	if x.op.VirtualHosted {
		// The backend is addressed by its own host name: path-style from here on.
		out.URL.Path = "/" + x.op.Bucket + pr.In.URL.Path
		if pr.In.URL.RawPath != "" {
			out.URL.RawPath = "/" + url.PathEscape(x.op.Bucket) + pr.In.URL.RawPath
		}
	}
	out.Header.Del("Authorization")
	out.Header.Del("X-Amz-Security-Token")
	out.Header.Del("X-Amz-Date")
	if x.authMeth == "QueryString" {
		q := out.URL.Query()
		for k := range q {
			if strings.HasPrefix(strings.ToLower(k), "x-amz-") && isSigParam(k) {
				q.Del(k)
			}
		}
		out.URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	}
	out.Header.Set("X-Amz-Content-Sha256", x.payload)
	if err := signBackend(out, g.cfg.BackendAccessKeyID, g.cfg.BackendSecretAccessKey, x.region, x.payload, g.cfg.Now()); err != nil {
		g.log.Warn("gateway: sign backend request", "err", err)
	}
}

func isSigParam(k string) bool {
	switch strings.ToLower(k) {
	case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-signedheaders",
		"x-amz-signature", "x-amz-security-token", "x-amz-content-sha256":
		return true
	}
	return false
}

// maxErrorBody is the largest error body the gateway reads to record its code and message.
const maxErrorBody = 64 << 10

// modifyResponse notes the backend's request IDs and, for an error status, the error code
// and message of a small XML body, which it puts back in front of the rest of the body.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	x, _ := resp.Request.Context().Value(ctxKey{}).(*exchange)
	if x == nil {
		return nil
	}
	if id := resp.Header.Get("X-Amz-Request-Id"); id != "" {
		x.reqID = id
	}
	x.hostID = resp.Header.Get("X-Amz-Id-2")
	if resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified {
		if !x.op.ReadOnly && resp.StatusCode < 300 {
			x.response = responseElements(resp, x.op)
		}
		return nil
	}
	x.errCode, x.errMsg = statusCode(resp.StatusCode, x.op), ""
	if resp.Body == nil || resp.Body == http.NoBody || resp.ContentLength > maxErrorBody {
		return nil
	}
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
	if code, msg, ok := parseError(buf); ok {
		x.errCode, x.errMsg = code, msg
	}
	rest := resp.Body
	var tail io.Reader = rest
	if err != nil {
		tail = &errReader{err}
	}
	resp.Body = readCloser{io.MultiReader(bytes.NewReader(buf), tail), rest}
	return nil
}

// responseElements are what S3 records of a successful write's response: the encryption,
// version and expiration headers, and, for CreateMultipartUpload, the upload ID from its small
// XML body (read and put back).
func responseElements(resp *http.Response, op Operation) json.RawMessage {
	m := map[string]string{}
	for _, h := range []string{"x-amz-server-side-encryption", "x-amz-version-id", "x-amz-expiration",
		"x-amz-server-side-encryption-aws-kms-key-id", "x-amz-server-side-encryption-bucket-key-enabled"} {
		if v := resp.Header.Get(h); v != "" {
			m[h] = v
		}
	}
	if op.EventName == "CreateMultipartUpload" && resp.Body != nil && resp.Body != http.NoBody && resp.ContentLength <= maxErrorBody {
		buf, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody+1))
		var r struct {
			Bucket   string `xml:"Bucket"`
			Key      string `xml:"Key"`
			UploadID string `xml:"UploadId"`
		}
		if xml.Unmarshal(buf, &r) == nil && r.UploadID != "" {
			m["bucket"], m["key"], m["uploadId"] = r.Bucket, r.Key, r.UploadID
		}
		var tail io.Reader = resp.Body
		if err != nil {
			tail = &errReader{err}
		}
		resp.Body = readCloser{io.MultiReader(bytes.NewReader(buf), tail), resp.Body}
	}
	if len(m) == 0 {
		return nil
	}
	b, _ := json.Marshal(m)
	return b
}

type errReader struct{ err error }

func (e *errReader) Read([]byte) (int, error) { return 0, e.err }

type readCloser struct {
	io.Reader
	io.Closer
}

// statusCode is the error code recorded when an error response has no readable body (HEAD).
func statusCode(status int, op Operation) string {
	switch status {
	case http.StatusNotFound:
		switch {
		case op.Bucket == "":
			return "NotFound"
		case op.Key == "":
			return "NoSuchBucket"
		}
		return "NoSuchKey"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusPreconditionFailed:
		return "PreconditionFailed"
	case http.StatusMethodNotAllowed:
		return "MethodNotAllowed"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	}
	if status >= 500 {
		return "InternalError"
	}
	return http.StatusText(status)
}

// parseError reads <Error><Code>…</Code><Message>…</Message></Error>.
func parseError(b []byte) (code, msg string, ok bool) {
	var e struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	if err := xml.Unmarshal(b, &e); err != nil || e.Code == "" {
		return "", "", false
	}
	return truncate(e.Code, 1024), truncate(e.Message, 1024), true
}

// proxyError answers when the backend cannot be reached or the request body failed
// (a payload hash mismatch in front-door mode).
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	x, _ := r.Context().Value(ctxKey{}).(*exchange)
	e := &s3Error{"ServiceUnavailable", "The storage backend is unavailable.", http.StatusServiceUnavailable}
	if errors.Is(err, errContentSHA) {
		e = &s3Error{"XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", http.StatusBadRequest}
	} else if errors.Is(err, errChunkSignature) {
		e = &s3Error{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.", http.StatusForbidden}
	} else if errors.Is(err, context.Canceled) {
		e = &s3Error{"RequestCanceled", "The client canceled the request.", 499}
	} else {
		g.log.Warn("gateway: backend request failed", "err", err)
	}
	reqID := ""
	if x != nil {
		x.errCode, x.errMsg = e.code, e.message
		reqID = x.reqID
	}
	if e.status == 499 {
		if cw, ok := w.(*countingWriter); ok {
			cw.status = 499
		}
		return
	}
	writeError(w, r, e, reqID)
}

type s3Error struct {
	code, message string
	status        int
}

func (e *s3Error) Error() string { return e.code + ": " + e.message }

// writeError writes an S3 REST XML error.
func writeError(w http.ResponseWriter, r *http.Request, e *s3Error, reqID string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	_ = xml.EscapeText(&b, []byte(e.code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(e.message))
	b.WriteString("</Message><RequestId>")
	_ = xml.EscapeText(&b, []byte(reqID))
	b.WriteString("</RequestId></Error>")
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", reqID)
	if r.Method == http.MethodHead {
		w.WriteHeader(e.status)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(b.Len()))
	w.WriteHeader(e.status)
	_, _ = w.Write(b.Bytes())
}

// record builds the request's CloudTrail record and hands it to the recorder.
func (g *Gateway) record(r *http.Request, x *exchange, out int64) error {
	if g.cfg.Recorder == nil {
		return nil
	}
	e := g.buildRecord(r, x, out)
	// The client may be gone; the record must still be written.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
	defer cancel()
	if err := g.cfg.Recorder.Record(ctx, e); err != nil {
		g.log.Error("gateway: record request", "event", e.EventName, "request_id", e.RequestID, "err", err)
		return err
	}
	return nil
}

// additionalEventData in the order AWS writes it for S3.
type additionalData struct {
	SignatureVersion     string `json:"SignatureVersion,omitempty"`
	CipherSuite          string `json:"CipherSuite,omitempty"`
	BytesTransferredIn   int64  `json:"bytesTransferredIn"`
	AuthenticationMethod string `json:"AuthenticationMethod,omitempty"`
	XAmzID2              string `json:"x-amz-id-2,omitempty"`
	BytesTransferredOut  int64  `json:"bytesTransferredOut"`
}

func (g *Gateway) buildRecord(r *http.Request, x *exchange, out int64) *opentrail.Event {
	op := x.op
	e := &opentrail.Event{
		EventVersion:       opentrail.EventVersion,
		UserIdentity:       identity(x, g.cfg.AccountID),
		EventTime:          g.cfg.Now().UTC().Format(opentrail.TimeFormat),
		EventSource:        "s3.amazonaws.com",
		EventName:          op.EventName,
		AWSRegion:          x.region,
		SourceIPAddress:    sourceIP(r, g.cfg.TrustedProxies),
		UserAgent:          truncate(r.UserAgent(), 1024),
		ErrorCode:          x.errCode,
		ErrorMessage:       x.errMsg,
		RequestParameters:  requestParameters(r, op),
		ResponseElements:   x.response,
		RequestID:          x.reqID,
		EventID:            uuid.Must(uuid.NewV7()).String(),
		ReadOnly:           op.ReadOnly,
		Resources:          resources(op, g.cfg.AccountID),
		EventType:          opentrail.EventTypeAPICall,
		ManagementEvent:    !op.Data,
		RecipientAccountID: g.cfg.AccountID,
		EventCategory:      opentrail.CategoryManagement,
	}
	if op.Data {
		e.EventCategory = opentrail.CategoryData
	}
	if e.ResponseElements == nil || x.errCode != "" {
		e.ResponseElements = json.RawMessage("null")
	}
	ad := additionalData{BytesTransferredOut: out, AuthenticationMethod: x.authMeth, XAmzID2: x.hostID}
	if x.in != nil {
		ad.BytesTransferredIn = x.in.n.Load()
	}
	ad.SignatureVersion = x.sigVersion
	if r.TLS != nil {
		ad.CipherSuite = tlsCipher(r)
		e.TLSDetails = &opentrail.TLSDetails{TLSVersion: tlsVersion(r), CipherSuite: ad.CipherSuite, ClientProvidedHostHeader: r.Host}
	}
	e.AdditionalEventData, _ = json.Marshal(ad)
	return e
}

// identity is the record's userIdentity: the key's owner when OpenTrail knows the key;
// type Unknown with the access key ID for other keys (pass-through mode: the backend's own
// keys); and, as AWS records anonymous requests, AWSAccount "anonymous" for unsigned ones.
func identity(x *exchange, account string) *opentrail.UserIdentity {
	switch {
	case x.caller != nil:
		return x.caller.UserIdentity()
	case x.accessKey != "":
		return &opentrail.UserIdentity{Type: opentrail.IdentityUnknown, AccessKeyID: x.accessKey}
	}
	return &opentrail.UserIdentity{Type: "AWSAccount", AccountID: "anonymous"}
}

// otherSignature reads the access key ID of a request signed otherwise than with SigV4:
// SigV2 ("AWS AKID:sig" or the AWSAccessKeyId query parameter) or SigV4A (Credential=AKID/…).
func otherSignature(r *http.Request) (key, method, version string) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	switch {
	case strings.HasPrefix(auth, "AWS "):
		key, _, _ = strings.Cut(strings.TrimPrefix(auth, "AWS "), ":")
		return strings.TrimSpace(key), "AuthHeader", "SigV2"
	case strings.HasPrefix(auth, "AWS4-ECDSA-P256-SHA256"):
		if _, rest, ok := strings.Cut(auth, "Credential="); ok {
			key, _, _ = strings.Cut(rest, "/")
		}
		return key, "AuthHeader", "SigV4A"
	}
	q := r.URL.Query()
	if k := q.Get("AWSAccessKeyId"); k != "" {
		return k, "QueryString", "SigV2"
	}
	if q.Get("X-Amz-Algorithm") == "AWS4-ECDSA-P256-SHA256" {
		key, _, _ = strings.Cut(q.Get("X-Amz-Credential"), "/")
		return key, "QueryString", "SigV4A"
	}
	return "", "", ""
}

// requestParameters are bucketName, Host, key and the query parameters (other than the
// signature's), as S3 records them.
func requestParameters(r *http.Request, op Operation) json.RawMessage {
	m := map[string]any{"Host": r.Host}
	if op.Bucket != "" {
		m["bucketName"] = op.Bucket
	}
	if op.Key != "" {
		m["key"] = op.Key
	}
	for k, v := range r.URL.Query() {
		if isSigParam(k) || len(v) == 0 {
			continue
		}
		if _, taken := m[k]; !taken {
			m[k] = v[0]
		}
	}
	if cs := r.Header.Get("X-Amz-Copy-Source"); cs != "" {
		m["x-amz-copy-source"] = cs
	}
	b, err := json.Marshal(m)
	if err != nil || len(b) > 100<<10 {
		return json.RawMessage(`{"omitted":true}`)
	}
	return b
}

// resources: the object (or, for listings, the bucket's key prefix) and the bucket.
func resources(op Operation, account string) []opentrail.Resource {
	if op.Bucket == "" {
		return nil
	}
	bucket := opentrail.Resource{ARN: "arn:aws:s3:::" + op.Bucket, AccountID: account, Type: "AWS::S3::Bucket"}
	switch {
	case op.Key != "":
		return []opentrail.Resource{{ARN: "arn:aws:s3:::" + op.Bucket + "/" + op.Key, Type: "AWS::S3::Object"}, bucket}
	case op.Data:
		// Listings and DeleteObjects: the objects under the bucket (AWS writes ARNPrefix).
		prefix := "arn:aws:s3:::" + op.Bucket + "/"
		return []opentrail.Resource{{ARN: prefix, Type: "AWS::S3::Object"}, bucket}
	}
	return []opentrail.Resource{bucket}
}

// sourceIP is the peer address or, when the peer is a trusted proxy, the right-most address
// of X-Forwarded-For that is not itself a trusted proxy (as the API server decides).
func sourceIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	isTrusted := func(s string) bool {
		a, err := netip.ParseAddr(strings.TrimSpace(s))
		if err != nil {
			return false
		}
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	if len(trusted) == 0 || !isTrusted(host) {
		return host
	}
	parts := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(parts) - 1; i >= 0; i-- {
		p := strings.TrimSpace(parts[i])
		if p == "" {
			continue
		}
		if !isTrusted(p) {
			if _, err := netip.ParseAddr(p); err == nil {
				return p
			}
			return host
		}
	}
	return host
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
