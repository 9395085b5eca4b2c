package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir keeps buckets as directories of a local root directory: bucket "b" is <root>/b/ and an
// object key is a path below it. It is the default bucket store of `opentrail serve`.
type Dir struct {
	root string
}

// NewDir returns the bucket store rooted at root. The root is created by the first
// CreateBucket; until then every bucket is missing.
func NewDir(root string) *Dir { return &Dir{root: root} }

// Root is the directory that holds the buckets.
func (d *Dir) Root() string { return d.root }

// bucketPath is the directory of a bucket whose name has been validated.
func (d *Dir) bucketPath(bucket string) (string, error) {
	if !ValidBucketName(bucket) {
		return "", fmt.Errorf("%w: %q", ErrInvalidBucketName, bucket)
	}
	return filepath.Join(d.root, bucket), nil
}

// CreateBucket creates an empty bucket. It fails with ErrBucketExists if the bucket is there
// already and ErrInvalidBucketName if the name breaks the S3 naming rules.
func (d *Dir) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.bucketPath(bucket)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.root, 0o750); err != nil {
		return fmt.Errorf("create bucket root %s: %w", d.root, err)
	}
	if err := os.Mkdir(p, 0o750); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrBucketExists, bucket)
		}
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// CheckWritable proves that objects can be written to bucket by writing a small probe object
// and removing it again. It fails with ErrBucketNotFound when the bucket does not exist,
// ErrAccessDenied when the directory refuses the write, and ErrInvalidBucketName for a name
// that breaks the S3 naming rules.
func (d *Dir) CheckWritable(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.bucketPath(bucket)
	if err != nil {
		return err
	}
	fi, err := os.Stat(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrBucketNotFound, bucket)
		}
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: %s: %v", ErrAccessDenied, bucket, err)
		}
		return fmt.Errorf("stat bucket %s: %w", bucket, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: %s (not a directory)", ErrBucketNotFound, bucket)
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	probe := filepath.Join(p, ".opentrail-write-check-"+hex.EncodeToString(nonce[:]))
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: %s: %v", ErrAccessDenied, bucket, err)
		}
		return fmt.Errorf("write check object to bucket %s: %w", bucket, err)
	}
	_, werr := f.Write([]byte("OpenTrail write check\n"))
	cerr := f.Close()
	rerr := os.Remove(probe)
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("write check object to bucket %s: %w", bucket, err)
	}
	if rerr != nil {
		return fmt.Errorf("remove check object from bucket %s: %w", bucket, rerr)
	}
	return nil
}
