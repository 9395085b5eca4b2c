package delivery

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/kv"
)

// memBuckets is an in-memory blob.Store whose writes can be made to fail.
type memBuckets struct {
	mu      sync.Mutex
	objects map[string]blob.Object // bucket + "/" + key
	puts    map[string]int         // writes per object
	fail    error                  // every Put fails with it while set
}

func newMemBuckets() *memBuckets {
	return &memBuckets{objects: map[string]blob.Object{}, puts: map[string]int{}}
}

func (m *memBuckets) setFail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fail = err
}

func (m *memBuckets) CreateBucket(context.Context, string) error  { return nil }
func (m *memBuckets) CheckWritable(context.Context, string) error { return nil }
func (m *memBuckets) Put(_ context.Context, bucket, key string, body []byte, opts blob.PutOptions) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.objects[bucket+"/"+key] = blob.Object{Key: key, Size: int64(len(body)), Body: bytes.Clone(body), Metadata: opts.Metadata}
	m.puts[bucket+"/"+key]++
	return nil
}
func (m *memBuckets) Get(_ context.Context, bucket, key string) (*blob.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objects[bucket+"/"+key]
	if !ok {
		return nil, blob.ErrObjectNotFound
	}
	return &o, nil
}
func (m *memBuckets) List(_ context.Context, bucket, prefix, startAfter string, fn func(blob.Object) error) error {
	m.mu.Lock()
	var keys []string
	for k := range m.objects {
		if strings.HasPrefix(k, bucket+"/"+prefix) && k > bucket+"/"+startAfter {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(blob.Object{Key: strings.TrimPrefix(k, bucket+"/")}); err != nil {
			return err
		}
	}
	return nil
}
func (m *memBuckets) Delete(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.objects, bucket+"/"+key)
	return nil
}

