package validate

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
)

// memStore is an in-memory Store.
type memStore struct {
	mu   sync.Mutex
	objs map[string]map[string]blob.Object
}

func newMemStore() *memStore { return &memStore{objs: map[string]map[string]blob.Object{}} }

// clone copies the store (bodies are never changed in place, so they are shared).
func (m *memStore) clone() *memStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := newMemStore()
	for b, objs := range m.objs {
		c.objs[b] = maps.Clone(objs)
	}
	return c
}

func (m *memStore) Put(_ context.Context, bucket, key string, body []byte, opts blob.PutOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objs[bucket] == nil {
		m.objs[bucket] = map[string]blob.Object{}
	}
	m.objs[bucket][key] = blob.Object{Key: key, Size: int64(len(body)), Body: bytes.Clone(body), Metadata: opts.Metadata}
	return nil
}

func (m *memStore) Get(_ context.Context, bucket, key string) (*blob.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.objs[bucket]
	if !ok {
		return nil, fmt.Errorf("%w: %s", blob.ErrBucketNotFound, bucket)
	}
	o, ok := b[key]
	if !ok {
		return nil, fmt.Errorf("%w: %s/%s", blob.ErrObjectNotFound, bucket, key)
	}
	o.Body = bytes.Clone(o.Body)
	return &o, nil
}

func (m *memStore) List(ctx context.Context, bucket, prefix, startAfter string, fn func(blob.Object) error) error {
	m.mu.Lock()
	b, ok := m.objs[bucket]
	var keys []string
	for k := range b {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", blob.ErrBucketNotFound, bucket)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := fn(blob.Object{Key: k}); err != nil {
			return err
		}
	}
	return nil
}

func (m *memStore) Delete(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objs[bucket], key)
	return nil
}

// putStore is what fixtures write to: memStore, or a blob.Dir.
type putStore interface {
	Store
	Put(ctx context.Context, bucket, key string, body []byte, opts blob.PutOptions) error
	Delete(ctx context.Context, bucket, key string) error
}

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

// signingKey is the fixtures' key: testdata/test-key.pem, a throwaway RSA-2048 key (made once
// with openssl genrsa; generating keys in every fuzz worker would take most of the fuzz time).
func signingKey() *rsa.PrivateKey {
	keyOnce.Do(func() {
		b, err := os.ReadFile(filepath.Join("testdata", "test-key.pem"))
		if err != nil {
			panic(err)
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			panic("testdata/test-key.pem: no PEM block")
		}
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			panic(err)
		}
		rsaKey = k
	})
	return rsaKey
}

const (
	fxAccount = "123456789012"
	fxRegion  = "us-east-1"
	fxBucket  = "trail-bucket"
	fxTrail   = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
)

// fxDigest is one digest of a fixture chain.
type fxDigest struct {
	d      *digest.Digest
	sealed *digest.Sealed
	logs   []string
}

// fixture is a trail's chain of hourly digests, each listing two log files, in a store.
type fixture struct {
	t       testing.TB
	store   putStore
	key     *rsa.PrivateKey
	pub     digest.PublicKey
	prefix  string
	digests []*fxDigest // oldest first
	logBody map[string][]byte
}

func newFixture(t testing.TB, store putStore, prefix string, end time.Time, n int) *fixture {
	t.Helper()
	key := signingKey()
	der := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	f := &fixture{t: t, store: store, key: key, prefix: prefix, logBody: map[string][]byte{},
		pub: digest.PublicKey{Value: der, Fingerprint: digest.Fingerprint(der),
			ValidityStart: end.Add(-30 * 24 * time.Hour), ValidityEnd: end.Add(24 * time.Hour)}}
	for i := range n {
		winEnd := end.Add(-time.Duration(n-1-i) * time.Hour)
		f.add(winEnd.Add(-time.Hour), winEnd, 2)
	}
	f.sealFrom(0)
	return f
}

func (f *fixture) logKey(at time.Time, n int) string {
	k := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%016d.json.gz",
		fxAccount, fxRegion, at.Format("2006/01/02"), fxAccount, fxRegion, at.Format("20060102T1504Z"), n)
	if f.prefix != "" {
		k = f.prefix + "/" + k
	}
	return k
}

// putLog stores a log file delivered at `at` and returns its key and body.
func (f *fixture) putLog(at time.Time, n int) (string, []byte) {
	body := fmt.Appendf(nil, `{"Records":[{"eventTime":%q,"n":%d}]}`, digest.TimeString(at), n)
	key := f.logKey(at, n)
	f.logBody[key] = body
	if err := f.store.Put(context.Background(), fxBucket, key, digest.Gzip(body), blob.PutOptions{}); err != nil {
		f.t.Fatal(err)
	}
	return key, body
}

