package blob_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/blob/blobtest"
)

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"abc", true},
		{"my-bucket.logs-1", true},
		{"ab", false},
		{"a23456789012345678901234567890123456789012345678901234567890123", true},
		{"a234567890123456789012345678901234567890123456789012345678901234", false},
		{"My-Bucket", false},
		{"-bucket", false},
		{"bucket-", false},
		{"bucket.", false},
		{"buck..et", false},
		{"192.168.5.4", false},
		{"1.2.3", true},
		{"xn--bucket", false},
		{"sthree-bucket", false},
		{"bucket-s3alias", false},
		{"bucket--ol-s3", false},
		{"..", false},
		{"a/b", false},
		{"a_b", false},
	}
	for _, tt := range tests {
		if got := blob.ValidBucketName(tt.name); got != tt.ok {
			t.Errorf("blob.ValidBucketName(%q) = %v; want %v", tt.name, got, tt.ok)
		}
	}
}

func TestDir(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "buckets")
	d := blob.NewDir(root)

	if err := d.CheckWritable(ctx, "logs"); !errors.Is(err, blob.ErrBucketNotFound) {
		t.Fatalf("CheckWritable before root exists = %v; want blob.ErrBucketNotFound", err)
	}
	if err := d.CreateBucket(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateBucket(ctx, "logs"); !errors.Is(err, blob.ErrBucketExists) {
		t.Fatalf("second CreateBucket = %v; want blob.ErrBucketExists", err)
	}
	if err := d.CreateBucket(ctx, "../escape"); !errors.Is(err, blob.ErrInvalidBucketName) {
		t.Fatalf("CreateBucket(../escape) = %v; want blob.ErrInvalidBucketName", err)
	}
	if err := d.CheckWritable(ctx, "logs"); err != nil {
		t.Fatalf("CheckWritable = %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(root, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("CheckWritable left %d entries behind", len(entries))
	}
	if err := d.CheckWritable(ctx, "other"); !errors.Is(err, blob.ErrBucketNotFound) {
		t.Fatalf("CheckWritable(other) = %v; want blob.ErrBucketNotFound", err)
	}
	if err := d.CheckWritable(ctx, "Bad_Name"); !errors.Is(err, blob.ErrInvalidBucketName) {
		t.Fatalf("CheckWritable(Bad_Name) = %v; want blob.ErrInvalidBucketName", err)
	}
	// A regular file where a bucket should be is not a bucket.
	if err := os.WriteFile(filepath.Join(root, "afile"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckWritable(ctx, "afile"); !errors.Is(err, blob.ErrBucketNotFound) {
		t.Fatalf("CheckWritable(afile) = %v; want blob.ErrBucketNotFound", err)
	}

	if os.Geteuid() != 0 { // root ignores permission bits
		if err := d.CreateBucket(ctx, "readonly"); err != nil {
			t.Fatal(err)
		}
		ro := filepath.Join(root, "readonly")
		if err := os.Chmod(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(ro, 0o750) })
		if err := d.CheckWritable(ctx, "readonly"); !errors.Is(err, blob.ErrAccessDenied) {
			t.Fatalf("CheckWritable(readonly) = %v; want blob.ErrAccessDenied", err)
		}
	}
}

func TestDirConformance(t *testing.T) {
	root := filepath.Join(t.TempDir(), "buckets")
	blobtest.Run(t, func(*testing.T) blob.Store { return blob.NewDir(root) })
}

// TestDirLayout pins the on-disk layout the package comment documents.
func TestDirLayout(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := blob.NewDir(root)
	if err := d.CreateBucket(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	key := "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/05/01/x.json.gz"
	meta := map[string]string{"signature": "abc", "signature-algorithm": "SHA256withRSA"}
	if err := d.Put(ctx, "logs", key, []byte("body"), blob.PutOptions{ContentType: "application/json", Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "logs", "AWSLogs", "123456789012", "CloudTrail-Digest", "us-east-1", "2024", "05", "01")
	if b, err := os.ReadFile(filepath.Join(dir, "x.json.gz")); err != nil || string(b) != "body" {
		t.Errorf("object file = %q, %v; want the body", b, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ".opentrail-meta.x.json.gz"))
	if err != nil {
		t.Fatal(err)
	}
	var sc struct {
		ContentType string            `json:"contentType"`
		Metadata    map[string]string `json:"metadata"`
	}
	if err := json.Unmarshal(b, &sc); err != nil || sc.ContentType != "application/json" || sc.Metadata["signature"] != "abc" || len(sc.Metadata) != 2 {
		t.Errorf("sidecar = %s (%v)", b, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".opentrail-meta.x.json.gz", "x.json.gz"}; !slices.Equal(names, want) {
		t.Errorf("directory holds %q; want %q (no temporary files left)", names, want)
	}

	// An overwrite without metadata removes the sidecar.
	if err := d.Put(ctx, "logs", key, []byte("body2"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".opentrail-meta.x.json.gz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("sidecar after overwrite without metadata: %v; want it gone", err)
	}

	// Delete prunes the directories it empties, but never the bucket.
	if err := d.Delete(ctx, "logs", key); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(filepath.Join(root, "logs")); err != nil || len(entries) != 0 {
		t.Errorf("bucket after deleting its only object: %v, %v; want an empty directory", entries, err)
	}
}

// TestDirListSkipsInternalFiles: leftovers of crashed Puts, probes, sidecars without an
// object, symbolic links and other files that are not objects never appear in a listing.
func TestDirListSkipsInternalFiles(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d := blob.NewDir(root)
	if err := d.CreateBucket(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	if err := d.Put(ctx, "logs", "a/obj", []byte("x"), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	bp := filepath.Join(root, "logs")
	for _, f := range []string{".opentrail-tmp-0011223344556677", "a/.opentrail-tmp-8899aabbccddeeff", ".opentrail-write-check-00", "a/.opentrail-meta.gone"} {
		if err := os.WriteFile(filepath.Join(bp, f), []byte("junk"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(bp, "a", "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(bp, "emptydir"), 0o700); err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := d.List(ctx, "logs", "", "", func(o blob.Object) error { got = append(got, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/obj"}; !slices.Equal(got, want) {
		t.Errorf("List = %q; want %q", got, want)
	}
	// A key whose path is an empty directory (left by something else) is no object, and a Put
	// of it fails without touching anything.
	if _, err := d.Get(ctx, "logs", "emptydir"); !errors.Is(err, blob.ErrObjectNotFound) {
		t.Errorf("Get(emptydir) = %v; want ErrObjectNotFound", err)
	}
}

func TestDirKeyLimits(t *testing.T) {
	ctx := context.Background()
	d := blob.NewDir(t.TempDir())
	if err := d.CreateBucket(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	ok := strings.Repeat("s", 239)
	if err := d.Put(ctx, "logs", "x/"+ok, []byte("x"), blob.PutOptions{Metadata: map[string]string{"m": "v"}}); err != nil {
		t.Errorf("Put of a 239-byte segment = %v", err)
	}
	if err := d.Put(ctx, "logs", "x/"+ok+"s", []byte("x"), blob.PutOptions{}); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("Put of a 240-byte segment = %v; want ErrInvalidKey", err)
	}
	if err := d.Put(ctx, "logs", "k", nil, blob.PutOptions{Metadata: map[string]string{"bad name": "v"}}); err == nil {
		t.Error("Put with metadata name \"bad name\" succeeded")
	}
}

func TestDirAccessDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores permission bits")
	}
	ctx := context.Background()
	root := t.TempDir()
	d := blob.NewDir(root)
	if err := d.CreateBucket(ctx, "ro"); err != nil {
		t.Fatal(err)
	}
	bp := filepath.Join(root, "ro")
	if err := os.Chmod(bp, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(bp, 0o750) })
	if err := d.Put(ctx, "ro", "a/b", []byte("x"), blob.PutOptions{}); !errors.Is(err, blob.ErrAccessDenied) {
		t.Errorf("Put into a read-only bucket = %v; want ErrAccessDenied", err)
	}
	if got := blob.ErrorCode(d.Put(ctx, "ro", "k", nil, blob.PutOptions{})); got != "AccessDenied" {
		t.Errorf("ErrorCode = %q; want AccessDenied", got)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("other"), ""},
		{fmt.Errorf("%w: logs", blob.ErrBucketNotFound), "NoSuchBucket"},
		{fmt.Errorf("%w: logs", blob.ErrAccessDenied), "AccessDenied"},
		{blob.ErrObjectNotFound, "NoSuchKey"},
		{blob.ErrInvalidBucketName, "InvalidBucketName"},
		{blob.ErrBucketExists, "BucketAlreadyOwnedByYou"},
		{blob.CheckKey(""), "InvalidArgument"},
	}
	for _, tt := range tests {
		if got := blob.ErrorCode(tt.err); got != tt.want {
			t.Errorf("ErrorCode(%v) = %q; want %q", tt.err, got, tt.want)
		}
	}
}
