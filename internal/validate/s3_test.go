package validate

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/testserver/s3server"
)

// TestS3StoreSameAsBlob reads objects from versitygw through S3Store's plain GET and through
// blob.S3: the same bodies, metadata and errors.
func TestS3StoreSameAsBlob(t *testing.T) {
	if testing.Short() {
		t.Skip("starts versitygw")
	}
	gw := s3server.Start(t)
	gw.CreateBucket(t, "logs")
	opts := blob.S3Options{Endpoint: gw.URL, AccessKeyID: gw.AccessKeyID, SecretAccessKey: gw.SecretAccessKey}
	ref, err := blob.NewS3(opts)
	if err != nil {
		t.Fatal(err)
	}
	st, err := NewS3Store(opts, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	objects := map[string]map[string]string{
		"AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/02/123456789012_CloudTrail_us-east-1_20260102T0305Z_abc.json.gz": nil,
		"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2026/01/02/d.json.gz":                                             {"signature": "00ff", "signature-algorithm": "SHA256withRSA"},
		"pre fix/a+b=c&d;e,f:g@h$i'j(k)l*m!n~o_p.q-r/ü ñ %41 #?.json.gz":                                                    {"Mixed-Case": " padded "},
		"empty": nil,
	}
	for key, meta := range objects {
		body := []byte("body of " + key)
		if key == "empty" {
			body = nil
		}
		if err := ref.Put(ctx, "logs", key, body, blob.PutOptions{Metadata: meta}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
	}
	for key := range objects {
		want, err := ref.Get(ctx, "logs", key)
		if err != nil {
			t.Fatal(err)
		}
		got, err := st.get(ctx, "logs", key) // the plain GET alone
		if err != nil {
			t.Fatalf("plain GET %q: %v", key, err)
		}
		if len(got.Body) == 0 && len(want.Body) == 0 {
			got.Body, want.Body = nil, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: plain GET gives %+v, blob.S3 %+v", key, got, want)
		}
	}
	for _, c := range []struct{ bucket, key string }{{"logs", "missing.json.gz"}, {"no-such-bucket", "k"}, {"logs", "../bad"}} {
		_, werr := ref.Get(ctx, c.bucket, c.key)
		_, gerr := st.Get(ctx, c.bucket, c.key)
		if werr == nil || gerr == nil || werr.Error() != gerr.Error() ||
			errors.Is(gerr, blob.ErrObjectNotFound) != errors.Is(werr, blob.ErrObjectNotFound) ||
			errors.Is(gerr, blob.ErrBucketNotFound) != errors.Is(werr, blob.ErrBucketNotFound) {
			t.Errorf("%s/%s: S3Store gives %v, blob.S3 %v", c.bucket, c.key, gerr, werr)
		}
	}
}
