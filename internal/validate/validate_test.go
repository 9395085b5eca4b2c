package validate

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
)

var (
	fxEnd   = time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	fxStart = fxEnd.Add(-4 * time.Hour)
)

// scenarios change a fresh six-digest chain (07:00–12:00) in ways the AWS CLI notices.
var scenarios = []struct {
	name   string
	prefix string
	change func(f *fixture)
	code   int
}{
	{"valid", "", func(*fixture) {}, 0},
	{"valid with prefix", "pre/fix", func(*fixture) {}, 0},
	{"tampered log file", "", func(f *fixture) {
		k := f.digests[3].logs[1]
		mustPut(f, k, digest.Gzip([]byte(`{"Records":[]}`)), nil)
	}, 1},
	{"deleted log file", "", func(f *fixture) { mustDelete(f, f.digests[4].logs[0]) }, 1},
	{"log file not gzip", "", func(f *fixture) { mustPut(f, f.digests[4].logs[0], []byte("plain"), nil) }, 1},
	{"deleted digest", "", func(f *fixture) { mustDelete(f, f.digests[3].d.DigestS3Object) }, 1},
	// Nobody can tell that the newest digest is gone.
	{"deleted newest digest", "", func(f *fixture) { mustDelete(f, f.digests[5].d.DigestS3Object) }, 0},
	{"modified digest", "", func(f *fixture) {
		fd := f.digests[2]
		raw := strings.Replace(string(fd.sealed.Raw), fd.d.DigestStartTime, "2024-01-10T08:30:00Z", 1)
		mustPut(f, fd.d.DigestS3Object, digest.Gzip([]byte(raw)), fd.sealed.Metadata())
	}, 1},
	{"digest signature metadata missing", "", func(f *fixture) {
		fd := f.digests[4]
		mustPut(f, fd.d.DigestS3Object, fd.sealed.Body, map[string]string{digest.MetaSignatureAlgorithm: digest.SignatureAlgorithm})
	}, 1},
	{"digest not gzip", "", func(f *fixture) {
		fd := f.digests[4]
		mustPut(f, fd.d.DigestS3Object, fd.sealed.Raw, fd.sealed.Metadata())
	}, 1},
	{"digest moved", "", func(f *fixture) {
		fd := f.digests[4]
		moved := digest.Key("", fxAccount, fxRegion, "main", fxRegion, fxEnd.Add(-90*time.Minute))
		mustPut(f, moved, fd.sealed.Body, fd.sealed.Metadata())
		mustDelete(f, fd.d.DigestS3Object)
	}, 1},
	{"unknown key", "", func(f *fixture) {
		fd := f.digests[5]
		fd.d.DigestPublicKeyFingerprint = strings.Repeat("0", 32)
		f.seal(fd)
	}, 1},
	{"gap", "", func(f *fixture) {
		// The chain restarts at 10:00: a starting digest after two hours without any.
		f.digests = append(f.digests[:3:3], f.digests[4:]...)
		mustDelete(f, digest.Key("", fxAccount, fxRegion, "main", fxRegion, fxEnd.Add(-2*time.Hour)))
		f.digests[3].d.PreviousDigestS3Bucket, f.digests[3].d.PreviousDigestS3Object = nil, nil
		f.digests[3].d.PreviousDigestHashValue, f.digests[3].d.PreviousDigestHashAlgorithm, f.digests[3].d.PreviousDigestSignature = nil, nil, nil
		f.seal(f.digests[3])
		f.sealFrom(4)
	}, 0},
}

func mustPut(f *fixture, key string, body []byte, meta map[string]string) {
	f.t.Helper()
	if err := f.store.Put(context.Background(), fxBucket, key, body, blob.PutOptions{Metadata: meta}); err != nil {
		f.t.Fatal(err)
	}
}

func mustDelete(f *fixture, key string) {
	f.t.Helper()
	if err := f.store.Delete(context.Background(), fxBucket, key); err != nil {
		f.t.Fatal(err)
	}
}

// cliCase is one comparison with the AWS CLI.
type cliCase struct {
	name       string
	f          *fixture
	start, end time.Time
	verbose    bool
	spec       string
}

