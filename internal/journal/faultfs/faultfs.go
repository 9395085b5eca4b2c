// Package faultfs wraps a journal.FS and makes chosen operations fail, to test how the journal
// (and the server above it) behaves on a full, failing or read-only disk.
//
//	ffs := faultfs.New(journal.OSFS{})
//	j, err := journal.Open(dir, journal.Options{FS: ffs})
//	ffs.LimitWrites(0, syscall.ENOSPC)                       // the disk is full
//	ffs.Inject(faultfs.FailOp(faultfs.OpSync, syscall.EIO))  // fsync fails
//	ffs.Heal()                                               // the disk works again
package faultfs

import (
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"
	"syscall"

	"github.com/opentrail/opentrail/internal/journal"
)

// Op is a file system operation.
type Op int

// Operations that can be made to fail.
const (
	OpOpen     Op = iota + 1 // FS.OpenFile
	OpRename                 // FS.Rename
	OpRemove                 // FS.Remove
	OpReadDir                // FS.ReadDir
	OpMkdir                  // FS.MkdirAll
	OpRead                   // File.ReadAt
	OpWrite                  // File.WriteAt
	OpSync                   // File.Sync (of a file or a directory) and File.Datasync
	OpTruncate               // File.Truncate
	OpStat                   // File.Stat
	OpClose                  // File.Close
)

// String returns the operation's name.
func (o Op) String() string {
	switch o {
	case OpOpen:
		return "open"
	case OpRename:
		return "rename"
	case OpRemove:
		return "remove"
	case OpReadDir:
		return "readdir"
	case OpMkdir:
		return "mkdir"
	case OpRead:
		return "read"
	case OpWrite:
		return "write"
	case OpSync:
		return "sync"
	case OpTruncate:
		return "truncate"
	case OpStat:
		return "stat"
	case OpClose:
		return "close"
	}
	return fmt.Sprintf("Op(%d)", int(o))
}

// Injector decides whether an operation on path fails: a nil result lets it through.
type Injector func(op Op, path string) error

// FailOp returns an Injector that fails every op with err.
func FailOp(op Op, err error) Injector {
	return func(o Op, _ string) error {
		if o == op {
			return err
		}
		return nil
	}
}

// FailOpPath returns an Injector that fails op with err on paths that contain substr.
func FailOpPath(op Op, substr string, err error) Injector {
	return func(o Op, path string) error {
		if o == op && strings.Contains(path, substr) {
			return err
		}
		return nil
	}
}

// FS is a journal.FS that passes operations to another one unless told to fail them. It is
// safe for concurrent use, and its failures can be changed at any time.
type FS struct {
	base journal.FS

	mu          sync.Mutex
	inject      []Injector
	writeBudget int64 // bytes WriteAt may still write; < 0 means unlimited
	writeErr    error
	counts      map[Op]int
}

var _ journal.FS = (*FS)(nil)

// New returns an FS that passes everything to base.
func New(base journal.FS) *FS {
	return &FS{base: base, writeBudget: -1, counts: make(map[Op]int)}
}

// Inject adds an injector; an operation fails with the error of the first injector that
// returns one.
func (f *FS) Inject(in Injector) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = append(f.inject, in)
}

// LimitWrites lets WriteAt write n more bytes in total, then fail with err (ENOSPC if nil).
// A write that crosses the limit writes the bytes that fit (a short write) and returns err,
// as a disk that fills up does. A negative n removes the limit.
func (f *FS) LimitWrites(n int64, err error) {
	if err == nil {
		err = syscall.ENOSPC
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeBudget, f.writeErr = n, err
}

// Heal removes all injectors and the write limit.
func (f *FS) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.inject = nil
	f.writeBudget, f.writeErr = -1, nil
}

// Count returns how many times op has been attempted, failed or not.
func (f *FS) Count(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts[op]
}

// check counts op and returns the injected error for it, if any.
func (f *FS) check(op Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts[op]++
	for _, in := range f.inject {
		if err := in(op, path); err != nil {
			return &fs.PathError{Op: op.String(), Path: path, Err: err}
		}
	}
	return nil
}

// OpenFile implements journal.FS.
func (f *FS) OpenFile(name string, flag int, perm fs.FileMode) (journal.File, error) {
	if err := f.check(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.base.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &File{fs: f, file: file, path: name}, nil
}

// Rename implements journal.FS.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.check(OpRename, newpath); err != nil {
		return err
	}
	return f.base.Rename(oldpath, newpath)
}

// Remove implements journal.FS.
func (f *FS) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.base.Remove(name)
}

// ReadDir implements journal.FS.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.check(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.base.ReadDir(name)
}

// MkdirAll implements journal.FS.
func (f *FS) MkdirAll(name string, perm fs.FileMode) error {
	if err := f.check(OpMkdir, name); err != nil {
		return err
	}
	return f.base.MkdirAll(name, perm)
}

// Lock implements journal.Locker if the wrapped FS does; otherwise it locks nothing.
func (f *FS) Lock(name string) (io.Closer, error) {
	if l, ok := f.base.(journal.Locker); ok {
		return l.Lock(name)
	}
	return nopCloser{}, nil
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// File is a journal.File of an FS.
type File struct {
	fs   *FS
	file journal.File
	path string
}

var _ journal.File = (*File)(nil)

// ReadAt implements journal.File.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.path); err != nil {
		return 0, err
	}
	return f.file.ReadAt(p, off)
}

// WriteAt implements journal.File, honouring LimitWrites.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.path); err != nil {
		return 0, err
	}
	f.fs.mu.Lock()
	allowed, werr := len(p), error(nil)
	if f.fs.writeBudget >= 0 {
		if int64(len(p)) > f.fs.writeBudget {
			allowed = int(f.fs.writeBudget)
			werr = &fs.PathError{Op: "write", Path: f.path, Err: f.fs.writeErr}
		}
		f.fs.writeBudget -= int64(allowed)
	}
	f.fs.mu.Unlock()
	n, err := f.file.WriteAt(p[:allowed], off)
	if err == nil {
		err = werr
	}
	return n, err
}

// Sync implements journal.File.
func (f *File) Sync() error {
	if err := f.fs.check(OpSync, f.path); err != nil {
		return err
	}
	return f.file.Sync()
}

// Datasync implements journal.Datasyncer: it fails as Sync does (OpSync), and runs the
// wrapped file's Datasync, or its Sync if it has none.
func (f *File) Datasync() error {
	if err := f.fs.check(OpSync, f.path); err != nil {
		return err
	}
	if ds, ok := f.file.(journal.Datasyncer); ok {
		return ds.Datasync()
	}
	return f.file.Sync()
}

// Truncate implements journal.File.
func (f *File) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.path); err != nil {
		return err
	}
	return f.file.Truncate(size)
}

// Stat implements journal.File.
func (f *File) Stat() (fs.FileInfo, error) {
	if err := f.fs.check(OpStat, f.path); err != nil {
		return nil, err
	}
	return f.file.Stat()
}

// Close implements journal.File. The underlying file is closed even if the close is made to
// fail, so injected failures do not leak descriptors.
func (f *File) Close() error {
	err := f.fs.check(OpClose, f.path)
	if cerr := f.file.Close(); err == nil {
		err = cerr
	}
	return err
}
