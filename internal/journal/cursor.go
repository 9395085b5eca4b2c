package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Cursor file format (docs/journal.md): 16 bytes.
//
//	[0:4)   magic "OTJC"
//	[4:12)  sequence number, uint64 little-endian
//	[12:16) CRC-32C of bytes [0:12), uint32 little-endian
const (
	cursorMagic   = "OTJC"
	cursorSize    = 16
	maxCursorName = 100
	cursorTempExt = ".tmp"
)

// validCursorName reports whether name can name a cursor: 1 to 100 bytes of ASCII letters,
// digits, '.', '_' and '-', not starting with '.'.
func validCursorName(name string) bool {
	if name == "" || len(name) > maxCursorName || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// Cursor returns the sequence number last stored for the named consumer with SetCursor, or 0
// if there is none. A consumer resumes with NewReader(cursor+1).
func (j *Journal) Cursor(name string) (uint64, error) {
	if !validCursorName(name) {
		return 0, fmt.Errorf("journal: invalid cursor name %q", name)
	}
	if j.isClosed() {
		return 0, ErrClosed
	}
	path := filepath.Join(j.cursorDir, name)
	f, err := j.fs.OpenFile(path, os.O_RDONLY, 0)
	if isNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("journal: cursor %q: %w", name, err)
	}
	defer f.Close() //nolint:errcheck // read-only
	var b [cursorSize + 1]byte
	n, err := f.ReadAt(b[:], 0)
	if n != cursorSize {
		if err == nil || n > cursorSize {
			err = errors.New("wrong size")
		}
		return 0, &CorruptionError{Path: path, Offset: int64(n), Err: fmt.Errorf("cursor file: %w", err)}
	}
	seq, ok := decodeCursor(b[:cursorSize])
	if !ok {
		return 0, &CorruptionError{Path: path, Offset: 0, Err: errors.New("cursor file: bad magic or checksum")}
	}
	return seq, nil
}

// encodeCursor returns the contents of a cursor file holding seq.
func encodeCursor(seq uint64) [cursorSize]byte {
	var b [cursorSize]byte
	copy(b[:], cursorMagic)
	binary.LittleEndian.PutUint64(b[4:], seq)
	binary.LittleEndian.PutUint32(b[12:], checksum(b[:12]))
	return b
}

// decodeCursor decodes the contents of a cursor file.
func decodeCursor(b []byte) (uint64, bool) {
	if len(b) != cursorSize || string(b[:4]) != cursorMagic || binary.LittleEndian.Uint32(b[12:]) != checksum(b[:12]) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[4:]), true
}

// SetCursor durably stores seq for the named consumer: it writes a temporary file, fsyncs it,
// renames it over the cursor file and fsyncs the directory. After a crash Cursor returns
// either the old or the new value. Seq must not exceed LastSeq.
func (j *Journal) SetCursor(name string, seq uint64) error {
	if !validCursorName(name) {
		return fmt.Errorf("journal: invalid cursor name %q", name)
	}
	if j.isClosed() {
		return ErrClosed
	}
	if last := j.LastSeq(); seq > last {
		return fmt.Errorf("journal: cursor %q: sequence number %d is after the last record %d", name, seq, last)
	}
	b := encodeCursor(seq)
	j.cursorMu.Lock()
	defer j.cursorMu.Unlock()
	path := filepath.Join(j.cursorDir, name)
	tmp := filepath.Join(j.cursorDir, "."+name+cursorTempExt)
	if err := writeFileSync(j.fs, tmp, b[:]); err != nil {
		_ = j.fs.Remove(tmp) // best effort; Open removes leftovers
		return fmt.Errorf("journal: cursor %q: %w", name, err)
	}
	if err := j.fs.Rename(tmp, path); err != nil {
		_ = j.fs.Remove(tmp) // best effort; Open removes leftovers
		return fmt.Errorf("journal: cursor %q: %w", name, err)
	}
	if err := syncDir(j.fs, j.cursorDir); err != nil {
		return fmt.Errorf("journal: cursor %q: %w", name, err)
	}
	return nil
}

// writeFileSync creates (or truncates) path, writes b and fsyncs it.
func writeFileSync(fsys FS, path string, b []byte) error {
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.WriteAt(b, 0); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeCursorTemps removes temporary cursor files left by a crash in SetCursor.
func (j *Journal) removeCursorTemps() error {
	entries, err := j.fs.ReadDir(j.cursorDir)
	if err != nil {
		return fmt.Errorf("list cursors: %w", err)
	}
	for _, e := range entries {
		if name := e.Name(); strings.HasPrefix(name, ".") && strings.HasSuffix(name, cursorTempExt) {
			if err := j.fs.Remove(filepath.Join(j.cursorDir, name)); err != nil && !isNotExist(err) {
				return fmt.Errorf("remove %s: %w", name, err)
			}
		}
	}
	return nil
}

// isClosed reports whether Close has been called.
func (j *Journal) isClosed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.closed
}