// keys returns the object keys under prefix, sorted.
func (m *memBuckets) keys(prefix string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.objects {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// fakeTrails is a trail store in memory.
type fakeTrails struct {
	mu     sync.Mutex
	trails []cloudtrail.Trail
}

func (f *fakeTrails) EachTrail(fn func(cloudtrail.Trail) error) error {
	f.mu.Lock()
	ts := slices.Clone(f.trails)
	f.mu.Unlock()
	for _, t := range ts {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakeTrails) UpdateDeliveryStatus(acct, region, name string, fn func(*cloudtrail.DeliveryStatus)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.trails {
		if t := &f.trails[i]; t.AccountID == acct && t.HomeRegion == region && t.Name == name {
			fn(&t.Status.Delivery)
			return nil
		}
	}
	return errors.New("no such trail")
}

func (f *fakeTrails) status(name string) cloudtrail.DeliveryStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, t := range f.trails {
		if t.Name == name {
			return t.Status.Delivery
		}
	}
	return cloudtrail.DeliveryStatus{}
}

// sliceSource serves records from a channel, like a journal reader tailing the journal; the
// test writes records whose requestID is their sequence number.
type sliceSource struct{ ch chan []byte }

func (s *sliceSource) Next(ctx context.Context) (uint64, []byte, error) {
	select {
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	case p := <-s.ch:
		var r struct {
			RequestID string `json:"requestID"`
		}
		_ = json.Unmarshal(p, &r)
		var seq uint64
		_, _ = fmt.Sscan(r.RequestID, &seq)
		return seq, p, nil
	}
}

// testKeys signs with one RSA key.
type testKeys struct{ k *rsa.PrivateKey }

var sharedKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func (t testKeys) SignerAt(string, time.Time) (crypto.Signer, string, error) {
	return t.k, "0123456789abcdef0123456789abcdef", nil
}

// rec returns a record of the test account with sequence number seq (kept in requestID).
func rec(seq int, region, name string, readOnly bool) []byte {
	return fmt.Appendf(nil, `{"eventVersion":"1.11","eventTime":"%s","eventSource":"ec2.amazonaws.com","eventName":%q,"awsRegion":%q,"requestID":"%d","eventID":"e%d","readOnly":%v,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"123456789012","eventCategory":"Management"}`,
		time.Now().UTC().Format("2006-01-02T15:04:05Z"), name, region, seq, seq, readOnly)
}

type harness struct {
	t       *testing.T
	store   *kv.Store
	buckets *memBuckets
	trails  *fakeTrails
	src     *sliceSource
	notes   chan string
	cancel  context.CancelFunc
	done    chan error
	d       *Deliverer
}

type recordingNotifier struct{ ch chan string }

func (n recordingNotifier) PublishInternal(_ context.Context, topic, _, msg string) (string, error) {
	n.ch <- topic + " " + msg
	return "id", nil
}

func newHarness(t *testing.T, trails ...cloudtrail.Trail) *harness {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	h := &harness{t: t, store: store, buckets: newMemBuckets(), trails: &fakeTrails{trails: trails},
		src: &sliceSource{ch: make(chan []byte, 1000)}, notes: make(chan string, 100)}
	h.start()
	return h
}

func (h *harness) start() {
	d, err := New(Options{
		Store: h.store, Buckets: h.buckets, Trails: h.trails, Keys: testKeys{sharedKey()},
		Notifier: recordingNotifier{h.notes},
		Interval: 50 * time.Millisecond, DigestInterval: 400 * time.Millisecond,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Regions: []string{"us-east-1", "us-west-2"},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.d, h.cancel, h.done = d, cancel, make(chan error, 1)
	go func() { h.done <- d.Run(ctx, h.src) }()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run: %v", err)
	}
	h.cancel = nil
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// delivered returns the requestIDs of the records in every log file under prefix, with
// repetitions, and checks each file's name and body.
func (h *harness) delivered(prefix string) []string {
	h.t.Helper()
	var ids []string
	for _, k := range h.buckets.keys(prefix) {
		if !strings.Contains(k, "/CloudTrail/") {
			continue
		}
		o, _ := h.buckets.Get(context.Background(), strings.SplitN(k, "/", 2)[0], strings.SplitN(k, "/", 2)[1])
		var body struct {
			Records []struct {
				RequestID string `json:"requestID"`
				AWSRegion string `json:"awsRegion"`
			}
		}
		if err := json.Unmarshal(gunzip(h.t, o.Body), &body); err != nil {
			h.t.Fatalf("%s: %v", k, err)
		}
		for _, r := range body.Records {
			if !strings.Contains(k, "/CloudTrail/"+r.AWSRegion+"/") {
				h.t.Errorf("record of %s in %s", r.AWSRegion, k)
			}
			ids = append(ids, r.RequestID)
		}
	}
	slices.Sort(ids)
	return ids
}

// trail returns a logging trail of the test account in us-east-1 that logs all management
// events to bucket-<name>, changed by mod.
func trail(name string, mod func(*cloudtrail.Trail)) cloudtrail.Trail {
	t := cloudtrail.Trail{
		AccountID: acct, Name: name, HomeRegion: "us-east-1", S3BucketName: "bucket-" + name,
		IncludeGlobalServiceEvents: true, EventSelectors: cloudtrail.DefaultEventSelectors(),
	}
	t.Status.IsLogging = true
	t.Status.StartLoggingTime = time.Now().Add(-time.Minute)
	if mod != nil {
		mod(&t)
	}
	return t
}

func ids(from, to int) []string {
	var out []string
	for i := from; i <= to; i++ {
		out = append(out, fmt.Sprint(i))
	}
	slices.Sort(out)
	return out
}

func TestDeliversSelectedRecordsOnce(t *testing.T) {
	h := newHarness(t,
		trail("all", func(t *cloudtrail.Trail) {
			t.IsMultiRegionTrail = true
			t.SnsTopicARN = "arn:aws:sns:us-east-1:123456789012:topic"
		}),
		trail("writes", func(t *cloudtrail.Trail) {
			t.EventSelectors = []cloudtrail.EventSelector{{ReadWriteType: cloudtrail.ReadWriteWriteOnly}}
		}),
		trail("stopped", func(t *cloudtrail.Trail) {
			t.Status.IsLogging = false
			t.Status.StopLoggingTime = time.Now().Add(-30 * time.Second)
		}),
	)
	for i := 1; i <= 40; i++ {
		region := "us-east-1"
		if i%4 == 0 {
			region = "us-west-2"
		}
		h.src.ch <- rec(i, region, "Op", i%2 == 0)
	}
	eventually(t, "40 records for trail all", func() bool { return len(h.delivered("bucket-all/")) == 40 })
	if got := h.delivered("bucket-all/"); !slices.Equal(got, ids(1, 40)) {
		t.Errorf("trail all got %v", got)
	}
	var writes []string
	for i := 1; i <= 40; i += 2 {
		writes = append(writes, fmt.Sprint(i)) // odd: writes, all in us-east-1
	}
	slices.Sort(writes)
	eventually(t, "writes", func() bool { return len(h.delivered("bucket-writes/")) == len(writes) })
	if got := h.delivered("bucket-writes/"); !slices.Equal(got, writes) {
		t.Errorf("trail writes got %v, want %v", got, writes)
	}
	if got := h.buckets.keys("bucket-stopped/"); len(got) != 0 {
		t.Errorf("stopped trail got files %v", got)
	}
	if h.d.Cursor() != 40 {
		t.Errorf("cursor %d, want 40", h.d.Cursor())
	}
	st := h.trails.status("all")
	if st.LatestDeliveryTime.IsZero() || st.LatestDeliveryError != "" || st.LatestDeliveryAttemptSucceeded.IsZero() {
		t.Errorf("status after delivery: %+v", st)
	}
	select {
	case n := <-h.notes:
		if !strings.HasPrefix(n, "arn:aws:sns:us-east-1:123456789012:topic {\"s3Bucket\":\"bucket-all\",\"s3ObjectKey\":[\"AWSLogs/123456789012/CloudTrail/") {
			t.Errorf("notification %s", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification")
	}
	for k, n := range h.buckets.puts {
		if n != 1 {
			t.Errorf("%s written %d times", k, n)
		}
	}
}

func TestBucketOutageRetriesAndLosesNothing(t *testing.T) {
	h := newHarness(t, trail("t", nil))
	h.buckets.setFail(fmt.Errorf("%w: bucket-t", blob.ErrBucketNotFound))
	for i := 1; i <= 10; i++ {
		h.src.ch <- rec(i, "us-east-1", "Op", false)
	}
	eventually(t, "a delivery error in the status", func() bool { return h.trails.status("t").LatestDeliveryError == "NoSuchBucket" })
	for i := 11; i <= 20; i++ {
		h.src.ch <- rec(i, "us-east-1", "Op", false)
	}
	eventually(t, "the cursor past 20", func() bool { return h.d.Cursor() == 20 })
	h.buckets.setFail(nil)
	eventually(t, "all 20 records", func() bool { return len(h.delivered("bucket-t/")) == 20 })
	if got := h.delivered("bucket-t/"); !slices.Equal(got, ids(1, 20)) {
		t.Errorf("got %v", got)
	}
	eventually(t, "the error cleared", func() bool { return h.trails.status("t").LatestDeliveryError == "" })
}

func TestRestartUploadsTheOutbox(t *testing.T) {
	h := newHarness(t, trail("t", nil))
	h.buckets.setFail(errors.New("connection refused"))
	for i := 1; i <= 5; i++ {
		h.src.ch <- rec(i, "us-east-1", "Op", false)
	}
	eventually(t, "the cursor past 5", func() bool { return h.d.Cursor() == 5 })
	h.stop()
	h.buckets.setFail(nil)
	h.start()
	if h.d.Cursor() != 5 {
		t.Fatalf("cursor after restart %d", h.d.Cursor())
	}
	eventually(t, "5 records", func() bool { return len(h.delivered("bucket-t/")) == 5 })
	if got := h.delivered("bucket-t/"); !slices.Equal(got, ids(1, 5)) {
		t.Errorf("got %v", got)
	}
}

func TestSizeCapSplitsFiles(t *testing.T) {
	store, err := kv.Open(filepath.Join(t.TempDir(), "kv"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	tr := trail("t", nil)
	d, err := New(Options{Store: store, Buckets: newMemBuckets(), Trails: &fakeTrails{trails: []cloudtrail.Trail{tr}}, MaxFileBytes: 1024})
	if err != nil {
		t.Fatal(err)
	}
	var batch []pending
	for i := 1; i <= 50; i++ {
		batch = append(batch, pending{uint64(i), rec(i, "us-east-1", "Op", false)})
	}
	groups := d.routeRecords(batch, []*cloudtrail.Trail{&tr})
	files := d.buildFiles(groups, 1, 50, time.Now())
	if len(files) < 5 {
		t.Fatalf("%d files for 50 records of ~300 bytes under a 1 KiB cap", len(files))
	}
	seen := map[string]bool{}
	total := 0
	for _, f := range files {
		raw := gunzip(t, f.body)
		if len(raw) > 1024 {
			t.Errorf("file of %d bytes", len(raw))
		}
		if digest.Hash(raw) != f.entry.Hash {
			t.Errorf("hash mismatch for %s", f.entry.Key)
		}
		if seen[f.entry.Key] {
			t.Errorf("two files named %s", f.entry.Key)
		}
		seen[f.entry.Key] = true
		total += f.entry.Records
	}
	if total != 50 {
		t.Errorf("%d records in files", total)
	}
}

func TestDigestChain(t *testing.T) {
	h := newHarness(t, trail("v", func(t *cloudtrail.Trail) { t.LogFileValidationEnabled = true; t.IsMultiRegionTrail = true }))
	for i := 1; i <= 6; i++ {
		h.src.ch <- rec(i, []string{"us-east-1", "us-west-2"}[i%2], "Op", false)
	}
	// Wait for three digests per region, which must include every log file.
	eventually(t, "digests", func() bool {
		return len(h.buckets.keys("bucket-v/AWSLogs/123456789012/CloudTrail-Digest/us-west-2/")) >= 3 &&
			len(h.buckets.keys("bucket-v/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/")) >= 3
	})
	h.stop()
	pub := sharedKey().Public().(*rsa.PublicKey)
	for _, region := range []string{"us-east-1", "us-west-2"} {
		keys := h.buckets.keys("bucket-v/AWSLogs/123456789012/CloudTrail-Digest/" + region + "/")
		listed := map[string]bool{}
		var prev *prevDigest
		for i, k := range keys {
			o, _ := h.buckets.Get(context.Background(), "bucket-v", strings.TrimPrefix(k, "bucket-v/"))
			raw := gunzip(t, o.Body)
			d, err := digest.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := digest.Verify(pub, d, raw, o.Metadata[digest.MetaSignature]); err != nil {
				t.Errorf("%s: %v", k, err)
			}
			if d.DigestS3Object != strings.TrimPrefix(k, "bucket-v/") || d.DigestS3Bucket != "bucket-v" {
				t.Errorf("%s names itself %s/%s", k, d.DigestS3Bucket, d.DigestS3Object)
			}
			if i == 0 {
				if d.PreviousDigestSignature != nil || d.PreviousDigestS3Object != nil {
					t.Errorf("first digest %s is not a starting digest", k)
				}
			} else if d.PreviousDigestS3Object == nil || *d.PreviousDigestS3Object != prev.Key ||
				*d.PreviousDigestSignature != prev.Signature || *d.PreviousDigestHashValue != prev.Hash {
				t.Errorf("%s does not chain to %s", k, prev.Key)
			}
			prev = &prevDigest{Key: d.DigestS3Object, Signature: o.Metadata[digest.MetaSignature], Hash: digest.Hash(raw)}
			for _, lf := range d.LogFiles {
				if !strings.Contains(lf.S3Object, "/CloudTrail/"+region+"/") {
					t.Errorf("digest of %s lists %s", region, lf.S3Object)
				}
				lo, err := h.buckets.Get(context.Background(), lf.S3Bucket, lf.S3Object)
				if err != nil {
					t.Fatalf("%s: %v", lf.S3Object, err)
				}
				if digest.Hash(gunzip(t, lo.Body)) != lf.HashValue {
					t.Errorf("hash of %s", lf.S3Object)
				}
				listed[lf.S3Object] = true
			}
		}
		for _, k := range h.buckets.keys("bucket-v/AWSLogs/123456789012/CloudTrail/" + region + "/") {
			if !listed[strings.TrimPrefix(k, "bucket-v/")] {
				t.Errorf("log file %s is in no digest", k)
			}
		}
	}
}
