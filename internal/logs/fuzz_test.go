package logs

import (
	"bytes"
	"path/filepath"
	"testing"
)

func fuzzService(f *testing.F) *Service {
	s, err := Open(filepath.Join(f.TempDir(), "logs"), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	return s
}

// FuzzStreamToken: GetLogEvents tokens parse without panicking, only tokens this service
// issued for the same binding are accepted, and they give back what was encoded.
func FuzzStreamToken(f *testing.F) {
	s := fuzzService(f)
	binding := tokenBinding("GetLogEvents", "123456789012", "us-east-1", "g", "s")
	f.Add(s.streamToken('f', binding, eventPos{ts: 1700000000000, seq: 7}), int64(0), uint64(0))
	f.Add(s.streamToken('b', binding, hiPos), int64(maxTokenTS), ^uint64(0))
	f.Add("f/00000000000000000000000000000000000000000000000000000000/s", int64(-1), uint64(1))
	f.Add("b/99999999999999999999999999999999999999999999999999999999/s", int64(1), uint64(2))
	f.Fuzz(func(t *testing.T, tok string, ts int64, seq uint64) {
		if dir, p, err := s.parseStreamToken(binding, tok); err == nil {
			if again := s.streamToken(dir, binding, p); again != tok {
				t.Fatalf("accepted %q, which re-encodes as %q", tok, again)
			}
		}
		p := eventPos{ts: clampTS(ts), seq: seq}
		for _, dir := range []byte{'f', 'b'} {
			tok := s.streamToken(dir, binding, p)
			d, q, err := s.parseStreamToken(binding, tok)
			if err != nil || d != dir || q != p {
				t.Fatalf("round trip of %c %+v: %c %+v %v", dir, p, d, q, err)
			}
			if _, _, err := s.parseStreamToken(tokenBinding("other"), tok); err == nil {
				t.Fatalf("token accepted with another binding")
			}
		}
	})
}

// FuzzPageToken: page tokens parse without panicking and round-trip; others are refused.
func FuzzPageToken(f *testing.F) {
	s := fuzzService(f)
	binding := tokenBinding("DescribeLogGroups", "123456789012", "us-east-1")
	f.Add(s.pageToken(binding, []byte("group/name")), []byte("x"))
	f.Add("AQ", []byte{})
	f.Add("", []byte{0, 1, 2})
	f.Fuzz(func(t *testing.T, tok string, pos []byte) {
		if got, err := s.parsePageToken(binding, tok); err == nil {
			if s.pageToken(binding, got) != tok {
				t.Fatalf("accepted %q", tok)
			}
		}
		tok2 := s.pageToken(binding, pos)
		got, err := s.parsePageToken(binding, tok2)
		if err != nil || !bytes.Equal(got, pos) {
			t.Fatalf("round trip of %x: %x %v", pos, got, err)
		}
		if _, err := s.parsePageToken(tokenBinding("x"), tok2); err == nil {
			t.Fatal("token accepted with another binding")
		}
	})
}

// FuzzNameEncoding: encodeName round-trips, keeps order, and is prefix-free.
func FuzzNameEncoding(f *testing.F) {
	f.Add("a", "b")
	f.Add("a\x00", "a")
	f.Add("", "\x00\x01")
	f.Add("g", "g2")
	f.Fuzz(func(t *testing.T, a, b string) {
		ea, eb := encodeName(nil, a), encodeName(nil, b)
		got, rest, ok := decodeName(append(bytes.Clone(ea), 'z'))
		if !ok || got != a || string(rest) != "z" {
			t.Fatalf("decode(encode(%q)) = %q %q %v", a, got, rest, ok)
		}
		if (a < b) != (string(ea) < string(eb)) {
			t.Fatalf("order of %q, %q not kept", a, b)
		}
		if a != b && bytes.HasPrefix(eb, ea) {
			t.Fatalf("encoding of %q is a prefix of %q's", a, b)
		}
		if len(a) <= len(b) && b[:len(a)] == a && !bytes.HasPrefix(eb, appendEscaped(nil, a)) {
			t.Fatalf("escaped %q is not a prefix of the encoding of %q", a, b)
		}
	})
}
