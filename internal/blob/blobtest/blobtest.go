// Package blobtest is the conformance suite of blob.Store: every implementation runs Run and
// passes it, so that delivery and validate-logs behave the same on a local directory and on
// any S3-compatible endpoint.
//
// The suite covers every method and every sentinel error that a store can produce without
// help from outside (ErrAccessDenied needs a bucket the store may not write to, so each
// implementation tests it itself).
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/blob"
)

// Run runs the conformance suite. newStore returns the store under test; it is called once
// per subtest and may return the same store each time, because every subtest works in
// buckets of its own, named "blobtest-<random>".
func Run(t *testing.T, newStore func(t *testing.T) blob.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blob.Store)
	}{
		{"CreateBucket", testCreateBucket},
		{"CheckWritable", testCheckWritable},
		{"PutGet", testPutGet},
		{"Metadata", testMetadata},
		{"Overwrite", testOverwrite},
		{"MissingBucket", testMissingBucket},
		{"GetMissing", testGetMissing},
		{"Delete", testDelete},
		{"List", testList},
		{"ListStop", testListStop},
		{"ListMany", testListMany},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"InvalidBucketNames", testInvalidBucketNames},
		{"PrefixClash", testPrefixClash},
		{"ConcurrentPuts", testConcurrentPuts},
		{"ConcurrentPutDelete", testConcurrentPutDelete},
		{"CanceledContext", testCanceledContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func bucketName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "blobtest-" + hex.EncodeToString(b[:])
}

// newBucket creates a fresh bucket.
func newBucket(t *testing.T, s blob.Store) string {
	t.Helper()
	b := bucketName()
	if err := s.CreateBucket(ctx(t), b); err != nil {
		t.Fatalf("CreateBucket(%s) = %v", b, err)
	}
	return b
}

func put(t *testing.T, s blob.Store, bucket, key string, body []byte, meta map[string]string) {
	t.Helper()
	if err := s.Put(ctx(t), bucket, key, body, blob.PutOptions{Metadata: meta}); err != nil {
		t.Fatalf("Put(%s, %q) = %v", bucket, key, err)
	}
}

func get(t *testing.T, s blob.Store, bucket, key string) *blob.Object {
	t.Helper()
	o, err := s.Get(ctx(t), bucket, key)
	if err != nil {
		t.Fatalf("Get(%s, %q) = %v", bucket, key, err)
	}
	return o
}

func list(t *testing.T, s blob.Store, bucket, prefix, startAfter string) []blob.Object {
	t.Helper()
	var out []blob.Object
	err := s.List(ctx(t), bucket, prefix, startAfter, func(o blob.Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%s, %q, %q) = %v", bucket, prefix, startAfter, err)
	}
	return out
}

func keys(objs []blob.Object) []string {
	ks := make([]string, len(objs))
	for i, o := range objs {
		ks[i] = o.Key
	}
	return ks
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v; want %v", what, err, want)
	}
}

func testCreateBucket(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	wantErr(t, "second CreateBucket", s.CreateBucket(ctx(t), b), blob.ErrBucketExists)
	if got := list(t, s, b, "", ""); len(got) != 0 {
		t.Errorf("new bucket lists %v; want nothing", keys(got))
	}
}

func testCheckWritable(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	if err := s.CheckWritable(ctx(t), b); err != nil {
		t.Fatalf("CheckWritable(new bucket) = %v", err)
	}
	if got := list(t, s, b, "", ""); len(got) != 0 {
		t.Errorf("CheckWritable left %v behind", keys(got))
	}
	wantErr(t, "CheckWritable(missing bucket)", s.CheckWritable(ctx(t), bucketName()), blob.ErrBucketNotFound)
}

