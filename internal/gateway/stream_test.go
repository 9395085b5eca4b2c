package gateway

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/sigv4"
)

// FuzzChunkReader feeds arbitrary bodies to the aws-chunked decoder: it must never panic,
// never return more bytes than the chunks declare, and never end cleanly on a forged body.
func FuzzChunkReader(f *testing.F) {
	cred := sigv4.Credential{AccessKeyID: "AKIAFUZZ", Date: "20260101", Region: "us-east-1", Service: "s3"}
	keys := sigv4.NewKeyCache(1)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	valid := signedChunks(f, []byte("hello, chunks"), 5, keys.SigningKey("secret", cred), at.Format("20060102T150405Z"), cred.Scope(), "seed")
	f.Add(valid)
	f.Add([]byte("0;chunk-signature=00\r\n\r\n"))
	f.Add([]byte("ffffffffffffffff;chunk-signature=00\r\n"))
	f.Add([]byte("-1;chunk-signature=00\r\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		sr := &sigv4.Request{Credential: cred, Signature: "seed", Time: at}
		r, _ := newChunkReader(io.NopCloser(bytes.NewReader(body)), sr, keys, "secret")
		out, err := io.ReadAll(io.LimitReader(r, 1<<20))
		if len(out) > len(body) {
			t.Fatalf("decoded %d bytes from a %d-byte body", len(out), len(body))
		}
		if err == nil && !bytes.Equal(body, valid) && !bytes.HasPrefix(body, valid) && len(out) > 0 {
			t.Fatalf("forged body %q decoded cleanly to %q", body, out)
		}
	})
}
