// Package testserver runs a real `opentrail serve` process for end-to-end tests: it builds
// the binary once per test process (or uses $OPENTRAIL_BIN), starts it on a free loopback
// port with a temporary data directory and known root credentials, and hands out
// aws-sdk-go-v2 configurations that talk to it.
package testserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Fixed identity of the first account of every test server.
const (
	AccountID       = "123456789012"
	RootAccessKeyID = "AKIAOPENTRAILROOT001"
	RootSecret      = "opentrail-test-root-secret-0123456789abcd"
	Region          = "us-east-1"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of an opentrail binary built from this checkout.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("OPENTRAIL_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "opentrail-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "opentrail")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/opentrail")
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running opentrail serve process.
type Server struct {
	t       testing.TB
	URL     string
	Addr    string
	DataDir string
	Args    []string // extra serve flags
	Env     []string // extra environment

	scheme string
	client *http.Client // for https servers: trusts their certificate

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	output *lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for the process writer and Output readers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Option adjusts a server before it starts.
type Option func(*Server)

// WithArgs adds serve flags.
func WithArgs(args ...string) Option { return func(s *Server) { s.Args = append(s.Args, args...) } }

// WithEnv adds environment variables (NAME=value) to the server's environment.
func WithEnv(env ...string) Option { return func(s *Server) { s.Env = append(s.Env, env...) } }

// WithDataDir uses dir instead of a fresh temporary data directory.
func WithDataDir(dir string) Option { return func(s *Server) { s.DataDir = dir } }

// WithTLS serves HTTPS with the PEM certificate and key files; client must trust the
// certificate. Configs from Config use client.
func WithTLS(certFile, keyFile string, client *http.Client) Option {
	return func(s *Server) {
		s.Args = append(s.Args, "--tls-cert", certFile, "--tls-key", keyFile)
		s.scheme, s.client = "https", client
	}
}

// Start starts a server and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{t: t}
	for _, o := range opts {
		o(s)
	}
	if s.DataDir == "" {
		s.DataDir = t.TempDir()
	}
	s.Addr = freeAddr(t)
	if s.scheme == "" {
		s.scheme, s.client = "http", http.DefaultClient
	}
	s.URL = s.scheme + "://" + s.Addr
	s.start()
	t.Cleanup(s.Stop)
	return s
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *Server) start() {
	s.t.Helper()
	args := append([]string{"serve",
		"--data-dir", s.DataDir,
		"--listen", s.Addr,
		"--account-id", AccountID,
		"--root-access-key-id", RootAccessKeyID,
		"--root-secret-access-key", RootSecret,
		"--log-level", "warn",
	}, s.Args...)
	cmd := exec.Command(Binary(s.t), args...)
	cmd.Env = append(os.Environ(), s.Env...)
	s.output = &lockedBuffer{}
	cmd.Stdout = s.output
	cmd.Stderr = s.output
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start opentrail: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.t.Fatalf("opentrail exited during start:\n%s", s.output.String())
		default:
		}
		resp, err := s.client.Get(s.URL + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("opentrail did not become healthy:\n%s", s.output.String())
}

// Output is what the server printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	out := s.output
	s.mu.Unlock()
	return out.String()
}

func (s *Server) signal(sig os.Signal) {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Stop shuts the server down gracefully (SIGTERM) and waits for it.
func (s *Server) Stop() { s.signal(syscall.SIGTERM) }

// Kill kills the server with SIGKILL and waits for it.
func (s *Server) Kill() { s.signal(syscall.SIGKILL) }

// Restart stops the server gracefully and starts it again on the same address and data dir.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Start again after Kill or Stop, on the same address and data dir.
func (s *Server) StartAgain() {
	s.t.Helper()
	s.start()
}

// Config returns an AWS configuration for the given static credentials (token may be empty).
// Its HTTP client works around smithy-go's loopback race (see HideWriterTo).
func (s *Server) Config(accessKeyID, secret, token string) aws.Config {
	rt := s.client.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return aws.Config{
		HTTPClient:       &http.Client{Transport: HideWriterTo{rt}},
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(accessKeyID, secret, token),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
	}
}

// HideWriterTo works around a client-side race of smithy-go with fast (loopback) servers:
// smithy closes the request body as soon as the response headers arrive, after which its
// body's WriteTo returns io.EOF; when net/http's write loop then finishes the request body
// through WriteTo, it takes the io.EOF for a write error and closes the connection under a
// response body still being read ("use of closed network connection" on responses of a few
// hundred kB). Hiding WriteTo makes net/http use Read, which returns a clean EOF.
type HideWriterTo struct{ RT http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (h HideWriterTo) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		body := req.Body
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{body}
	}
	return h.RT.RoundTrip(req)
}

// RootConfig returns an AWS configuration with the first account's root credentials.
func (s *Server) RootConfig() aws.Config {
	return s.Config(RootAccessKeyID, RootSecret, "")
}

// Context returns a context bounded by the test's deadline and a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}
