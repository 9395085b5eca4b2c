package blob

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// DefaultS3Region is the signing region of an S3 store whose options name none.
const DefaultS3Region = "us-east-1"

// S3Options configure an S3 store.
type S3Options struct {
	// Endpoint is the base URL of the S3-compatible service ("http://127.0.0.1:7070",
	// "https://s3.example.com"). Buckets are addressed path-style: <Endpoint>/<bucket>/<key>.
	Endpoint string
	// AccessKeyID and SecretAccessKey are the static credentials requests are signed with.
	AccessKeyID     string
	SecretAccessKey string
	// Region is the SigV4 signing region and the location of new buckets; default us-east-1.
	Region string
	// HTTPClient sends the requests; default a client with connect, response-header and
	// overall timeouts (10 s, 1 min, 5 min) that honours HTTP(S)_PROXY.
	HTTPClient *http.Client
	// MaxAttempts is how many times the SDK sends a request before giving up on errors it
	// deems retryable (throttling, 5xx, connection resets); default 2. Retrying for longer is
	// the caller's job: delivery retries a failed file on its next cycle.
	MaxAttempts int
}

// S3 keeps buckets on an S3-compatible endpoint (AWS S3, versitygw, MinIO, Ceph RGW ...)
// through the AWS SDK for Go v2, path-style, with static credentials. Its methods may be called
// concurrently.
//
// Every Put sends Content-MD5 (so the server verifies the body), Content-Type, the metadata
// as x-amz-meta-* headers, x-amz-acl: bucket-owner-full-control (as CloudTrail does, so that
// the bucket owner owns log files written with another account's credentials) and, when
// asked, x-amz-server-side-encryption. The SDK's own CRC checksums (aws-chunked trailers) are
// off, because older S3-compatible servers refuse them.
//
// Errors from the endpoint are *S3Error, which keeps the S3 error code and wraps the matching
// sentinel (ErrBucketNotFound for NoSuchBucket, ErrAccessDenied for AccessDenied, any other
// 403 and versitygw's XAdminUserNotFound, ErrObjectNotFound for NoSuchKey, ErrBucketExists for BucketAlreadyOwnedByYou and
// BucketAlreadyExists, ErrInvalidBucketName for InvalidBucketName).
type S3 struct {
	client   *s3.Client
	endpoint string
	region   string
}

var _ Store = (*S3)(nil)

// NewS3 returns the store for the endpoint of o. It sends no request.
func NewS3(o S3Options) (*S3, error) {
	u, err := url.Parse(o.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		shown := o.Endpoint
		if u != nil {
			shown = u.Redacted() // no password in messages
		}
		return nil, fmt.Errorf("blob: S3 endpoint %q is not an http(s) base URL without user info, query or fragment", shown)
	}
	if o.AccessKeyID == "" || o.SecretAccessKey == "" {
		return nil, errors.New("blob: S3 endpoint needs an access key ID and a secret access key")
	}
	region := o.Region
	if region == "" {
		region = DefaultS3Region
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = defaultS3HTTPClient()
	}
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = 2
	}
	client := s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(strings.TrimSuffix(o.Endpoint, "/")),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, ""),
		HTTPClient:   hc,
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 2 * time.Second
			so.RateLimiter = ratelimit.None
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return &S3{client: client, endpoint: o.Endpoint, region: region}, nil
}

func defaultS3HTTPClient() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: time.Minute,
			ExpectContinueTimeout: time.Second,
			IdleConnTimeout:       90 * time.Second,
			MaxIdleConnsPerHost:   16,
			ForceAttemptHTTP2:     true,
		},
	}
}

// Endpoint is the base URL the store talks to.
func (s *S3) Endpoint() string { return s.endpoint }