// add appends a digest for [start, end] with nLogs new log files (not yet sealed).
func (f *fixture) add(start, end time.Time, nLogs int) *fxDigest {
	d := &digest.Digest{
		AWSAccountID: fxAccount, DigestStartTime: digest.TimeString(start), DigestEndTime: digest.TimeString(end),
		DigestS3Bucket: fxBucket, DigestS3Object: digest.Key(f.prefix, fxAccount, fxRegion, "main", fxRegion, end),
		DigestPublicKeyFingerprint: f.pub.Fingerprint,
	}
	fd := &fxDigest{d: d}
	for j := range nLogs {
		at := start.Add(time.Duration(j+1) * 20 * time.Minute)
		key, body := f.putLog(at, len(f.logBody))
		d.LogFiles = append(d.LogFiles, digest.LogFile{S3Bucket: fxBucket, S3Object: key, HashValue: digest.Hash(body),
			HashAlgorithm: digest.HashAlgorithm, NewestEventTime: digest.TimeString(at), OldestEventTime: digest.TimeString(at)})
		fd.logs = append(fd.logs, key)
	}
	f.digests = append(f.digests, fd)
	return fd
}

// seal signs and stores one digest as it is.
func (f *fixture) seal(fd *fxDigest) {
	s, err := digest.Seal(f.key, fd.d)
	if err != nil {
		f.t.Fatal(err)
	}
	fd.sealed = s
	if err := f.store.Put(context.Background(), fxBucket, fd.d.DigestS3Object, s.Body, blob.PutOptions{Metadata: s.Metadata()}); err != nil {
		f.t.Fatal(err)
	}
}

// sealFrom (re)links and signs the digests from i on, the first of them chained to i-1 (or a
// starting digest when i is 0).
func (f *fixture) sealFrom(i int) {
	for ; i < len(f.digests); i++ {
		fd := f.digests[i]
		if i > 0 {
			p := f.digests[i-1]
			fd.d.Link(p.d, p.sealed.Raw, p.sealed.Signature)
		}
		f.seal(fd)
	}
}

func (f *fixture) keys() Keys {
	return KeysFunc(func(_ context.Context, start, end time.Time) ([]digest.PublicKey, error) {
		if f.pub.ValidityStart.After(end) || !f.pub.ValidityEnd.After(start) {
			return nil, nil
		}
		return []digest.PublicKey{f.pub}, nil
	})
}

// run is one validate-logs run.
type run struct {
	stdout, stderr string
	code           int
	err            error
	res            *Result
}

func (f *fixture) run(start, end time.Time, verbose, strict bool) run {
	f.t.Helper()
	trail, err := ParseTrailARN(fxTrail)
	if err != nil {
		f.t.Fatal(err)
	}
	var out, errb bytes.Buffer
	res, err := Run(context.Background(), Options{
		Store: f.store, Keys: f.keys(), Trail: trail, Bucket: fxBucket, Prefix: f.prefix, SourceRegion: fxRegion,
		Start: start, End: end, Verbose: verbose, Strict: strict, OutOfChain: strict, Workers: 4, Stdout: &out, Stderr: &errb,
	})
	rr := run{stdout: out.String(), stderr: errb.String(), err: err, res: res}
	if err != nil {
		rr.stderr += "\n" + err.Error() + "\n"
		rr.code = 255
	} else {
		rr.code = res.ExitCode()
	}
	return rr
}

// cliSpec writes the input of the AWS CLI's validator (../digest/testdata/cli_validate.py)
// for the fixture's store and a range to dir, and returns its path.
func (f *fixture) cliSpec(dir string, start, end time.Time, verbose bool) string {
	f.t.Helper()
	var objs []map[string]any
	err := f.store.List(context.Background(), fxBucket, "", "", func(o blob.Object) error {
		full, err := f.store.Get(context.Background(), fxBucket, o.Key)
		if err != nil {
			return err
		}
		objs = append(objs, map[string]any{"bucket": fxBucket, "key": o.Key, "body": full.Body, "metadata": full.Metadata})
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	spec, err := json.Marshal(map[string]any{
		"region": fxRegion,
		"args": map[string]any{"trail_arn": fxTrail, "start_time": start.Format(time.RFC3339), "end_time": end.Format(time.RFC3339),
			"s3_bucket": fxBucket, "s3_prefix": f.prefix, "verbose": verbose},
		"objects": objs,
		"public_keys": []map[string]any{{"Value": f.pub.Value, "Fingerprint": f.pub.Fingerprint,
			"ValidityStartTime": f.pub.ValidityStart.Unix(), "ValidityEndTime": f.pub.ValidityEnd.Unix()}},
	})
	if err != nil {
		f.t.Fatal(err)
	}
	file, err := os.CreateTemp(dir, "spec-*.json")
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.Write(spec); err != nil {
		f.t.Fatal(err)
	}
	return file.Name()
}

// runCLI runs the AWS CLI's validate-logs code over each spec in one Python process.
func runCLI(t *testing.T, specs []string) []run {
	t.Helper()
	cmd := exec.Command("python3", append([]string{filepath.Join("..", "digest", "testdata", "cli_validate.py"), "--batch"}, specs...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cli_validate.py: %v\n%s", err, out)
	}
	var runs []run
	for _, s := range specs {
		b, err := os.ReadFile(s + ".out")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Stdout, Stderr string
			Code           int
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run{stdout: r.Stdout, stderr: r.Stderr, code: r.Code})
	}
	return runs
}

func needCLI(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the AWS CLI's validator")
	}
	if err := exec.Command("python3", "-c", "import awscli.customizations.cloudtrail.validation, rsa").Run(); err != nil {
		t.Skipf("the AWS CLI's validator is not importable: %v", err)
	}
}