// compareWithCLI runs the cases through the AWS CLI's own validator (in one Python process)
// and through Run without the strict checks, and wants the same stdout, stderr and exit
// status. It returns the CLI's runs.
func compareWithCLI(t *testing.T, cases []*cliCase) []run {
	t.Helper()
	dir := t.TempDir()
	var specs []string
	for _, c := range cases {
		c.spec = c.f.cliSpec(dir, c.start, c.end, c.verbose)
		specs = append(specs, c.spec)
	}
	wants := runCLI(t, specs)
	for i, c := range cases {
		want := wants[i]
		got := c.f.run(c.start, c.end, c.verbose, false)
		if got.stdout != want.stdout || got.stderr != want.stderr || got.code != want.code {
			t.Errorf("%s (verbose=%v, %v–%v):\n--- opentrail (exit %d) stdout:\n%s--- stderr:\n%s\n--- aws (exit %d) stdout:\n%s--- stderr:\n%s",
				c.name, c.verbose, c.start, c.end, got.code, got.stdout, got.stderr, want.code, want.stdout, want.stderr)
		}
	}
	return wants
}

// TestSameAsAWSCLI runs each scenario through the AWS CLI's validator and through Run.
func TestSameAsAWSCLI(t *testing.T) {
	needCLI(t)
	var cases []*cliCase
	for _, sc := range scenarios {
		f := newFixture(t, newMemStore(), sc.prefix, fxEnd, 6)
		sc.change(f)
		for _, verbose := range []bool{true, false} {
			cases = append(cases, &cliCase{name: sc.name, f: f, start: fxStart, end: fxEnd, verbose: verbose})
		}
	}
	wants := compareWithCLI(t, cases)
	for i, c := range cases {
		sc := scenarios[i/2]
		if wants[i].code != sc.code {
			t.Errorf("%s: the AWS CLI exits %d; want %d", c.name, wants[i].code, sc.code)
		}
		// The strict checks agree on these.
		if got := c.f.run(fxStart, fxEnd, true, true); got.code != sc.code {
			t.Errorf("%s: strict: exit %d; want %d\nstdout:\n%s\nstderr:\n%s", c.name, got.code, sc.code, got.stdout, got.stderr)
		}
	}
}

// TestSameAsAWSCLIRanges compares edge ranges: inside one digest, before the chain, after it,
// around it, and one where no public key is valid.
func TestSameAsAWSCLIRanges(t *testing.T) {
	needCLI(t)
	f := newFixture(t, newMemStore(), "", fxEnd, 6)
	var cases []*cliCase
	for _, r := range []struct{ start, end time.Time }{
		{fxEnd.Add(-30 * time.Minute), fxEnd.Add(-10 * time.Minute)},
		{fxEnd.Add(-24 * time.Hour), fxEnd.Add(-20 * time.Hour)},
		{fxEnd.Add(10 * time.Hour), fxEnd.Add(12 * time.Hour)},
		{fxEnd.Add(-10 * time.Hour), fxEnd.Add(10 * time.Hour)},
		{fxEnd.Add(-40 * 24 * time.Hour), fxEnd.Add(-35 * 24 * time.Hour)}, // no public keys
	} {
		cases = append(cases, &cliCase{name: "range", f: f, start: r.start, end: r.end, verbose: true})
	}
	compareWithCLI(t, cases)
}

func TestValidChain(t *testing.T) {
	f := newFixture(t, newMemStore(), "", fxEnd, 6)
	got := f.run(fxStart, fxEnd, false, true)
	if got.code != 0 || got.stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", got.code, got.stdout, got.stderr)
	}
	want := "Validating log files for trail " + fxTrail + " between 2024-01-10T08:00:00Z and 2024-01-10T12:00:00Z\n\n" +
		"Results requested for 2024-01-10T08:00:00Z to 2024-01-10T12:00:00Z\n" +
		"Results found for 2024-01-10T08:00:00Z to 2024-01-10T12:00:00Z:\n\n" +
		"5/5 digest files valid\n10/10 log files valid\n"
	if got.stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got.stdout, want)
	}
	if r := got.res; r.ValidDigests != 5 || r.ValidLogs != 10 || r.InvalidDigests+r.InvalidLogs != 0 {
		t.Errorf("result %+v", r)
	}
}

