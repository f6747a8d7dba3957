package fsutil

import (
	"os"
	"path/filepath"
	"testing"
)

// A regular file opened with ONonblock reads and writes as usual.
func TestONonblock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|ONonblock, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i)
	}
	if n, err := w.Write(data); err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(path, os.O_RDONLY|ONonblock, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, len(data)+1)
	n := 0
	for {
		m, err := r.Read(got[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	if n != len(data) || string(got[:n]) != string(data) {
		t.Errorf("read back %d bytes, want %d", n, len(data))
	}
}
