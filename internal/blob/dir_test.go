package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
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
		if got := ValidBucketName(tt.name); got != tt.ok {
			t.Errorf("ValidBucketName(%q) = %v; want %v", tt.name, got, tt.ok)
		}
	}
}

func TestDir(t *testing.T) {
	ctx := context.Background()
	root := filepath.Join(t.TempDir(), "buckets")
	d := NewDir(root)

	if err := d.CheckWritable(ctx, "logs"); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("CheckWritable before root exists = %v; want ErrBucketNotFound", err)
	}
	if err := d.CreateBucket(ctx, "logs"); err != nil {
		t.Fatal(err)
	}
	if err := d.CreateBucket(ctx, "logs"); !errors.Is(err, ErrBucketExists) {
		t.Fatalf("second CreateBucket = %v; want ErrBucketExists", err)
	}
	if err := d.CreateBucket(ctx, "../escape"); !errors.Is(err, ErrInvalidBucketName) {
		t.Fatalf("CreateBucket(../escape) = %v; want ErrInvalidBucketName", err)
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
	if err := d.CheckWritable(ctx, "other"); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("CheckWritable(other) = %v; want ErrBucketNotFound", err)
	}
	if err := d.CheckWritable(ctx, "Bad_Name"); !errors.Is(err, ErrInvalidBucketName) {
		t.Fatalf("CheckWritable(Bad_Name) = %v; want ErrInvalidBucketName", err)
	}
	// A regular file where a bucket should be is not a bucket.
	if err := os.WriteFile(filepath.Join(root, "afile"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.CheckWritable(ctx, "afile"); !errors.Is(err, ErrBucketNotFound) {
		t.Fatalf("CheckWritable(afile) = %v; want ErrBucketNotFound", err)
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
		if err := d.CheckWritable(ctx, "readonly"); !errors.Is(err, ErrAccessDenied) {
			t.Fatalf("CheckWritable(readonly) = %v; want ErrAccessDenied", err)
		}
	}
}