// S3Error is an error response of an S3 endpoint. Code is the S3 error code ("NoSuchBucket",
// "AccessDenied"), which is what CloudTrail shows as a trail's LatestDeliveryError (see
// ErrorCode). It wraps the sentinel error it stands for, if any, and the SDK's error.
type S3Error struct {
	Op         string // S3 operation: "PutObject", "HeadBucket" ...
	Bucket     string
	Key        string // "" for bucket operations
	StatusCode int    // HTTP status, 0 if unknown
	Code       string // S3 error code
	Message    string // S3 error message, may be ""

	sentinel error
	err      error
}

func (e *S3Error) Error() string {
	var b strings.Builder
	b.WriteString("s3 ")
	b.WriteString(e.Op)
	b.WriteString(" ")
	b.WriteString(e.Bucket)
	if e.Key != "" {
		b.WriteString("/")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	return b.String()
}

// Unwrap returns the sentinel error (if any) and the SDK's error.
func (e *S3Error) Unwrap() []error {
	if e.sentinel == nil {
		return []error{e.err}
	}
	return []error{e.sentinel, e.err}
}

// wrapErr turns an SDK error into an *S3Error when the endpoint answered, and otherwise (no
// connection, timeout, cancelled context) wraps it with the operation.
func wrapErr(op, bucket, key string, err error) error {
	var apiErr smithy.APIError
	var resp interface{ HTTPStatusCode() int }
	hasAPI := errors.As(err, &apiErr)
	hasResp := errors.As(err, &resp) && resp.HTTPStatusCode() != 0 // 0: nothing was received
	if !hasAPI && !hasResp {
		where := bucket
		if key != "" {
			where += "/" + key
		}
		// Say what went wrong below the SDK's retry and operation wrappers.
		cause := err
		if ue, ok := errors.AsType[*url.Error](err); ok {
			cause = ue.Err
		} else if ce, ok := errors.AsType[*smithy.CanceledError](err); ok {
			cause = ce.Err
		}
		return &opError{msg: fmt.Sprintf("s3 %s %s: %v", op, where, cause), err: err}
	}
	e := &S3Error{Op: op, Bucket: bucket, Key: key, err: err}
	if hasAPI {
		e.Code, e.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	if hasResp {
		e.StatusCode = resp.HTTPStatusCode()
	}
	// Answers to HEAD requests have no body, so no code: name it after the status.
	if e.Code == "" || e.Code == "NotFound" || e.Code == "Forbidden" {
		switch {
		case e.StatusCode == http.StatusNotFound && key == "":
			e.Code = "NoSuchBucket"
		case e.StatusCode == http.StatusNotFound:
			e.Code = "NoSuchKey"
		case e.StatusCode == http.StatusForbidden:
			e.Code = "AccessDenied"
		case e.Code == "":
			e.Code = http.StatusText(e.StatusCode)
		}
	}
	switch {
	case e.Code == "NoSuchBucket":
		e.sentinel = ErrBucketNotFound
	case e.Code == "NoSuchKey":
		e.sentinel = ErrObjectNotFound
	case e.Code == "BucketAlreadyOwnedByYou" || e.Code == "BucketAlreadyExists":
		e.sentinel = ErrBucketExists
	case e.Code == "InvalidBucketName":
		e.sentinel = ErrInvalidBucketName
	case e.Code == "AccessDenied" || e.StatusCode == http.StatusForbidden,
		e.Code == "XAdminUserNotFound": // versitygw's InvalidAccessKeyId, with status 404
		e.sentinel = ErrAccessDenied
	}
	return e
}

// opError is an S3 request that got no answer: the message is short, the chain complete.
type opError struct {
	msg string
	err error
}

func (e *opError) Error() string { return e.msg }
func (e *opError) Unwrap() error { return e.err }

func checkBucket(bucket string) error {
	if !ValidBucketName(bucket) {
		return fmt.Errorf("%w: %q", ErrInvalidBucketName, bucket)
	}
	return nil
}

func checkObject(bucket, key string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	return CheckKey(key)
}

// CreateBucket creates an empty bucket, in the store's region.
func (s *S3) CreateBucket(ctx context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if s.region != DefaultS3Region {
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{
			LocationConstraint: types.BucketLocationConstraint(s.region),
		}
	}
	if _, err := s.client.CreateBucket(ctx, in); err != nil {
		return wrapErr("CreateBucket", bucket, "", err)
	}
	return nil
}

// CheckWritable sends HeadBucket, then puts a small probe object (with the headers of a real
// Put) and deletes it again. A bucket that accepts the probe but refuses its deletion
// (credentials that may only write) counts as writable; the probe stays.
func (s *S3) CheckWritable(ctx context.Context, bucket string) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	if _, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return wrapErr("HeadBucket", bucket, "", err)
	}
	probe := probePrefix + randomHex()
	if err := s.put(ctx, bucket, probe, []byte("OpenTrail write check\n"), PutOptions{ContentType: "text/plain"}); err != nil {
		return err
	}
	if err := s.delete(ctx, bucket, probe); err != nil && !errors.Is(err, ErrAccessDenied) {
		return err
	}
	return nil
}

