// Package blob is OpenTrail's bucket storage: where delivered log files and digest files go.
//
// Store is the interface every implementation satisfies, with the sentinel errors callers test
// with errors.Is, the bucket-name rule (ValidBucketName) and the object-key rule (CheckKey).
// Dir keeps buckets in a local directory (what `opentrail serve` uses by default); S3 keeps
// them on any S3-compatible endpoint. Package blobtest is the conformance suite both pass.
//
// # Dir's layout on disk
//
// A Dir root holds one directory per bucket, and a bucket directory holds its objects as
// plain files, the key's segments being path elements, so that the delivered files can be
// read with ordinary tools:
//
//	<root>/                                    e.g. <data-dir>/buckets/
//	  <bucket>/                                one directory per bucket
//	    AWSLogs/123456789012/CloudTrail/...    directories: the segments of keys
//	      <name>                               object body, byte for byte
//	      .opentrail-meta.<name>               sidecar: its user metadata, JSON
//	      .opentrail-tmp-<16 hex>              a Put in progress (or cut short by a crash)
//	    .opentrail-write-check-<16 hex>        CheckWritable's probe, removed at once
//
// The sidecar, present only when the object has metadata or a content type, is a JSON object
// {"contentType": "...", "metadata": {"<lower-case name>": "<value>"}}. Every internal file
// name begins with ".opentrail-", which no valid key segment does (CheckKey), so internal
// files never collide with objects and List skips them. A key that is a proper prefix of
// another key at a '/' ("a" and "a/b") cannot be stored beside it: the file system has a
// directory there (versitygw's posix backend has the same limit; Put fails). Dir also refuses
// key segments longer than 239 bytes, the file-name limit less the sidecar prefix.
//
// Put writes the body and the sidecar to temporary files in the object's directory, syncs
// them, renames the sidecar and then the body into place, and syncs the directory: an object
// is never visible half-written or without its metadata, and is durable once Put returns.
// Delete removes the body, then the sidecar, then the directories it leaves empty.
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
// '/'-separated, no empty, "." or ".." segments (CheckKey has the whole rule); every method
// refuses other keys with ErrInvalidKey and other bucket names with ErrInvalidBucketName.
// Metadata names are lower-case without the x-amz-meta- prefix, as S3 clients see them
// ("signature", "signature-algorithm"); Put lower-cases them.
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
	// Metadata is nil or empty for an object stored without any.
	Get(ctx context.Context, bucket, key string) (*Object, error)
	// List calls fn for each object whose key starts with prefix and sorts after startAfter
	// ("" for all), in ascending byte order of keys, until fn returns an error (returned as is).
	// Object.Body is nil in listings; Metadata may be nil.
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(Object) error) error
	// Delete removes an object; deleting a missing object is not an error, but deleting from a
	// missing bucket is (ErrBucketNotFound).
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

// ErrorCode is the S3 error code that err stands for, the form in which CloudTrail reports a
// failed delivery (GetTrailStatus's LatestDeliveryError): the code an S3 endpoint answered
// with (S3Error), else the code S3 uses for the sentinel that err wraps ("NoSuchBucket" for
// ErrBucketNotFound, "AccessDenied" for ErrAccessDenied ...), else "".
func ErrorCode(err error) string {
	if se, ok := errors.AsType[*S3Error](err); ok && se.Code != "" {
		return se.Code
	}
	switch {
	case errors.Is(err, ErrBucketNotFound):
		return "NoSuchBucket"
	case errors.Is(err, ErrAccessDenied):
		return "AccessDenied"
	case errors.Is(err, ErrObjectNotFound):
		return "NoSuchKey"
	case errors.Is(err, ErrBucketExists):
		return "BucketAlreadyOwnedByYou"
	case errors.Is(err, ErrInvalidBucketName):
		return "InvalidBucketName"
	case errors.Is(err, ErrInvalidKey):
		return "InvalidArgument"
	}
	return ""
}
