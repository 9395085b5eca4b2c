// Package blob is OpenTrail's bucket storage: where delivered log files and digest files go.
//
// A bucket is named as an S3 bucket is named. This package holds the vocabulary shared by every
// implementation — the bucket-name rule and the sentinel errors callers test with errors.Is —
// and Dir, the local-directory implementation that `opentrail serve` uses by default.
// Implementations for S3-compatible endpoints, and one conformance suite run against all of
// them, are meant to live beside Dir and return the same sentinel errors.
package blob

import (
	"context"
	"errors"
	"net/netip"
)

// Store is a set of buckets holding objects: what delivery writes log files and digests to,
// and what validate-logs reads them back from. Dir (a local directory) and S3 (any
// S3-compatible endpoint) implement it; blobtest.Run is the conformance suite both pass.
//
// Keys are S3 object keys ("AWSLogs/1234/CloudTrail/..."): non-empty, at most 1024 bytes,
// '/'-separated, no empty, "." or ".." segments. Metadata names are lower-case without the
// x-amz-meta- prefix, as S3 clients see them ("signature", "signature-algorithm").
type Store interface {
	// CreateBucket creates an empty bucket (ErrBucketExists if there, ErrInvalidBucketName).
	CreateBucket(ctx context.Context, bucket string) error
	// CheckWritable proves that objects can be written to bucket (ErrBucketNotFound,
	// ErrAccessDenied, ErrInvalidBucketName).
	CheckWritable(ctx context.Context, bucket string) error
	// Put writes an object whole, replacing any object of that key; the object is complete and
	// durable when Put returns nil, and never visible half-written.
	Put(ctx context.Context, bucket, key string, body []byte, opts PutOptions) error
	// Get reads an object and its user metadata (ErrObjectNotFound, ErrBucketNotFound).
	Get(ctx context.Context, bucket, key string) (*Object, error)
	// List calls fn for each object whose key starts with prefix and sorts after startAfter
	// ("" for all), in ascending byte order of keys, until fn returns an error (returned as is).
	// Object.Body is nil in listings; Metadata may be nil.
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(Object) error) error
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
}

// PutOptions are the optional parts of a Put.
type PutOptions struct {
	ContentType string            // default application/octet-stream
	Metadata    map[string]string // user metadata, lower-case names without x-amz-meta-
	// ServerSideEncryption is sent as x-amz-server-side-encryption ("AES256", "aws:kms") to
	// S3 endpoints; Dir ignores it.
	ServerSideEncryption string
}

// Object is a stored object.
type Object struct {
	Key      string
	Size     int64
	Metadata map[string]string
	Body     []byte
}

// Sentinel errors. Implementations wrap them with %w so that callers can test with errors.Is
// while the wrapped message keeps the detail.
var (
	// ErrBucketNotFound: the bucket does not exist.
	ErrBucketNotFound = errors.New("blob: bucket does not exist")
	// ErrAccessDenied: the bucket exists but this process may not write to it.
	ErrAccessDenied = errors.New("blob: access to bucket denied")
	// ErrInvalidBucketName: the name breaks the S3 bucket-naming rules (ValidBucketName).
	ErrInvalidBucketName = errors.New("blob: invalid bucket name")
	// ErrBucketExists: CreateBucket found the bucket already there.
	ErrBucketExists = errors.New("blob: bucket already exists")
	// ErrObjectNotFound: Get found no object of that key (S3 NoSuchKey).
	ErrObjectNotFound = errors.New("blob: object does not exist")
	// ErrInvalidKey: the object key breaks the rules of Store.
	ErrInvalidKey = errors.New("blob: invalid object key")
)

// ValidBucketName reports whether name follows the S3 general-purpose bucket-naming rules:
// 3–63 characters of lower-case letters, digits, '.' and '-', beginning and ending with a
// letter or digit, no two adjacent periods, not formatted as an IPv4 address, and none of the
// reserved prefixes and suffixes ("xn--", "sthree-", "-s3alias", "--ol-s3", ...).
//
// The rule also makes every valid name a safe single path element: no '/', no "..".
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
			if c == '.' && name[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-"} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if len(name) >= len(s) && name[len(name)-len(s):] == s {
			return false
		}
	}
	return true
}
