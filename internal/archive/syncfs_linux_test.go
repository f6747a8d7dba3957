//go:build linux

package archive

import (
	"os"
	"path/filepath"
	"testing"
)

func TestKernelVersion(t *testing.T) {
	tests := []struct {
		release      string
		major, minor int
		ok           bool
	}{
		{"6.1.0-18-amd64", 6, 1, true},
		{"5.8.0", 5, 8, true},
		{"5.10", 5, 10, true},
		{"4.19.0-26-cloud-amd64", 4, 19, true},
		{"6.18.44-fc-v669", 6, 18, true},
		{"5.15.153.1-microsoft-standard-WSL2", 5, 15, true},
		{"6.8rc1", 6, 8, true},
		{"garbage", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		major, minor, ok := kernelVersion(tt.release)
		if ok != tt.ok || ok && (major != tt.major || minor != tt.minor) {
			t.Errorf("kernelVersion(%q) = %d, %d, %v; want %d, %d, %v", tt.release, major, minor, ok, tt.major, tt.minor, tt.ok)
		}
	}
}

// The fallback where syncfs is refused at run time syncs written files by
// reopening them, and the folders after them.
func TestSyncFallback(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "b", "f.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if err := syncFile(root, "a/b/f.txt"); err != nil {
		t.Fatal(err)
	}
	if err := syncFile(root, "a/missing"); err == nil {
		t.Error("syncFile of a missing file succeeded")
	}
	if err := syncFS(root); err != nil && err != errSyncFSUnsupported {
		t.Errorf("syncFS = %v", err)
	}
}
