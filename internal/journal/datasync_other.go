//go:build !linux

package journal

import "os"

// datasync is fsync where fdatasync(2) is not available.
func datasync(f *os.File) error { return f.Sync() }

// writeback does nothing where sync_file_range(2) is not available: the final fsync writes
// everything.
func writeback(*os.File, int64, int64) error { return nil }
