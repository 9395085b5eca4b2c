package blob_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/blob/blobtest"
	"github.com/opentrail/opentrail/internal/testserver/s3server"
)

func newS3(t *testing.T, srv *s3server.Server, o blob.S3Options) *blob.S3 {
	t.Helper()
	if o.Endpoint == "" {
		o.Endpoint = srv.URL
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID, o.SecretAccessKey = srv.AccessKeyID, srv.SecretAccessKey
	}
	s, err := blob.NewS3(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	srv := s3server.Start(t)
	store := newS3(t, srv, blob.S3Options{})
	blobtest.Run(t, func(*testing.T) blob.Store { return store })
}

func TestNewS3Options(t *testing.T) {
	for _, o := range []blob.S3Options{
		{Endpoint: "", AccessKeyID: "a", SecretAccessKey: "b"},
		{Endpoint: "127.0.0.1:7070", AccessKeyID: "a", SecretAccessKey: "b"},
		{Endpoint: "ftp://host", AccessKeyID: "a", SecretAccessKey: "b"},
		{Endpoint: "http://host/?x=1", AccessKeyID: "a", SecretAccessKey: "b"},
		{Endpoint: "http://host", AccessKeyID: "a"},
		{Endpoint: "http://host", SecretAccessKey: "b"},
	} {
		if _, err := blob.NewS3(o); err == nil {
			t.Errorf("NewS3(%+v) succeeded", o)
		}
	}
	if _, err := blob.NewS3(blob.S3Options{Endpoint: "https://s3.example.com/", AccessKeyID: "a", SecretAccessKey: "b"}); err != nil {
		t.Errorf("NewS3 = %v", err)
	}
}

// recorder keeps the headers of the requests a store sends.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) last(method string) *http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.reqs) - 1; i >= 0; i-- {
		if r.reqs[i].Method == method {
			return r.reqs[i]
		}
	}
	return nil
}

