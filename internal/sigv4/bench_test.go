package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// benchToken is as long as a real STS session token.
var benchToken = "IQoJb3JpZ2luX2VjE" + strings.Repeat("AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/", 24)

// benchRequest returns a request as net/http's server hands it to a
// handler: a CloudTrail LookupEvents call signed by the AWS SDK with a
// session token (7 signed headers, 100-byte body), or an S3 presigned GET.
func benchRequest(b *testing.B, presigned bool) (*http.Request, []byte, time.Time) {
	b.Helper()
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	body := []byte(`{"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"ConsoleLogin"}],"MaxResults":50}`)
	signer := v4.NewSigner()
	var req *http.Request
	if presigned {
		req, _ = http.NewRequest(http.MethodGet, "https://bucket.s3.us-east-1.amazonaws.com/logs/AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/02/file.json.gz?X-Amz-Expires=3600", nil)
		u, _, err := signer.PresignHTTP(context.Background(), sdkCreds(benchToken), req, UnsignedPayload, "s3", "us-east-1", when,
			func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		if err != nil {
			b.Fatal(err)
		}
		req, _ = http.NewRequest(http.MethodGet, u, nil)
		body = nil
	} else {
		req, _ = http.NewRequest(http.MethodPost, "https://cloudtrail.us-east-1.amazonaws.com/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents")
		req.Header.Set("Amz-Sdk-Invocation-Id", "0b5bbd3a-8f47-4a3c-9e3b-5d5e1c9d7f0e")
		req.Header.Set("User-Agent", "aws-sdk-go-v2/1.47.7 os/linux lang/go#1.26 md/GOOS#linux api/cloudtrail#1.56.0")
		if err := signer.SignHTTP(context.Background(), sdkCreds(benchToken), req, payloadHash(body), "cloudtrail", "us-east-1", when); err != nil {
			b.Fatal(err)
		}
	}
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		b.Fatal(err)
	}
	sreq, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		b.Fatal(err)
	}
	return sreq, body, when.Add(time.Minute)
}

func BenchmarkVerify(b *testing.B) {
	for _, presigned := range []bool{false, true} {
		name := "header"
		if presigned {
			name = "presigned"
		}
		r, body, now := benchRequest(b, presigned)
		cache := NewKeyCache(0)
		b.Run(name+"/parse+verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sr, err := Parse(r)
				if err != nil {
					b.Fatal(err)
				}
				if err := cache.Verify(r, sr, sdkSecret, body, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		sr, err := Parse(r)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/verify", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := cache.Verify(r, sr, sdkSecret, body, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/verify-nocache", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Verify(r, sr, sdkSecret, body, now); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/mismatch", func(b *testing.B) {
			bad := *sr
			bad.Signature = strings.Repeat("0", 64)
			b.ReportAllocs()
			for b.Loop() {
				if err := cache.Verify(r, &bad, sdkSecret, body, now); err == nil {
					b.Fatal("accepted")
				}
			}
		})
	}
}

func BenchmarkVerifyParallel(b *testing.B) {
	r, body, now := benchRequest(b, false)
	cache := NewKeyCache(0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			sr, err := Parse(r)
			if err != nil {
				b.Fatal(err)
			}
			if err := cache.Verify(r, sr, sdkSecret, body, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, presigned := range []bool{false, true} {
		r, _, _ := benchRequest(b, presigned)
		b.Run(map[bool]string{false: "header", true: "presigned"}[presigned], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
