package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Wire format constants. Changing any of them changes the on-disk format (docs/journal.md).
const (
	// headerSize is the size of a frame header: length, checksum, sequence number.
	headerSize = 16

	// MaxPayloadSize is the largest payload of one record, in bytes.
	MaxPayloadSize = 1 << 20

	// MaxBatchBytes is the largest commit group, in framed bytes (16 + len(payload) per
	// record). One AppendBatch call must fit in it, and the writer never writes more in one
	// go. Recovery relies on it to tell a torn tail from corruption.
	MaxBatchBytes = 4 << 20
)

// Reasons recorded in CorruptionError.Err.
var (
	errChecksum   = errors.New("checksum mismatch")
	errLength     = errors.New("record length exceeds MaxPayloadSize")
	errIncomplete = errors.New("incomplete record")
)

// checksum is CRC-32C (Castagnoli) of b. MakeTable returns a shared, precomputed table for
// Castagnoli, which also selects the hardware implementation where there is one.
func checksum(b []byte) uint32 {
	return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli))
}

// frameSize is the framed size of a payload of n bytes.
func frameSize(n int) int { return headerSize + n }

// appendFrame appends the frame of one record to dst:
//
//	[0:4)   payload length, uint32 little-endian
//	[4:8)   CRC-32C of bytes [8:16+length), uint32 little-endian
//	[8:16)  sequence number, uint64 little-endian
//	[16:..) payload
func appendFrame(dst []byte, seq uint64, payload []byte) []byte {
	n := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = append(dst, payload...)
	binary.LittleEndian.PutUint32(dst[n:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(dst[n+8:], seq)
	binary.LittleEndian.PutUint32(dst[n+4:], checksum(dst[n+8:]))
	return dst
}

// decodeFrame decodes the frame at the start of b. The payload aliases b. It returns
// errIncomplete if b ends before the frame does, errLength if the length field is out of
// range and errChecksum if the checksum does not match.
func decodeFrame(b []byte) (seq uint64, payload []byte, n int, err error) {
	if len(b) < headerSize {
		return 0, nil, 0, errIncomplete
	}
	length := binary.LittleEndian.Uint32(b)
	if length > MaxPayloadSize {
		return 0, nil, 0, errLength
	}
	n = headerSize + int(length)
	if len(b) < n {
		return 0, nil, 0, errIncomplete
	}
	if binary.LittleEndian.Uint32(b[4:]) != checksum(b[8:n]) {
		return 0, nil, 0, errChecksum
	}
	return binary.LittleEndian.Uint64(b[8:]), b[headerSize:n], n, nil
}

// readChunk is how much a frameReader reads at a time.
const readChunk = 256 << 10

// frameReader decodes frames at increasing offsets of a file, reading it in chunks. The
// payloads it returns alias its buffer and are valid until the next call.
type frameReader struct {
	r     io.ReaderAt
	buf   []byte // file bytes [start, start+len(buf))
	start int64
}

func (fr *frameReader) reset(r io.ReaderAt) {
	fr.r = r
	fr.buf = fr.buf[:0]
	fr.start = 0
}

// fill makes buf hold at least the bytes [off, off+n) of the file, reading ahead up to limit.
// It returns errIncomplete if the file (up to limit) ends before off+n.
func (fr *frameReader) fill(off int64, n int, limit int64) error {
	if off >= fr.start && off+int64(n) <= fr.start+int64(len(fr.buf)) {
		return nil
	}
	if off+int64(n) > limit {
		return errIncomplete
	}
	want := max(n, readChunk)
	if rest := limit - off; int64(want) > rest {
		want = int(rest)
	}
	if cap(fr.buf) < want {
		fr.buf = make([]byte, want, max(want, readChunk))
	}
	fr.buf = fr.buf[:want]
	got, err := fr.r.ReadAt(fr.buf, off)
	fr.buf = fr.buf[:got]
	fr.start = off
	if got < n {
		if err == nil || errors.Is(err, io.EOF) {
			return errIncomplete
		}
		return err
	}
	return nil
}

// frame decodes the frame at off, which must end at or before limit.
func (fr *frameReader) frame(off, limit int64) (seq uint64, payload []byte, n int, err error) {
	if err := fr.fill(off, headerSize, limit); err != nil {
		return 0, nil, 0, err
	}
	i := int(off - fr.start)
	length := binary.LittleEndian.Uint32(fr.buf[i:])
	if length > MaxPayloadSize {
		return 0, nil, 0, errLength
	}
	if err := fr.fill(off, frameSize(int(length)), limit); err != nil {
		return 0, nil, 0, err
	}
	return decodeFrame(fr.buf[off-fr.start:])
}

// scanResult is the outcome of scanning a segment.
type scanResult struct {
	end  int64  // offset just past the last good record
	next uint64 // sequence number the record at end would have
	bad  error  // why the scan stopped before the end of the file, or nil
}

// scanSegment validates the records of a segment whose first record has sequence number first:
// frames, checksums and sequence continuity. It stops at the first bad record and reports where
// (res.end) and why (res.bad); the caller decides whether that is a torn tail or corruption.
// A non-nil error is an I/O error. fn, if not nil, sees every good record; its payload is
// valid only during the call.
func scanSegment(r io.ReaderAt, size int64, first uint64, fn func(seq uint64, payload []byte)) (scanResult, error) {
	var fr frameReader
	fr.reset(r)
	res := scanResult{next: first}
	for res.end < size {
		seq, payload, n, err := fr.frame(res.end, size)
		switch {
		case err == nil && seq != res.next:
			res.bad = fmt.Errorf("sequence number %d, want %d", seq, res.next)
			return res, nil
		case errors.Is(err, errIncomplete), errors.Is(err, errLength), errors.Is(err, errChecksum):
			res.bad = err
			return res, nil
		case err != nil:
			return res, err
		}
		if fn != nil {
			fn(seq, payload)
		}
		res.end += int64(n)
		res.next++
	}
	return res, nil
}

// findFrameAfter reports the offset of the first well-formed frame (good checksum, sequence
// number in [minSeq, minSeq+len/16]) that starts at or after from, scanning byte by byte. A
// torn tail leaves at most one commit group of bytes past the damage; a good frame further on
// means the damage is in data that had been acknowledged.
func findFrameAfter(r io.ReaderAt, from, size int64, minSeq uint64) (int64, bool, error) {
	if from >= size {
		return 0, false, nil
	}
	b := make([]byte, size-from)
	if n, err := r.ReadAt(b, from); n < len(b) {
		return 0, false, fmt.Errorf("read tail: %w", err)
	}
	maxSeq := minSeq + uint64(len(b))/headerSize
	for i := 0; i+headerSize <= len(b); i++ {
		length := binary.LittleEndian.Uint32(b[i:])
		if length > MaxPayloadSize || i+frameSize(int(length)) > len(b) {
			continue
		}
		if seq := binary.LittleEndian.Uint64(b[i+8:]); seq < minSeq || seq > maxSeq {
			continue
		}
		if _, _, _, err := decodeFrame(b[i:]); err == nil {
			return from + int64(i), true, nil
		}
	}
	return 0, false, nil
}