// TestS3PutHeaders pins what a Put sends: what CloudTrail sends when it delivers a file.
func TestS3PutHeaders(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, "logs")
	rec := &recorder{}
	s := newS3(t, srv, blob.S3Options{HTTPClient: &http.Client{Transport: rec}})
	ctx := context.Background()
	err := s.Put(ctx, "logs", "AWSLogs/1/x.json.gz", []byte("gzip bytes"), blob.PutOptions{
		ContentType:          "application/json",
		Metadata:             map[string]string{"signature": "abc", "signature-algorithm": "SHA256withRSA"},
		ServerSideEncryption: "AES256",
	})
	if err != nil {
		t.Fatal(err)
	}
	req := rec.last(http.MethodPut)
	if req == nil {
		t.Fatal("no PUT request sent")
	}
	if req.URL.Path != "/logs/AWSLogs/1/x.json.gz" {
		t.Errorf("path = %q; want path-style /logs/AWSLogs/1/x.json.gz", req.URL.Path)
	}
	for h, want := range map[string]string{
		"Content-Type":                   "application/json",
		"Content-Md5":                    "ipY2hDIDxjyu6uwIjhW8tg==",
		"X-Amz-Acl":                      "bucket-owner-full-control",
		"X-Amz-Meta-Signature":           "abc",
		"X-Amz-Meta-Signature-Algorithm": "SHA256withRSA",
		"X-Amz-Server-Side-Encryption":   "AES256",
	} {
		if got := req.Header.Get(h); got != want {
			t.Errorf("%s = %q; want %q", h, got, want)
		}
	}
	if got := req.Header.Get("Content-Encoding"); strings.Contains(got, "aws-chunked") {
		t.Errorf("Content-Encoding = %q; want no aws-chunked trailers", got)
	}
	// What a plain S3 client sees.
	head, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("logs"), Key: aws.String("AWSLogs/1/x.json.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "application/json" || head.Metadata["signature"] != "abc" || head.Metadata["signature-algorithm"] != "SHA256withRSA" {
		t.Errorf("HeadObject: content type %q, metadata %v", aws.ToString(head.ContentType), head.Metadata)
	}
	// No SSE: no header.
	if err := s.Put(ctx, "logs", "plain", []byte("x"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	req = rec.last(http.MethodPut)
	if got := req.Header.Get("X-Amz-Server-Side-Encryption"); got != "" {
		t.Errorf("Put without SSE sent x-amz-server-side-encryption: %q", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/octet-stream" {
		t.Errorf("default Content-Type = %q", got)
	}
}

// TestS3Errors: errors keep the S3 error code for LatestDeliveryError.
func TestS3Errors(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, "logs")
	ctx := context.Background()
	s := newS3(t, srv, blob.S3Options{})

	err := s.Put(ctx, "missing-bucket", "k", []byte("x"), blob.PutOptions{})
	var se *blob.S3Error
	if !errors.Is(err, blob.ErrBucketNotFound) || !errors.As(err, &se) || se.Code != "NoSuchBucket" || se.StatusCode != 404 {
		t.Errorf("Put into a missing bucket = %v; want an S3Error NoSuchBucket wrapping ErrBucketNotFound", err)
	}
	if !strings.Contains(err.Error(), "NoSuchBucket") || blob.ErrorCode(err) != "NoSuchBucket" {
		t.Errorf("error %q, code %q; want NoSuchBucket in both", err, blob.ErrorCode(err))
	}
	// HeadBucket answers have no body; the code is named after the status.
	if err := s.CheckWritable(ctx, "missing-bucket"); blob.ErrorCode(err) != "NoSuchBucket" || !errors.Is(err, blob.ErrBucketNotFound) {
		t.Errorf("CheckWritable(missing) = %v (code %q)", err, blob.ErrorCode(err))
	}
	if _, err := s.Get(ctx, "logs", "nothing"); blob.ErrorCode(err) != "NoSuchKey" || !errors.Is(err, blob.ErrObjectNotFound) {
		t.Errorf("Get(missing) = %v (code %q)", err, blob.ErrorCode(err))
	}
	if err := s.CreateBucket(ctx, "logs"); !errors.Is(err, blob.ErrBucketExists) {
		t.Errorf("CreateBucket(existing) = %v", err)
	}

	// Wrong credentials: 403, AccessDenied for every method, the code kept.
	bad := newS3(t, srv, blob.S3Options{AccessKeyID: srv.AccessKeyID, SecretAccessKey: "wrong-secret-key-0123456789"})
	err = bad.CheckWritable(ctx, "logs")
	if !errors.Is(err, blob.ErrAccessDenied) {
		t.Errorf("CheckWritable with a wrong secret = %v; want ErrAccessDenied", err)
	}
	err = bad.Put(ctx, "logs", "k", []byte("x"), blob.PutOptions{})
	if !errors.Is(err, blob.ErrAccessDenied) || blob.ErrorCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("Put with a wrong secret = %v (code %q); want ErrAccessDenied, SignatureDoesNotMatch", err, blob.ErrorCode(err))
	}
	unknown := newS3(t, srv, blob.S3Options{AccessKeyID: "AKIANOSUCHKEY0000000", SecretAccessKey: "whatever-secret-key-0123456789"})
	if err := unknown.Put(ctx, "logs", "k", []byte("x"), blob.PutOptions{}); !errors.Is(err, blob.ErrAccessDenied) {
		t.Errorf("Put with an unknown key = %v (code %q); want ErrAccessDenied", err, blob.ErrorCode(err))
	}
	t.Logf("unknown access key: %v", unknown.Put(ctx, "logs", "k", []byte("x"), blob.PutOptions{}))
}

// TestS3Outage: with the endpoint down, calls fail fast with a connection error (no sentinel,
// no code) and work again once it is back.
func TestS3Outage(t *testing.T) {
	srv := s3server.Start(t)
	srv.CreateBucket(t, "logs")
	ctx := context.Background()
	s := newS3(t, srv, blob.S3Options{})
	if err := s.Put(ctx, "logs", "before", []byte("1"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	err := s.Put(ctx, "logs", "during", []byte("2"), blob.PutOptions{})
	if err == nil {
		t.Fatal("Put with the endpoint down succeeded")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Put with the endpoint down took %v", d)
	}
	if blob.ErrorCode(err) != "" || errors.Is(err, blob.ErrBucketNotFound) || errors.Is(err, blob.ErrAccessDenied) {
		t.Errorf("Put with the endpoint down = %v (code %q); want a plain connection error", err, blob.ErrorCode(err))
	}
	t.Logf("endpoint down (%v): %q", time.Since(start), err)
	srv.Start()
	if err := s.Put(ctx, "logs", "after", []byte("3"), blob.PutOptions{}); err != nil {
		t.Fatalf("Put after the endpoint came back = %v", err)
	}
	var got []string
	if err := s.List(ctx, "logs", "", "", func(o blob.Object) error { got = append(got, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "after,before" {
		t.Errorf("List = %q; want [after before]", got)
	}
}