func testPutGet(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	all := make([]byte, 256*3)
	for i := range all {
		all[i] = byte(i)
	}
	bodies := map[string][]byte{
		"AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/123456789012_CloudTrail_us-east-1_20240501T1205Z_abcDEF0123456789.json.gz": []byte("\x1f\x8b log file"),
		"empty":  {},
		"binary": all,
		"big":    bytes.Repeat([]byte("0123456789abcdef"), 1<<16), // 1 MiB
	}
	for k, body := range bodies {
		if err := s.Put(ctx(t), b, k, body, blob.PutOptions{ContentType: "application/x-gzip"}); err != nil {
			t.Fatalf("Put(%q) = %v", k, err)
		}
	}
	for k, body := range bodies {
		o := get(t, s, b, k)
		if o.Key != k || o.Size != int64(len(body)) || !bytes.Equal(o.Body, body) {
			t.Errorf("Get(%q) = key %q, size %d, %d body bytes; want %q, %d", k, o.Key, o.Size, len(o.Body), k, len(body))
		}
		if len(o.Metadata) != 0 {
			t.Errorf("Get(%q).Metadata = %v; want none", k, o.Metadata)
		}
	}
	got := list(t, s, b, "", "")
	want := slices.Sorted(func(yield func(string) bool) {
		for k := range bodies {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(keys(got), want) {
		t.Fatalf("List = %q; want %q", keys(got), want)
	}
	for _, o := range got {
		if o.Size != int64(len(bodies[o.Key])) || o.Body != nil {
			t.Errorf("List: %q size %d, body %d bytes; want size %d, nil body", o.Key, o.Size, len(o.Body), len(bodies[o.Key]))
		}
	}
}

func testMetadata(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	meta := map[string]string{
		"signature":           "9f1d2b3c4d5e6f708192a3b4c5d6e7f8",
		"signature-algorithm": "SHA256withRSA",
		"with_underscore":     "a value with spaces, commas; and = signs",
	}
	if err := s.Put(ctx(t), b, "d/digest.json.gz", []byte("digest"), blob.PutOptions{
		ContentType:          "application/json",
		Metadata:             meta,
		ServerSideEncryption: "AES256",
	}); err != nil {
		t.Fatal(err)
	}
	o := get(t, s, b, "d/digest.json.gz")
	if !mapsEqual(o.Metadata, meta) {
		t.Errorf("Metadata = %v; want %v", o.Metadata, meta)
	}
	// Names come back lower-case whatever case they were put in, as with S3.
	put(t, s, b, "upper", []byte("x"), map[string]string{"Signature-Algorithm": "SHA256withRSA"})
	if o := get(t, s, b, "upper"); !mapsEqual(o.Metadata, map[string]string{"signature-algorithm": "SHA256withRSA"}) {
		t.Errorf("Metadata of a Put with an upper-case name = %v; want the name lower-cased", o.Metadata)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func testOverwrite(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	put(t, s, b, "k/obj", []byte("first version, longer"), map[string]string{"v": "1"})
	put(t, s, b, "k/obj", []byte("second"), nil)
	o := get(t, s, b, "k/obj")
	if string(o.Body) != "second" || o.Size != 6 || len(o.Metadata) != 0 {
		t.Errorf("after overwrite: body %q size %d metadata %v; want \"second\", 6, no metadata", o.Body, o.Size, o.Metadata)
	}
	put(t, s, b, "k/obj", []byte("third"), map[string]string{"v": "3"})
	if o := get(t, s, b, "k/obj"); string(o.Body) != "third" || o.Metadata["v"] != "3" {
		t.Errorf("after second overwrite: body %q metadata %v", o.Body, o.Metadata)
	}
	if got := list(t, s, b, "", ""); len(got) != 1 || got[0].Key != "k/obj" || got[0].Size != 5 {
		t.Errorf("List after overwrites = %+v; want k/obj of 5 bytes", got)
	}
}

func testMissingBucket(t *testing.T, s blob.Store) {
	c, b := ctx(t), bucketName()
	wantErr(t, "Put", s.Put(c, b, "k", []byte("x"), blob.PutOptions{}), blob.ErrBucketNotFound)
	_, err := s.Get(c, b, "k")
	wantErr(t, "Get", err, blob.ErrBucketNotFound)
	wantErr(t, "List", s.List(c, b, "", "", func(blob.Object) error { return nil }), blob.ErrBucketNotFound)
	wantErr(t, "Delete", s.Delete(c, b, "k"), blob.ErrBucketNotFound)
	wantErr(t, "CheckWritable", s.CheckWritable(c, b), blob.ErrBucketNotFound)
	// Put must not have created the bucket on the way.
	wantErr(t, "CheckWritable after Put", s.CheckWritable(c, b), blob.ErrBucketNotFound)
}

func testGetMissing(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	put(t, s, b, "dir/sub/obj", []byte("x"), nil)
	for _, k := range []string{"nothing", "dir", "dir/sub", "dir/sub/obj/more", "dir/sub/ob"} {
		_, err := s.Get(ctx(t), b, k)
		wantErr(t, fmt.Sprintf("Get(%q)", k), err, blob.ErrObjectNotFound)
	}
}

func testDelete(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	put(t, s, b, "a/b/c", []byte("1"), nil)
	put(t, s, b, "a/x", []byte("2"), map[string]string{"m": "v"})
	if err := s.Delete(ctx(t), b, "a/b/c"); err != nil {
		t.Fatalf("Delete = %v", err)
	}
	_, err := s.Get(ctx(t), b, "a/b/c")
	wantErr(t, "Get after Delete", err, blob.ErrObjectNotFound)
	if got := keys(list(t, s, b, "", "")); !slices.Equal(got, []string{"a/x"}) {
		t.Errorf("List after Delete = %q; want [a/x]", got)
	}
	for _, k := range []string{"a/b/c", "never", "a", "a/b"} {
		if err := s.Delete(ctx(t), b, k); err != nil {
			t.Errorf("Delete(missing %q) = %v; want nil", k, err)
		}
	}
	// Once its objects are gone, a former prefix can be a key.
	put(t, s, b, "a/b", []byte("now an object"), nil)
	if o := get(t, s, b, "a/b"); string(o.Body) != "now an object" {
		t.Errorf("Get(a/b) = %q", o.Body)
	}
	// A new object of a deleted key has none of the old one's metadata.
	if err := s.Delete(ctx(t), b, "a/x"); err != nil {
		t.Fatal(err)
	}
	put(t, s, b, "a/x", []byte("again"), nil)
	if o := get(t, s, b, "a/x"); len(o.Metadata) != 0 {
		t.Errorf("Get(a/x) after Delete and Put = metadata %v; want none", o.Metadata)
	}
}

func testList(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	// Byte order of whole keys differs from a per-directory walk: '-' (0x2d) and '.' (0x2e)
	// sort before '/' (0x2f), '0' (0x30) after.
	all := []string{
		"!bang", "a-c", "a.x", "a/b", "a/c/d", "a/c/e/f", "a/cc", "a0", "ab/c", "b", "b.d/x", "b0/a", "~tilde", "é/x",
	}
	for _, k := range all {
		put(t, s, b, k, []byte(k), nil)
	}
	tests := []struct {
		prefix, startAfter string
		want               []string
	}{
		{"", "", all},
		{"a", "", all[1:9]},
		{"a/", "", all[3:7]},
		{"a/c", "", all[4:7]},
		{"a/c/", "", all[4:6]},
		{"a/c/e/f", "", all[5:6]},
		{"a/c/e/f/", "", nil},
		{"nothing", "", nil},
		{"~", "", all[12:13]},
		{"é", "", all[13:]},
		{"", "a/b", all[4:]},
		{"", "a/bz", all[4:]},
		{"", "a/", all[3:]},
		{"", "a", all[1:]},
		{"", "~tilde", all[13:]},
		{"", "é", all[13:]},
		{"", "\U0010ffff", nil},
		{"", "!", all},
		{"a/", "a/c/d", all[5:7]},
		{"a/", "a/c/", all[4:7]},
		{"a/", "0", all[3:7]},
		{"a/", "b", nil},
		{"b", "b", all[10:12]},
	}
	for _, tt := range tests {
		got := list(t, s, b, tt.prefix, tt.startAfter)
		if !slices.Equal(keys(got), tt.want) {
			t.Errorf("List(prefix %q, startAfter %q) = %q; want %q", tt.prefix, tt.startAfter, keys(got), tt.want)
		}
		for _, o := range got {
			if o.Size != int64(len(o.Key)) || o.Body != nil {
				t.Errorf("List: %q has size %d, %d body bytes; want size %d, nil body", o.Key, o.Size, len(o.Body), len(o.Key))
			}
		}
	}
}

func testListStop(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	for i := range 5 {
		put(t, s, b, fmt.Sprintf("k%d", i), []byte("x"), nil)
	}
	stop := errors.New("stop here")
	var seen []string
	err := s.List(ctx(t), b, "", "", func(o blob.Object) error {
		seen = append(seen, o.Key)
		if len(seen) == 2 {
			return stop
		}
		return nil
	})
	if err != stop { //nolint:errorlint // must be returned as is
		t.Errorf("List returned %v; want fn's error as is", err)
	}
	if !slices.Equal(seen, []string{"k0", "k1"}) {
		t.Errorf("List went on after fn failed: saw %q", seen)
	}
}

func testListMany(t *testing.T, s blob.Store) {
	const n = 1100 // more than one S3 page of 1000
	b := newBucket(t, s)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("many/%02d/%05d.json.gz", i%7, i)
	}
	parallel(t, n, 8, func(i int) error {
		return s.Put(ctx(t), b, want[i], []byte{byte(i)}, blob.PutOptions{})
	})
	slices.Sort(want)
	if got := keys(list(t, s, b, "", "")); !slices.Equal(got, want) {
		t.Fatalf("List: %d keys, first %q; want %d in order", len(got), first(got), n)
	}
	if got := keys(list(t, s, b, "many/", want[499])); !slices.Equal(got, want[500:]) {
		t.Errorf("List after %q: %d keys; want %d", want[499], len(got), n-500)
	}
	if got := keys(list(t, s, b, "many/03/", "")); len(got) != n/7 || !slices.IsSorted(got) {
		t.Errorf("List(many/03/): %d keys; want %d, sorted", len(got), n/7)
	}
}

func first(s []string) []string { return s[:min(len(s), 3)] }

// parallel runs fn(0..n-1) on workers goroutines and fails the test on the first error.
func parallel(t *testing.T, n, workers int, fn func(i int) error) {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		next = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d of %d calls failed; first: %v", len(errs), n, errs[0])
	}
}

func testKeys(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	long := strings.Repeat("abcdefghi/", blob.MaxKeyLen/10) + "abcd" // exactly 1024 bytes
	if len(long) != blob.MaxKeyLen {
		t.Fatalf("test key is %d bytes", len(long))
	}
	valid := []string{
		long,
		"...",
		"..a/a..",
		".hidden/.x",
		".opentrai/x",
		"x.opentrail-meta.y",
		"sp ace/plus+eq=amp&q?h#p%25/c,o;l:o@n",
		"ünïcødé/日本語/🙂",
		"quote'\"<>&/back\\slash",
		"UPPER/lower",
	}
	for _, k := range valid {
		put(t, s, b, k, []byte(k), map[string]string{"k": "v"})
	}
	for _, k := range valid {
		if o := get(t, s, b, k); string(o.Body) != k || o.Metadata["k"] != "v" {
			t.Errorf("Get(%q) = %q, %v", k, o.Body, o.Metadata)
		}
	}
	want := slices.Clone(valid)
	slices.Sort(want)
	if got := keys(list(t, s, b, "", "")); !slices.Equal(got, want) {
		t.Errorf("List = %q; want %q", got, want)
	}
	for _, k := range valid {
		if err := s.Delete(ctx(t), b, k); err != nil {
			t.Errorf("Delete(%q) = %v", k, err)
		}
	}
	if got := list(t, s, b, "", ""); len(got) != 0 {
		t.Errorf("List after deleting all = %q", keys(got))
	}
}

// InvalidKeys are keys every store refuses with ErrInvalidKey.
var InvalidKeys = []string{
	"",
	"/abs",
	"a//b",
	"trailing/",
	".",
	"..",
	"./a",
	"a/./b",
	"../escape",
	"a/../../escape",
	"a/..",
	strings.Repeat("a", blob.MaxKeyLen+1),
	"nul\x00byte",
	"new\nline",
	"tab\tkey",
	"del\x7f",
	"bad\xffutf8",
	".opentrail-meta.x",
	"a/.opentrail-tmp-0123456789abcdef",
	".opentrail-write-check-0123",
}

func testInvalidKeys(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	c := ctx(t)
	for _, k := range InvalidKeys {
		wantErr(t, fmt.Sprintf("Put(%q)", k), s.Put(c, b, k, []byte("x"), blob.PutOptions{}), blob.ErrInvalidKey)
		_, err := s.Get(c, b, k)
		wantErr(t, fmt.Sprintf("Get(%q)", k), err, blob.ErrInvalidKey)
		wantErr(t, fmt.Sprintf("Delete(%q)", k), s.Delete(c, b, k), blob.ErrInvalidKey)
	}
	if got := list(t, s, b, "", ""); len(got) != 0 {
		t.Errorf("invalid keys left %q", keys(got))
	}
}

// InvalidBucketNames are names every store refuses with ErrInvalidBucketName.
var InvalidBucketNames = []string{"", "ab", "Upper", "under_score", "../etc", "a/b", "192.168.1.1", "-lead", "xn--punycode"}

func testInvalidBucketNames(t *testing.T, s blob.Store) {
	c := ctx(t)
	for _, b := range InvalidBucketNames {
		what := func(m string) string { return fmt.Sprintf("%s(%q)", m, b) }
		wantErr(t, what("CreateBucket"), s.CreateBucket(c, b), blob.ErrInvalidBucketName)
		wantErr(t, what("CheckWritable"), s.CheckWritable(c, b), blob.ErrInvalidBucketName)
		wantErr(t, what("Put"), s.Put(c, b, "k", nil, blob.PutOptions{}), blob.ErrInvalidBucketName)
		_, err := s.Get(c, b, "k")
		wantErr(t, what("Get"), err, blob.ErrInvalidBucketName)
		wantErr(t, what("List"), s.List(c, b, "", "", func(blob.Object) error { return nil }), blob.ErrInvalidBucketName)
		wantErr(t, what("Delete"), s.Delete(c, b, "k"), blob.ErrInvalidBucketName)
	}
}

// testPrefixClash: some stores (Dir, versitygw's posix backend) cannot hold "p" and "p/q"
// at once. Whether the second Put succeeds or fails, it must not damage the first object.
func testPrefixClash(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	put(t, s, b, "p/q", []byte("inner"), map[string]string{"m": "inner"})
	errOuter := s.Put(ctx(t), b, "p", []byte("outer"), blob.PutOptions{Metadata: map[string]string{"m": "outer"}})
	put(t, s, b, "r", []byte("file"), nil)
	errInner := s.Put(ctx(t), b, "r/s", []byte("below a file"), blob.PutOptions{})
	t.Logf("Put over a prefix: %v; Put below an object: %v", errOuter, errInner)

	if o := get(t, s, b, "p/q"); string(o.Body) != "inner" || o.Metadata["m"] != "inner" {
		t.Errorf("p/q after Put(p) = %q %v", o.Body, o.Metadata)
	}
	if o := get(t, s, b, "r"); string(o.Body) != "file" {
		t.Errorf("r after Put(r/s) = %q", o.Body)
	}
	want := []string{"p/q", "r"}
	if errOuter == nil {
		want = []string{"p", "p/q", "r"}
		if o := get(t, s, b, "p"); string(o.Body) != "outer" || o.Metadata["m"] != "outer" {
			t.Errorf("p = %q %v", o.Body, o.Metadata)
		}
	}
	if errInner == nil {
		want = append(want, "r/s")
	}
	if got := keys(list(t, s, b, "", "")); !slices.Equal(got, want) {
		t.Errorf("List = %q; want %q", got, want)
	}
}

func testConcurrentPuts(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	// Distinct keys in directories created concurrently.
	const n = 200
	parallel(t, n, 16, func(i int) error {
		k := fmt.Sprintf("c/%d/%d/%03d", i%3, i%5, i)
		return s.Put(ctx(t), b, k, []byte(k), blob.PutOptions{Metadata: map[string]string{"k": k}})
	})
	got := list(t, s, b, "c/", "")
	if len(got) != n {
		t.Fatalf("List: %d objects; want %d", len(got), n)
	}
	for _, o := range got[:10] {
		if g := get(t, s, b, o.Key); string(g.Body) != o.Key || g.Metadata["k"] != o.Key {
			t.Errorf("Get(%q) = %q %v", o.Key, g.Body, g.Metadata)
		}
	}
	// One key, many writers, readers alongside: every Get sees one writer's body with that
	// writer's metadata, never a mix.
	put(t, s, b, "same", []byte("initial"), map[string]string{"sha256": sum("initial")})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr error
	var reads int
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			o, err := s.Get(ctx(t), b, "same")
			if err == nil && o.Metadata["sha256"] != sum(string(o.Body)) {
				err = fmt.Errorf("body %q with metadata %v", o.Body, o.Metadata)
			}
			if err != nil {
				readErr = err
				return
			}
			reads++
		}
	})
	parallel(t, 64, 8, func(i int) error {
		body := fmt.Sprintf("writer %d %s", i, strings.Repeat("x", i*100))
		return s.Put(ctx(t), b, "same", []byte(body), blob.PutOptions{Metadata: map[string]string{"sha256": sum(body)}})
	})
	close(stop)
	wg.Wait()
	if readErr != nil {
		t.Errorf("concurrent Get after %d reads: %v", reads, readErr)
	}
	o := get(t, s, b, "same")
	if o.Metadata["sha256"] != sum(string(o.Body)) || !strings.HasPrefix(string(o.Body), "writer ") {
		t.Errorf("after concurrent Puts: %q with %v", o.Body, o.Metadata)
	}
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// testConcurrentPutDelete: deleting the last object of a prefix while another is being put
// below it loses neither.
func testConcurrentPutDelete(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	const n = 50
	parallel(t, 2*n, 4, func(i int) error {
		k := fmt.Sprintf("pd/x/y/%d", i/2)
		if i%2 == 0 {
			return s.Put(ctx(t), b, k+"/kept", []byte("k"), blob.PutOptions{})
		}
		if err := s.Put(ctx(t), b, k+"/gone", []byte("g"), blob.PutOptions{}); err != nil {
			return err
		}
		return s.Delete(ctx(t), b, k+"/gone")
	})
	got := keys(list(t, s, b, "pd/", ""))
	if len(got) != n {
		t.Fatalf("List: %d keys; want %d kept ones: %q", len(got), n, got)
	}
	for _, k := range got {
		if !strings.HasSuffix(k, "/kept") {
			t.Errorf("List has %q", k)
		}
	}
}

func testCanceledContext(t *testing.T, s blob.Store) {
	b := newBucket(t, s)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	wantErr(t, "Put", s.Put(c, b, "k", []byte("x"), blob.PutOptions{}), context.Canceled)
	_, err := s.Get(c, b, "k")
	wantErr(t, "Get", err, context.Canceled)
	wantErr(t, "List", s.List(c, b, "", "", func(blob.Object) error { return nil }), context.Canceled)
	wantErr(t, "Delete", s.Delete(c, b, "k"), context.Canceled)
	wantErr(t, "CheckWritable", s.CheckWritable(c, b), context.Canceled)
	wantErr(t, "CreateBucket", s.CreateBucket(c, bucketName()), context.Canceled)
	if got := list(t, s, b, "", ""); len(got) != 0 {
		t.Errorf("canceled Put stored %q", keys(got))
	}
}
