package journal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// FS is the file system seam of the journal. OSFS is the real one; tests inject faults with
// package faultfs. Paths are OS paths built with path/filepath.
type FS interface {
	// OpenFile opens a file with the os.OpenFile flags. The journal also opens directories
	// (os.O_RDONLY) to Sync them.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Rename atomically replaces newpath with oldpath.
	Rename(oldpath, newpath string) error
	// Remove removes a file.
	Remove(name string) error
	// ReadDir lists a directory.
	ReadDir(name string) ([]fs.DirEntry, error)
	// MkdirAll creates a directory and any missing parents.
	MkdirAll(name string, perm fs.FileMode) error
}

// File is an open file of an FS. The journal writes only with WriteAt at offsets it tracks,
// so a failed or short write is undone with Truncate and overwritten by the next one.
type File interface {
	io.ReaderAt
	io.WriterAt
	// Sync commits the file's contents (and, for a directory, its entries) to stable storage.
	Sync() error
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Stat describes the file; the journal uses only Size.
	Stat() (fs.FileInfo, error)
	// Close closes the file.
	Close() error
}

// Locker is an optional FS capability, found by type assertion: Lock takes an exclusive lock
// on the named file, creating it if needed, and Close on the result releases it. Open locks
// the journal directory with it, so that two processes never write the same journal.
type Locker interface {
	Lock(name string) (io.Closer, error)
}

// OSFS is the operating system's file system.
type OSFS struct{}

// OpenFile implements FS with os.OpenFile. Its files are Datasyncers.
func (OSFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// osFile is an open file of OSFS.
type osFile struct{ *os.File }

// Datasync implements Datasyncer with fdatasync(2) where the platform has it, else with Sync.
func (f osFile) Datasync() error { return datasync(f.File) }

// Writeback implements rangeWriter with sync_file_range(2) where the platform has it.
func (f osFile) Writeback(off, n int64) error { return writeback(f.File, off, n) }

// Rename implements FS with os.Rename.
func (OSFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove implements FS with os.Remove.
func (OSFS) Remove(name string) error { return os.Remove(name) }

// ReadDir implements FS with os.ReadDir.
func (OSFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }

// MkdirAll implements FS with os.MkdirAll.
func (OSFS) MkdirAll(name string, perm fs.FileMode) error { return os.MkdirAll(name, perm) }

// Lock implements Locker. Where the platform has flock(2) the lock is advisory and exclusive,
// and the kernel releases it when the process dies; elsewhere Lock does nothing.
func (OSFS) Lock(name string) (io.Closer, error) { return lockFile(name) }

// syncDir makes the entries of dir (created, renamed or removed files) durable.
func syncDir(fsys FS, dir string) error {
	d, err := fsys.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// isNotExist reports whether err says that a file does not exist.
func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

// parentDir returns the directory that holds dir.
func parentDir(dir string) string { return filepath.Dir(filepath.Clean(dir)) }
