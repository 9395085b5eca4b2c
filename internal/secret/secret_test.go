package secret

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpenAndKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	b, err := OpenKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, err %v; want 0600", st.Mode().Perm(), err)
	}
	sealed := b.Seal("wJalrXUtnFEMI")
	if string(sealed) == "wJalrXUtnFEMI" || len(sealed) < 12 {
		t.Fatal("not sealed")
	}
	again, err := OpenKeyFile(path) // the same key is loaded again
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Open(sealed); err != nil || got != "wJalrXUtnFEMI" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.Open(sealed); err == nil {
		t.Fatal("tampered ciphertext opened")
	}
	other, _ := New(make([]byte, 32))
	if _, err := other.Open(b.Seal("x")); err == nil {
		t.Fatal("opened with another key")
	}
}
