package faultfs_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
)

func TestLimitWrites(t *testing.T) {
	ffs := faultfs.New(journal.OSFS{})
	path := filepath.Join(t.TempDir(), "f")
	f, err := ffs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ffs.LimitWrites(5, nil)
	if n, err := f.WriteAt([]byte("abc"), 0); n != 3 || err != nil {
		t.Errorf("WriteAt within the limit = %d, %v; want 3, nil", n, err)
	}
	if n, err := f.WriteAt([]byte("defg"), 3); n != 2 || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteAt crossing the limit = %d, %v; want 2, ENOSPC", n, err)
	}
	if n, err := f.WriteAt([]byte("h"), 5); n != 0 || !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteAt past the limit = %d, %v; want 0, ENOSPC", n, err)
	}
	ffs.Heal()
	if n, err := f.WriteAt([]byte("h"), 5); n != 1 || err != nil {
		t.Errorf("WriteAt after Heal = %d, %v; want 1, nil", n, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "abcdeh" {
		t.Errorf("file = %q; want %q", b, "abcdeh")
	}
}

func TestInject(t *testing.T) {
	ffs := faultfs.New(journal.OSFS{})
	dir := t.TempDir()
	ffs.Inject(faultfs.FailOpPath(faultfs.OpSync, ".seg", syscall.EIO))
	ffs.Inject(faultfs.FailOp(faultfs.OpRename, syscall.EROFS))
	seg, err := ffs.OpenFile(filepath.Join(dir, "1.seg"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	other, err := ffs.OpenFile(filepath.Join(dir, "other"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var pe *os.PathError
	if err := seg.Sync(); !errors.Is(err, syscall.EIO) || !errors.As(err, &pe) || pe.Op != "sync" {
		t.Errorf("Sync of .seg = %v; want a sync PathError wrapping EIO", err)
	}
	if err := other.Sync(); err != nil {
		t.Errorf("Sync of other file = %v; want nil", err)
	}
	if err := ffs.Rename(filepath.Join(dir, "other"), filepath.Join(dir, "x")); !errors.Is(err, syscall.EROFS) {
		t.Errorf("Rename = %v; want EROFS", err)
	}
	if got := ffs.Count(faultfs.OpSync); got != 2 {
		t.Errorf("Count(OpSync) = %d; want 2", got)
	}
	ffs.Heal()
	if err := seg.Sync(); err != nil {
		t.Errorf("Sync after Heal = %v", err)
	}
	if _, ok := any(ffs).(journal.Locker); !ok {
		t.Error("faultfs.FS does not pass journal.Locker through")
	}
}
