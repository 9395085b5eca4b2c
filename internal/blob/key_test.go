package blob

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckKey(t *testing.T) {
	for _, k := range []string{"a", "a/b", "...", "..a", ".x/y", "a.opentrail-meta.x", strings.Repeat("k", MaxKeyLen)} {
		if err := CheckKey(k); err != nil {
			t.Errorf("CheckKey(%q) = %v; want nil", k, err)
		}
	}
	for _, k := range []string{"", "/a", "a/", "a//b", ".", "..", "a/../b", "\x00", "a\x1fb", "\xc3", ".opentrail-x", strings.Repeat("k", MaxKeyLen+1)} {
		if ValidKey(k) {
			t.Errorf("ValidKey(%q) = true; want false", k)
		}
	}
}

// FuzzValidKey: a key Dir accepts is a path strictly inside its bucket directory, whose every
// element is the matching key segment (so keys and files correspond one to one), whose name
// and sidecar name are no internal names, and whose sidecar lies beside it.
func FuzzValidKey(f *testing.F) {
	for _, k := range []string{"a", "a/b/c.json.gz", "..", "a/../b", "...", "/a", "a//b", ".opentrail-meta.x", "a\\..\\b", "a/./b", "é/x", "~"} {
		f.Add(k)
	}
	const bp = "/data/buckets/logs"
	f.Fuzz(func(t *testing.T, key string) {
		if checkDirKey(key) != nil {
			return
		}
		if !ValidKey(key) {
			t.Fatalf("checkDirKey accepts %q, ValidKey does not", key)
		}
		p := objectPath(bp, key)
		rel, err := filepath.Rel(bp, p)
		if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
			t.Fatalf("key %q maps to %q, outside %s", key, p, bp)
		}
		if filepath.ToSlash(rel) != key {
			t.Fatalf("key %q maps to %q, which is key %q", key, p, filepath.ToSlash(rel))
		}
		name := filepath.Base(p)
		if strings.HasPrefix(name, reservedPrefix) {
			t.Fatalf("key %q has internal file name %q", key, name)
		}
		side := sidecarPath(p)
		if filepath.Dir(side) != filepath.Dir(p) || !strings.HasPrefix(filepath.Base(side), metaPrefix) || len(filepath.Base(side)) > 255 {
			t.Fatalf("key %q: sidecar %q is not a file name beside %q", key, side, p)
		}
	})
}
