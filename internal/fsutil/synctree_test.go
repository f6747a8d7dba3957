package fsutil

import (
	"path/filepath"
	"testing"
)

func TestSyncTree(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "a", "b", "f.txt"), "x")
	mustWrite(t, filepath.Join(dir, "g.txt"), "y")
	if err := SyncTree(dir); err != nil {
		t.Fatal(err)
	}
	if err := syncEach(dir); err != nil { // the fallback where syncfs is refused
		t.Fatal(err)
	}
	if err := SyncTree(filepath.Join(dir, "missing")); err == nil {
		t.Error("SyncTree of a missing folder succeeded")
	}
}
