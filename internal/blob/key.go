package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest object key, in bytes, as in S3.
const MaxKeyLen = 1024

// reservedPrefix starts every name OpenTrail keeps for itself inside a bucket: Dir's metadata
// sidecars and temporary files, and the write-check probe objects of CheckWritable. Keys with a
// segment that starts with it are refused by every Store, so that a bucket moves between
// implementations unchanged and no object can collide with an internal file.
const reservedPrefix = ".opentrail-"

// ValidKey reports whether key is an object key that every Store accepts; see CheckKey.
func ValidKey(key string) bool { return CheckKey(key) == nil }

// CheckKey returns nil if key is an object key that every Store accepts, and otherwise an
// error wrapping ErrInvalidKey that says what is wrong. A valid key is 1–MaxKeyLen bytes of
// UTF-8 without control characters (U+0000–U+001F, U+007F), does not begin with '/', and
// splits on '/' into segments none of which is empty, ".", ".." or begins with ".opentrail-".
//
// The rules make every valid key a relative path that stays inside its bucket's directory
// (Dir), and a key that every S3 implementation stores and lists as is.
func CheckKey(key string) error {
	if err := checkKey(key); err != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidKey, truncate(key), err)
	}
	return nil
}

func checkKey(key string) string {
	switch {
	case key == "":
		return "empty"
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case !utf8.ValidString(key):
		return "not UTF-8"
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c == 0x7f {
			return "contains a control character"
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return "empty path segment (leading, trailing or double '/')"
		case seg == "." || seg == "..":
			return "'.' or '..' path segment"
		case strings.HasPrefix(seg, reservedPrefix):
			return "path segment begins with the reserved " + reservedPrefix
		}
	}
	return ""
}

// truncate shortens a key for an error message.
func truncate(key string) string {
	if len(key) > 80 {
		return key[:80] + "..."
	}
	return key
}
