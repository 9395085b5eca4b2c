package journal

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"slices"
	"testing"
)

// frames encodes records with sequence numbers first, first+1, ...
func frames(first uint64, payloads ...string) []byte {
	var b []byte
	for i, p := range payloads {
		b = appendFrame(b, first+uint64(i), []byte(p))
	}
	return b
}

func TestAppendFrameLayout(t *testing.T) {
	for _, test := range []struct {
		seq     uint64
		payload string
		want    []byte
	}{
		{
			seq: 1, payload: "",
			want: []byte{
				0, 0, 0, 0, // length
				0, 0, 0, 0, // crc, filled in below
				1, 0, 0, 0, 0, 0, 0, 0, // seq
			},
		},
		{
			seq: 0x0102030405060708, payload: "abc",
			want: []byte{
				3, 0, 0, 0,
				0, 0, 0, 0,
				8, 7, 6, 5, 4, 3, 2, 1,
				'a', 'b', 'c',
			},
		},
	} {
		want := slices.Clone(test.want)
		crc := crc32.Checksum(want[8:], crc32.MakeTable(crc32.Castagnoli))
		binary.LittleEndian.PutUint32(want[4:], crc)
		got := appendFrame(nil, test.seq, []byte(test.payload))
		if !bytes.Equal(got, want) {
			t.Errorf("appendFrame(%d, %q) = %x; want %x", test.seq, test.payload, got, want)
		}
		seq, payload, n, err := decodeFrame(got)
		if err != nil || seq != test.seq || string(payload) != test.payload || n != len(got) {
			t.Errorf("decodeFrame(%x) = %d, %q, %d, %v; want %d, %q, %d, nil",
				got, seq, payload, n, err, test.seq, test.payload, len(got))
		}
	}
}

// TestDocExamples checks the byte examples in docs/journal.md.
func TestDocExamples(t *testing.T) {
	frame := appendFrame(nil, 1, []byte("hi"))
	if got, want := hex.EncodeToString(frame), "02000000de25772c01000000000000006869"; got != want {
		t.Errorf("frame of seq 1 %q = %s; want %s", "hi", got, want)
	}
	cursor := encodeCursor(42)
	if got, want := hex.EncodeToString(cursor[:]), "4f544a432a00000000000000a4536ad2"; got != want {
		t.Errorf("cursor 42 = %s; want %s", got, want)
	}
	if seq, ok := decodeCursor(cursor[:]); !ok || seq != 42 {
		t.Errorf("decodeCursor = %d, %v; want 42, true", seq, ok)
	}
	cursor[5] ^= 1
	if _, ok := decodeCursor(cursor[:]); ok {
		t.Error("decodeCursor accepted a damaged cursor")
	}
}

func TestCRC32CKnownValue(t *testing.T) {
	// The check value of CRC-32C: the CRC of "123456789" is 0xE3069283.
	if got := checksum([]byte("123456789")); got != 0xE3069283 {
		t.Errorf("checksum(123456789) = %#x; want 0xe3069283", got)
	}
}

func TestDecodeFrameErrors(t *testing.T) {
	good := frames(7, "hello")
	flip := func(i int) []byte {
		b := slices.Clone(good)
		b[i] ^= 0x40
		return b
	}
	flip0 := func(length byte) []byte {
		b := slices.Clone(good)
		b[0] = length
		return b
	}
	huge := slices.Clone(good)
	binary.LittleEndian.PutUint32(huge, MaxPayloadSize+1)
	for _, test := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errIncomplete},
		{"short header", good[:headerSize-1], errIncomplete},
		{"short payload", good[:len(good)-1], errIncomplete},
		{"length too large", huge, errLength},
		{"crc flipped", flip(5), errChecksum},
		{"seq flipped", flip(9), errChecksum},
		{"payload flipped", flip(headerSize + 2), errChecksum},
		{"length shorter", flip0(1), errChecksum},
		{"length longer", flip0(0x45), errIncomplete},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, _, _, err := decodeFrame(test.b)
			if !errors.Is(err, test.want) {
				t.Errorf("decodeFrame(%x) error = %v; want %v", test.b, err, test.want)
			}
		})
	}
}