// TestStrict covers what only the strict checks catch: each case passes the AWS CLI's checks.
func TestStrict(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(f *fixture)
		stderr []string // lines (without the s3:// part) that must be reported
	}{
		{"broken previous hash", func(f *fixture) {
			fd := f.digests[3]
			h := digest.Hash([]byte("something else"))
			fd.d.PreviousDigestHashValue = &h
			f.seal(fd)
			f.sealFrom(4)
		}, []string{f3("INVALID: previousDigestHashValue doesn't match the previous digest")}},
		{"wrong previous signature", func(f *fixture) {
			fd := f.digests[4]
			sig := f.digests[1].sealed.Signature
			fd.d.PreviousDigestSignature = &sig
			f.seal(fd)
			f.sealFrom(5)
		}, []string{f4("INVALID: previousDigestSignature doesn't match the previous digest's signature")}},
		{"incomplete link", func(f *fixture) {
			fd := f.digests[4]
			fd.d.PreviousDigestHashValue = nil
			f.seal(fd)
			f.sealFrom(5)
		}, []string{f4("INVALID: previous digest link is incomplete")}},
		{"digest out of chain", func(f *fixture) {
			// A validly signed digest between two others that no digest links to.
			extra := f.add(fxEnd.Add(-150*time.Minute), fxEnd.Add(-90*time.Minute), 0)
			f.digests = f.digests[:len(f.digests)-1]
			f.seal(extra)
		}, []string{"/2024/01/10/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240110T103000Z.json.gz\tINVALID: not in the chain of digests"}},
		{"log file out of chain", func(f *fixture) {
			f.putLog(fxEnd.Add(-150*time.Minute), 99)
		}, []string{"_20240110T0930Z_0000000000000099.json.gz\tINVALID: not listed in any digest"}},
		{"data after a log file's gzip stream", func(f *fixture) {
			k := f.digests[3].logs[0]
			mustPut(f, k, append(digest.Gzip(f.logBody[k]), digest.Gzip([]byte("hidden"))...), nil)
		}, []string{"_20240110T0920Z_0000000000000006.json.gz\tINVALID: data after the gzip stream"}},
		{"data after a digest's gzip stream", func(f *fixture) {
			fd := f.digests[4]
			mustPut(f, fd.d.DigestS3Object, append(fd.sealed.Body, 0), fd.sealed.Metadata())
		}, []string{f4("INVALID: data after the gzip stream")}},
		{"signature algorithm", func(f *fixture) {
			fd := f.digests[4]
			mustPut(f, fd.d.DigestS3Object, fd.sealed.Body, map[string]string{digest.MetaSignature: fd.sealed.Signature, digest.MetaSignatureAlgorithm: "MD5withRSA"})
		}, []string{f4(`INVALID: signature algorithm "MD5withRSA" is not SHA256withRSA`)}},
		{"account doesn't match the key", func(f *fixture) {
			fd := f.digests[4]
			fd.d.AWSAccountID = "999999999999"
			f.seal(fd)
			f.sealFrom(5)
		}, []string{f4("INVALID: awsAccountId or digestEndTime doesn't match the object key")}},
		{"chain loops", func(f *fixture) {
			fd := f.digests[4]
			self := fd.d.DigestS3Object
			fd.d.PreviousDigestS3Object = &self
			f.seal(fd)
			f.sealFrom(5)
		}, []string{f4("INVALID: the chain of digests loops back to this digest")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, newMemStore(), "", fxEnd, 6)
			c.change(f)
			if c.name != "chain loops" {
				// Without the strict checks, all is well (as for the AWS CLI).
				if got := f.run(fxStart, fxEnd, true, false); got.code != 0 {
					t.Errorf("not strict: exit %d\nstderr:\n%s", got.code, got.stderr)
				}
			}
			got := f.run(fxStart, fxEnd, true, true)
			if got.code != 1 {
				t.Errorf("strict: exit %d; want 1", got.code)
			}
			for _, s := range c.stderr {
				if !strings.Contains(got.stderr, s+"\n\n") {
					t.Errorf("stderr lacks %q:\n%s", s, got.stderr)
				}
			}
			if t.Failed() {
				t.Logf("stdout:\n%s", got.stdout)
			}
		})
	}
}

func f3(status string) string { return "_20240110T100000Z.json.gz\t" + status }
func f4(status string) string { return "_20240110T110000Z.json.gz\t" + status }

// TestOtherTrailsLogFiles: log files another trail's digests list are not out of chain.
func TestOtherTrailsLogFiles(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, store, "", fxEnd, 6)
	// A second trail, "audit", delivering to the same bucket and prefix.
	at := fxEnd.Add(-150 * time.Minute)
	key, body := f.putLog(at, 50)
	end := fxEnd.Add(-2 * time.Hour)
	d := &digest.Digest{AWSAccountID: fxAccount, DigestStartTime: digest.TimeString(end.Add(-time.Hour)), DigestEndTime: digest.TimeString(end),
		DigestS3Bucket: fxBucket, DigestS3Object: digest.Key("", fxAccount, fxRegion, "audit", "eu-west-1", end), DigestPublicKeyFingerprint: f.pub.Fingerprint,
		LogFiles: []digest.LogFile{{S3Bucket: fxBucket, S3Object: key, HashValue: digest.Hash(body), HashAlgorithm: digest.HashAlgorithm}}}
	f.seal(&fxDigest{d: d})
	if got := f.run(fxStart, fxEnd, true, true); got.code != 0 {
		t.Errorf("exit %d\nstderr:\n%s", got.code, got.stderr)
	}
	// Unsigned, it does not count.
	mustPut(f, d.DigestS3Object, digest.Gzip([]byte("{}")), nil)
	if got := f.run(fxStart, fxEnd, true, true); got.code != 1 || !strings.Contains(got.stderr, "_0000000000000050.json.gz\tINVALID: not listed in any digest") {
		t.Errorf("exit %d\nstderr:\n%s", got.code, got.stderr)
	}
}

