package journal

import (
	"os"
	"syscall"
)

// datasync runs fdatasync(2) on f, retrying on EINTR as os.File.Sync does for fsync.
func datasync(f *os.File) error {
	err := fdCall(f, func(fd uintptr) syscall.Errno {
		_, _, e := syscall.Syscall(syscall.SYS_FDATASYNC, fd, 0, 0)
		return e
	})
	if errno, ok := err.(syscall.Errno); ok {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: errno}
	}
	return err
}

// fdCall runs the system call call on f's descriptor, again while it fails with EINTR, and
// returns its error (a syscall.Errno), or the error of reaching the descriptor.
func fdCall(f *os.File, call func(fd uintptr) syscall.Errno) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		for errno = call(fd); errno == syscall.EINTR; errno = call(fd) {
		}
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// Flags of sync_file_range(2).
const (
	syncFileRangeWaitBefore = 1
	syncFileRangeWrite      = 2
	syncFileRangeWaitAfter  = 4
)

// writeback writes the dirty pages of f in [off, off+n) to the disk and waits for them
// (sync_file_range(2)); it commits no metadata, which a later fsync does.
func writeback(f *os.File, off, n int64) error {
	return fdCall(f, func(fd uintptr) syscall.Errno {
		_, _, e := syscall.Syscall6(syscall.SYS_SYNC_FILE_RANGE, fd, uintptr(off), uintptr(n),
			syncFileRangeWaitBefore|syncFileRangeWrite|syncFileRangeWaitAfter, 0, 0)
		return e
	})
}