func TestScanSegment(t *testing.T) {
	three := frames(10, "a", "bb", "ccc")
	second := int64(len(frames(10, "a")))
	third := int64(len(frames(10, "a", "bb")))
	corrupt := func(b []byte, i int) []byte {
		b = slices.Clone(b)
		b[i] ^= 1
		return b
	}
	for _, test := range []struct {
		name     string
		data     []byte
		wantEnd  int64
		wantNext uint64
		wantBad  bool
	}{
		{"empty", nil, 0, 10, false},
		{"three records", three, int64(len(three)), 13, false},
		{"torn header", three[:third+5], third, 12, true},
		{"torn payload", three[:len(three)-1], third, 12, true},
		{"zero tail", append(slices.Clone(three), make([]byte, 100)...), int64(len(three)), 13, true},
		{"bad crc in second", corrupt(three, int(second)+headerSize), second, 11, true},
		{"sequence gap", append(frames(10, "a"), frames(12, "b")...), second, 11, true},
		{"wrong first seq", frames(11, "a"), 0, 10, true},
		{"garbage", []byte("this is not a segment at all, no sir"), 0, 10, true},
	} {
		t.Run(test.name, func(t *testing.T) {
			var seen []uint64
			res, err := scanSegment(bytes.NewReader(test.data), int64(len(test.data)), 10, func(seq uint64, _ []byte) {
				seen = append(seen, seq)
			})
			if err != nil {
				t.Fatalf("scanSegment: %v", err)
			}
			if res.end != test.wantEnd || res.next != test.wantNext || (res.bad != nil) != test.wantBad {
				t.Errorf("scanSegment = end %d, next %d, bad %v; want end %d, next %d, bad %v",
					res.end, res.next, res.bad, test.wantEnd, test.wantNext, test.wantBad)
			}
			if want := int(test.wantNext - 10); len(seen) != want {
				t.Errorf("scanSegment saw %d records %v; want %d", len(seen), seen, want)
			}
		})
	}
}

func TestScanSegmentLargeRecords(t *testing.T) {
	// Records larger than the read chunk, and many records crossing chunk boundaries.
	var payloads []string
	for i := range 50 {
		payloads = append(payloads, string(bytes.Repeat([]byte{byte('a' + i%26)}, 1+i*997)))
	}
	payloads = append(payloads, string(make([]byte, MaxPayloadSize)))
	data := frames(1, payloads...)
	var got []string
	res, err := scanSegment(bytes.NewReader(data), int64(len(data)), 1, func(_ uint64, p []byte) {
		got = append(got, string(p))
	})
	if err != nil || res.bad != nil || res.end != int64(len(data)) {
		t.Fatalf("scanSegment = %+v, %v; want a clean scan to %d", res, err, len(data))
	}
	if !slices.Equal(got, payloads) {
		t.Errorf("scanSegment payloads differ")
	}
}

func TestFindFrameAfter(t *testing.T) {
	good := frames(5, "x", "yy")
	for _, test := range []struct {
		name   string
		data   []byte
		from   int64
		minSeq uint64
		want   int64
		found  bool
	}{
		{"zeros", make([]byte, 200), 0, 5, 0, false},
		{"frame at start", good, 0, 5, 0, true},
		{"frame after garbage", append([]byte("garbage!"), good...), 0, 5, 8, true},
		{"frame before from", append(slices.Clone(good), make([]byte, 64)...), 1, 5, 17, true},
		{"old sequence numbers", good, 0, 7, 0, false},
	} {
		t.Run(test.name, func(t *testing.T) {
			off, found, err := findFrameAfter(bytes.NewReader(test.data), test.from, int64(len(test.data)), test.minSeq)
			if err != nil || found != test.found || (found && off != test.want) {
				t.Errorf("findFrameAfter = %d, %v, %v; want %d, %v", off, found, err, test.want, test.found)
			}
		})
	}
}

