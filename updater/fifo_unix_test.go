//go:build unix

package updater_test

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// TestFIFORelease: a FIFO named like the release zip in a release folder
// must not hang an update (nothing would ever write to it).
func TestFIFORelease(t *testing.T) {
	r := newFSRemote(t)
	r.point(t, testpkg.Manifest("hello", "1.1.0", ""))
	if err := syscall.Mkfifo(filepath.Join(r.dir, "1.1.0.zip"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", r.dir))
	before := treeHash(t, dir)

	c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if !errors.Is(c.Err, sources.ErrInvalid) {
		t.Errorf("error %v is not sources.ErrInvalid", c.Err)
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	checkClean(t, root)
}
