package validate

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/digest"
)

// FuzzDigestObject stores arbitrary bytes as the middle digest of a chain (gzipped, with the
// original metadata, and as they are) and runs the strict validation: it must end, report
// that digest INVALID unless the bytes are the original document, and never panic.
func FuzzDigestObject(f *testing.F) {
	base := newFixture(f, newMemStore(), "", fxEnd, 3)
	f.Add(base.digests[1].sealed.Raw, true)
	f.Add([]byte(`{"digestS3Bucket":"trail-bucket"}`), true)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, false)
	f.Fuzz(func(t *testing.T, data []byte, gzipped bool) {
		fx := *base
		fx.t, fx.store = t, base.store.(*memStore).clone()
		mid := fx.digests[1]
		body := data
		if gzipped {
			body = digest.Gzip(data)
		}
		mustPut(&fx, mid.d.DigestS3Object, body, mid.sealed.Metadata())
		trail, _ := ParseTrailARN(fxTrail)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := Run(ctx, Options{Store: fx.store, Keys: fx.keys(), Trail: trail, Bucket: fxBucket,
			Start: fxEnd.Add(-3 * time.Hour), End: fxEnd, Verbose: true, Strict: true, OutOfChain: true, Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		same := gzipped && string(data) == string(mid.sealed.Raw)
		if !same && res.InvalidDigests == 0 {
			t.Fatalf("a changed digest passed: %+v", res)
		}
	})
}

// FuzzParseTime: ParseTime never panics and gives UTC times.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-01-10T08:00:00Z", "2024-01-10 08:00", "20240110T080000Z", "2024-01-10T08:00:00+02:00", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := ParseTime(s); err == nil && tm.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not UTC", s, tm)
		}
	})
}
