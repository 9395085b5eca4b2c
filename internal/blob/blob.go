// Package blob is OpenTrail's bucket storage: where delivered log files and digest files go.
//
// A bucket is named as an S3 bucket is named. This package holds the vocabulary shared by every
// implementation — the bucket-name rule and the sentinel errors callers test with errors.Is —
// and Dir, the local-directory implementation that `opentrail serve` uses by default.
// Implementations for S3-compatible endpoints, and one conformance suite run against all of
// them, are meant to live beside Dir and return the same sentinel errors.
package blob

import (
	"errors"
	"net/netip"
)

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