// TestParallelOrder: with many log files and one worker or many, the report is the same.
func TestParallelOrder(t *testing.T) {
	store := newMemStore()
	f := newFixture(t, store, "", fxEnd, 2)
	for i := range 8 {
		end := fxEnd.Add(time.Duration(i+1) * time.Hour)
		f.add(end.Add(-time.Hour), end, 30)
	}
	f.sealFrom(2)
	mustDelete(f, f.digests[5].logs[7])
	end := fxEnd.Add(8 * time.Hour)
	var outs []string
	for _, workers := range []int{1, 3, 32} {
		trail, _ := ParseTrailARN(fxTrail)
		var out, errb strings.Builder
		res, err := Run(context.Background(), Options{Store: store, Keys: f.keys(), Trail: trail, Bucket: fxBucket,
			Start: fxEnd, End: end, Verbose: true, Strict: true, OutOfChain: true, Workers: workers, Stdout: &out, Stderr: &errb,
			Progress: &strings.Builder{}, ProgressLines: true, ProgressInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if res.ValidLogs != 8*30+2-1 || res.InvalidLogs != 1 || res.ValidDigests != 9 {
			t.Errorf("workers %d: %+v", workers, res)
		}
		outs = append(outs, out.String()+"\x00"+errb.String())
	}
	for i := range outs {
		if outs[i] != outs[0] {
			t.Errorf("output with %d differs from output with the first", i)
		}
	}
}

func TestAbort(t *testing.T) {
	f := newFixture(t, newMemStore(), "", fxEnd, 3)
	trail, _ := ParseTrailARN(fxTrail)
	var out strings.Builder
	_, err := Run(context.Background(), Options{Store: f.store, Keys: f.keys(), Trail: trail, Bucket: "no-such-bucket",
		Start: fxStart, End: fxEnd, Stdout: &out, Stderr: &out})
	if err == nil {
		t.Error("a missing bucket does not abort")
	}
	_, err = Run(context.Background(), Options{Trail: trail, Start: fxEnd, End: fxStart, Stdout: &out, Stderr: &out})
	if err == nil || err.Error() != "Invalid time range specified: start-time must occur before end-time" {
		t.Errorf("start after end: %v", err)
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2024, 1, 10, 8, 0, 0, 0, time.UTC)
	for _, s := range []string{"2024-01-10T08:00:00Z", "2024-01-10T08:00:00", "2024-01-10 08:00", "2024-01-10T08:00:00+02:00",
		"20240110T080000Z", "2024-01-10T08:00:00.000Z", "2024-01-10T08:00"} {
		if got, err := ParseTime(s); err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	if got, err := ParseTime("2024-01-10"); err != nil || !got.Equal(want.Add(-8*time.Hour)) {
		t.Errorf("ParseTime(date) = %v, %v", got, err)
	}
	if _, err := ParseTime("yesterday"); err == nil || err.Error() != "Unable to parse date value: yesterday" {
		t.Errorf("ParseTime(yesterday) error = %v", err)
	}
}

func TestParseTrailARN(t *testing.T) {
	tr, err := ParseTrailARN("arn:aws:cloudtrail:eu-west-1:123456789012:trail/a/b")
	if err != nil || tr.HomeRegion != "eu-west-1" || tr.Account != "123456789012" || tr.Name != "b" {
		t.Errorf("ParseTrailARN = %+v, %v", tr, err)
	}
	for _, bad := range []string{"", "arn:aws:cloudtrail:eu-west-1:12345:trail/a", "arn:aws:s3:::b", "trail/a"} {
		if _, err := ParseTrailARN(bad); err == nil || err.Error() != "Invalid trail ARN provided: "+bad {
			t.Errorf("ParseTrailARN(%q) error = %v", bad, err)
		}
	}
}
