// Package s3server runs a real S3-compatible server for tests: versitygw (pinned by
// scripts/setup) with its posix backend on a temporary directory, on a free loopback port,
// with generated root credentials. Tests of the S3 bucket store and end-to-end delivery tests
// use it; fault tests stop it for a while and start it again on the same port and directory.
//
// The versitygw binary is $OPENTRAIL_VERSITYGW, else <repository>/.tools/bin/versitygw, else
// versitygw on $PATH. A missing binary fails the test: run scripts/setup.
package s3server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region versitygw serves (its default).
const Region = "us-east-1"

// Server is a versitygw process serving the directory Dir at URL.
type Server struct {
	URL             string // http://127.0.0.1:PORT
	Addr            string // 127.0.0.1:PORT
	AccessKeyID     string
	SecretAccessKey string
	Dir             string // the posix backend's root: one directory per bucket

	t      testing.TB
	bin    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{}
	output *lockedBuffer
}

// Binary returns the path of the versitygw binary, or fails the test.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("OPENTRAIL_VERSITYGW"); p != "" {
		return p
	}
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "..", ".tools", "bin", "versitygw")
	if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	t.Fatalf("versitygw not found (not in $OPENTRAIL_VERSITYGW, %s or $PATH): run scripts/setup, which installs the pinned version into .tools/bin", p)
	return ""
}

// Start starts versitygw on a fresh temporary directory and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		t:               t,
		bin:             Binary(t),
		Dir:             t.TempDir(),
		AccessKeyID:     "OTS3" + strings.ToUpper(randomHex(8)),
		SecretAccessKey: randomHex(20),
	}
	t.Cleanup(s.Stop)
	// Another process may take the free port between picking and binding it; try again then.
	for attempt := 0; ; attempt++ {
		s.Addr = freeAddr(t)
		s.URL = "http://" + s.Addr
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 2 {
			t.Fatal(err)
		}
	}
}

// Start starts the server again after Stop, on the same port and directory, and waits until
// it answers.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatal(err)
	}
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it; from then on,
// connections to URL are refused until Start. Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Output is what the current (or last) versitygw process printed.
func (s *Server) Output() string {
	s.mu.Lock()
	out := s.output
	s.mu.Unlock()
	if out == nil {
		return ""
	}
	return out.String()
}

// Client returns an S3 client for the server's root credentials (path-style, one attempt).
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:           Region,
		BaseEndpoint:     aws.String(s.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(s.AccessKeyID, s.SecretAccessKey, ""),
		RetryMaxAttempts: 1,
	})
}

// CreateBucket creates a bucket or fails the test.
func (s *Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s on versitygw: %v", name, err)
	}
}

// ServeEnv is the environment that points `opentrail serve` at this server
// (OPENTRAIL_S3_ENDPOINT and the credentials), for testserver.Server.Env.
func (s *Server) ServeEnv() []string {
	return []string{
		"OPENTRAIL_S3_ENDPOINT=" + s.URL,
		"OPENTRAIL_S3_ACCESS_KEY_ID=" + s.AccessKeyID,
		"OPENTRAIL_S3_SECRET_ACCESS_KEY=" + s.SecretAccessKey,
		"OPENTRAIL_S3_REGION=" + Region,
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return errors.New("s3server: Start while running")
	}
	// --keep-alive as S3 itself does (versitygw closes every connection by default).
	cmd := exec.Command(s.bin, "--port", s.Addr, "--quiet", "--keep-alive", "posix", s.Dir)
	cmd.Env = append(cleanEnv(), "ROOT_ACCESS_KEY="+s.AccessKeyID, "ROOT_SECRET_KEY="+s.SecretAccessKey)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return errors.New("s3server: start versitygw: " + err.Error())
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done, s.output = cmd, done, out
	s.mu.Unlock()

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.mu.Lock()
			s.cmd = nil
			s.mu.Unlock()
			return errors.New("s3server: versitygw exited during start:\n" + out.String())
		default:
		}
		// Any answer of versitygw (it refuses an unsigned ListBuckets) means it is serving.
		if resp, err := client.Get(s.URL + "/"); err == nil {
			resp.Body.Close()
			if resp.Header.Get("Server") == "VERSITYGW" {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return errors.New("s3server: versitygw did not answer within 30 s:\n" + out.String())
}

// cleanEnv is this process's environment without the variables versitygw reads for its
// credentials and settings, so that the test's own generated ones apply.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "ROOT_") || strings.HasPrefix(name, "VGW_") || strings.HasPrefix(name, "AWS_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