func TestSegmentName(t *testing.T) {
	for _, test := range []struct {
		name  string
		first uint64
		ok    bool
	}{
		{"00000000000000000001.seg", 1, true},
		{"18446744073709551615.seg", 1<<64 - 1, true},
		{"00000000000000000000.seg", 0, false},
		{"0000000000000000001.seg", 0, false},
		{"00000000000000000001.seg.tmp", 0, false},
		{"0000000000000000000x.seg", 0, false},
		{"99999999999999999999.seg", 0, false},
		{"LOCK", 0, false},
	} {
		first, ok := parseSegmentName(test.name)
		if first != test.first || ok != test.ok {
			t.Errorf("parseSegmentName(%q) = %d, %v; want %d, %v", test.name, first, ok, test.first, test.ok)
		}
		if ok && segmentName(first) != test.name {
			t.Errorf("segmentName(%d) = %q; want %q", first, segmentName(first), test.name)
		}
	}
}

func TestFindSegment(t *testing.T) {
	segs := []segment{{first: 5}, {first: 10}, {first: 20}}
	for seq, want := range map[uint64]int{1: -1, 4: -1, 5: 0, 9: 0, 10: 1, 19: 1, 20: 2, 1000: 2} {
		if got := findSegment(segs, seq); got != want {
			t.Errorf("findSegment(%d) = %d; want %d", seq, got, want)
		}
	}
}

func TestValidCursorName(t *testing.T) {
	for name, want := range map[string]bool{
		"delivery": true, "trail.arn-1_x": true, "a": true,
		"": false, ".hidden": false, "a/b": false, "..": false, "a b": false, "é": false,
		string(bytes.Repeat([]byte("a"), 100)): true, string(bytes.Repeat([]byte("a"), 101)): false,
	} {
		if got := validCursorName(name); got != want {
			t.Errorf("validCursorName(%q) = %v; want %v", name, got, want)
		}
	}
}

// FuzzRecover feeds arbitrary bytes to the recovery scanner as a segment file. It must never
// panic, and what it accepts must be exactly a run of well-formed frames with good checksums
// and consecutive sequence numbers: re-encoding the records gives back the accepted prefix.
func FuzzRecover(f *testing.F) {
	f.Add(frames(1, "a", "bb", "ccc"), uint64(1))
	f.Add(frames(1, "a", "bb", "ccc")[:40], uint64(1))
	f.Add(append(frames(3, "x"), make([]byte, 40)...), uint64(3))
	f.Add(append(frames(1, "hello"), frames(3, "gap")...), uint64(1))
	f.Add([]byte{}, uint64(1))
	f.Add([]byte("\xff\xff\xff\xff garbage"), uint64(9))
	f.Fuzz(func(t *testing.T, data []byte, first uint64) {
		first = max(first, 1)
		var records []Record
		res, err := scanSegment(bytes.NewReader(data), int64(len(data)), first, func(seq uint64, p []byte) {
			records = append(records, Record{Seq: seq, Payload: bytes.Clone(p)})
		})
		if err != nil {
			t.Fatalf("scanSegment on memory: %v", err)
		}
		if res.end < 0 || res.end > int64(len(data)) {
			t.Fatalf("end %d outside [0, %d]", res.end, len(data))
		}
		if res.bad == nil && res.end != int64(len(data)) {
			t.Fatalf("clean scan stopped at %d of %d", res.end, len(data))
		}
		if res.next != first+uint64(len(records)) {
			t.Fatalf("next %d after %d records from %d", res.next, len(records), first)
		}
		var again []byte
		for i, r := range records {
			if r.Seq != first+uint64(i) {
				t.Fatalf("record %d has seq %d; want %d", i, r.Seq, first+uint64(i))
			}
			again = appendFrame(again, r.Seq, r.Payload)
		}
		if !bytes.Equal(again, data[:res.end]) {
			t.Fatalf("re-encoded records differ from the accepted prefix")
		}
		// The tail check must not panic either, and cannot find a frame in an empty range.
		if _, found, err := findFrameAfter(bytes.NewReader(data), res.end, int64(len(data)), res.next); err != nil {
			t.Fatalf("findFrameAfter: %v", err)
		} else if found && res.bad == nil {
			t.Fatalf("found a frame after a clean end")
		}
	})
}