// Put writes the object with one PutObject request.
func (s *S3) Put(ctx context.Context, bucket, key string, body []byte, opts PutOptions) error {
	if err := checkObject(bucket, key); err != nil {
		return err
	}
	return s.put(ctx, bucket, key, body, opts)
}

func (s *S3) put(ctx context.Context, bucket, key string, body []byte, opts PutOptions) error {
	meta, err := normalizeMetadata(opts.Metadata)
	if err != nil {
		return err
	}
	ct := opts.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := md5.Sum(body)
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		ContentType:   aws.String(ct),
		Metadata:      meta,
		ACL:           types.ObjectCannedACLBucketOwnerFullControl,
	}
	if opts.ServerSideEncryption != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(opts.ServerSideEncryption)
	}
	if _, err := s.client.PutObject(ctx, in); err != nil {
		return wrapErr("PutObject", bucket, key, err)
	}
	return nil
}

// Get reads the object with one GetObject request.
func (s *S3) Get(ctx context.Context, bucket, key string) (*Object, error) {
	if err := checkObject(bucket, key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, wrapErr("GetObject", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("s3 GetObject %s/%s: read body: %w", bucket, key, err)
	}
	o := &Object{Key: key, Size: int64(len(body)), Body: body}
	if len(out.Metadata) > 0 {
		o.Metadata = make(map[string]string, len(out.Metadata))
		for k, v := range out.Metadata {
			o.Metadata[strings.ToLower(k)] = v
		}
	}
	return o, nil
}

// List pages through ListObjectsV2 (1000 keys a page), starting after startAfter.
func (s *S3) List(ctx context.Context, bucket, prefix, startAfter string, fn func(Object) error) error {
	if err := checkBucket(bucket); err != nil {
		return err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	for {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			return wrapErr("ListObjectsV2", bucket, "", err)
		}
		last := ""
		for _, c := range out.Contents {
			last = aws.ToString(c.Key)
			if err := fn(Object{Key: last, Size: aws.ToInt64(c.Size)}); err != nil {
				return err
			}
		}
		if !aws.ToBool(out.IsTruncated) {
			return nil
		}
		next := aws.ToString(out.NextContinuationToken)
		switch {
		case next != "" && next != aws.ToString(in.ContinuationToken):
			in.ContinuationToken = aws.String(next)
		case last != "":
			// No usable token: go on after the last key, as with ListObjects V1.
			in.ContinuationToken, in.StartAfter = nil, aws.String(last)
		default:
			return fmt.Errorf("s3 ListObjectsV2 %s: truncated listing without a way to continue", bucket)
		}
	}
}

// Delete removes the object with one DeleteObject request.
func (s *S3) Delete(ctx context.Context, bucket, key string) error {
	if err := checkObject(bucket, key); err != nil {
		return err
	}
	return s.delete(ctx, bucket, key)
}

func (s *S3) delete(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		err = wrapErr("DeleteObject", bucket, key, err)
		if errors.Is(err, ErrObjectNotFound) {
			return nil
		}
		return err
	}
	return nil
}
