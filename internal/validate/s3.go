package validate

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/opentrail/opentrail/internal/blob"
)

// S3Store reads a trail's files from an S3-compatible endpoint. List, and any Get that does
// not succeed at once, go through blob.S3 (the SDK's client, with its retries and its
// errors); a Get is first tried as one plain signed GET request, without the SDK's
// per-request machinery, which costs more CPU than hashing a small log file. Both read the
// same object: the body and the user metadata (names in lower case, values trimmed, as the
// SDK gives them).
type S3Store struct {
	*blob.S3
	base   url.URL
	creds  aws.Credentials
	region string
	signer *v4.Signer
	client *http.Client
}

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// NewS3Store returns the store for o's endpoint, with connections for workers parallel Gets.
func NewS3Store(o blob.S3Options, workers int) (*S3Store, error) {
	s3, err := blob.NewS3(o)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(strings.TrimSuffix(o.Endpoint, "/"))
	if err != nil {
		return nil, err
	}
	region := o.Region
	if region == "" {
		region = blob.DefaultS3Region
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Timeout: 5 * time.Minute,
			Transport: &http.Transport{
				Proxy:                 http.ProxyFromEnvironment,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: time.Minute,
				IdleConnTimeout:       90 * time.Second,
				MaxIdleConnsPerHost:   max(workers, 16),
				ForceAttemptHTTP2:     true,
			},
		}
	}
	return &S3Store{
		S3: s3, base: *u, region: region, client: hc,
		creds:  aws.Credentials{AccessKeyID: o.AccessKeyID, SecretAccessKey: o.SecretAccessKey},
		signer: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }),
	}, nil
}

// Get reads an object.
func (s *S3Store) Get(ctx context.Context, bucket, key string) (*blob.Object, error) {
	if blob.ValidBucketName(bucket) && blob.ValidKey(key) {
		if o, err := s.get(ctx, bucket, key); err == nil {
			return o, nil
		}
	}
	return s.S3.Get(ctx, bucket, key)
}

// get sends one GET request, path-style; any answer but 200 with a whole body is an error.
func (s *S3Store) get(ctx context.Context, bucket, key string) (*blob.Object, error) {
	u := s.base
	u.Path = strings.TrimSuffix(s.base.Path, "/") + "/" + bucket + "/" + key
	u.RawPath = strings.TrimSuffix(s.base.EscapedPath(), "/") + "/" + bucket + "/" + httpbinding.EscapePath(key, false)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	// The object as stored: no transparent decompression by the transport.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := s.signer.SignHTTP(ctx, s.creds, req, emptySHA256, "s3", s.region, time.Now().UTC()); err != nil {
		return nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // keep the connection
		return nil, fmt.Errorf("GET %s/%s: HTTP %d", bucket, key, resp.StatusCode)
	}
	var body bytes.Buffer
	if resp.ContentLength > 0 {
		body.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	if _, err := body.ReadFrom(resp.Body); err != nil {
		return nil, err
	}
	o := &blob.Object{Key: key, Size: int64(body.Len()), Body: body.Bytes()}
	for name, values := range resp.Header {
		const prefix = "x-amz-meta-"
		if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
			if o.Metadata == nil {
				o.Metadata = map[string]string{}
			}
			o.Metadata[strings.ToLower(name[len(prefix):])] = strings.TrimSpace(values[0])
		}
	}
	return o, nil
}
