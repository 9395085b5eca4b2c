package journal

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segmentExt is the file name extension of segments.
const segmentExt = ".seg"

// segment is one segment file in the in-memory index.
type segment struct {
	first uint64 // sequence number of its first record; also its name
	size  int64  // committed (fsynced) bytes; final once the segment is sealed
}

// segmentName is the file name of the segment whose first record has sequence number first:
// the number in 20 decimal digits, zero-padded, so that names sort like numbers.
func segmentName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segmentExt)
}

// parseSegmentName returns the first sequence number named by a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, segmentExt)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

// listSegments returns the first sequence numbers of the segments in dir, ascending, and
// whether dir holds a prepared segment (preparedName).
func listSegments(fsys FS, dir string) (firsts []uint64, prepared bool, err error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
		prepared = prepared || e.Name() == preparedName
	}
	slices.Sort(firsts)
	return firsts, prepared, nil
}

// segmentPath is the path of a segment of the journal.
func (j *Journal) segmentPath(first uint64) string {
	return filepath.Join(j.dir, segmentName(first))
}

// findSegment returns the index in segs of the segment that holds seq (the last one whose
// first record is at or before seq), or -1 if seq is before the first segment.
func findSegment(segs []segment, seq uint64) int {
	i, found := slices.BinarySearchFunc(segs, seq, func(s segment, seq uint64) int {
		switch {
		case s.first < seq:
			return -1
		case s.first > seq:
			return 1
		}
		return 0
	})
	if found {
		return i
	}
	return i - 1
}
