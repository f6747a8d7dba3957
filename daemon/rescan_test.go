package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/modup/modup/internal/testpkg"
)

// TestRescanFindsNewAndGonePackages: without a watcher, a rescan (what
// SIGHUP asks for) finds a package folder that appeared and forgets one
// that went, with no check of the gone one.
func TestRescanFindsNewAndGonePackages(t *testing.T) {
	f := newFixture(t)
	f.opts.NoWatch = true
	rescan := make(chan struct{})
	f.opts.Rescan = rescan
	fsRelease(t, filepath.Join(f.rels, "old"), "old", "1.0.0")
	fsRelease(t, filepath.Join(f.rels, "new"), "new", "1.1.0")
	oldDir := filepath.Join(f.root, "old")
	testpkg.WriteFile(t, filepath.Join(oldDir, "a2modsource.json"), testpkg.Manifest("old", "1.0.0", filepath.Join(f.rels, "old")))
	f.opts.Interval = 200 * time.Millisecond
	f.start(t)
	waitFor(t, "first check of old", f.logs, func() bool { return f.logs.count("check", "old", "status", "up-to-date") >= 1 })

	newDir := filepath.Join(f.root, "new")
	testpkg.WriteFile(t, filepath.Join(newDir, "a2modsource.json"), testpkg.Manifest("new", "1.0.0", filepath.Join(f.rels, "new")))
	if err := os.RemoveAll(oldDir); err != nil {
		t.Fatal(err)
	}
	// Nothing watches the root: the new package waits for the rescan.
	time.Sleep(5 * f.opts.Debounce)
	if n := f.logs.count("check", "new"); n != 0 {
		t.Fatalf("new package checked before the rescan (%d times) with the watcher off", n)
	}
	rescan <- struct{}{}
	waitFor(t, "install of the rescanned package", f.logs, func() bool { return f.logs.count("install", "new", "status", "updated") == 1 })
	if got := installed(t, newDir); got != "version 1.1.0" {
		t.Errorf("installed content = %q", got)
	}
	if f.logs.count("rescanning the roots", "") != 1 {
		t.Errorf("rescan not logged; log:\n%s", f.logs.dump())
	}
	// The gone package is no longer scheduled: several intervals pass
	// without a check of it.
	checks := f.logs.count("check", "old")
	time.Sleep(5 * f.opts.Interval)
	if n := f.logs.count("check", "old"); n != checks {
		t.Errorf("a removed package was checked %d more times after the rescan", n-checks)
	}
	if n := f.logs.count("check", "new"); n < 2 {
		t.Errorf("the rescanned package was checked %d times in five intervals, want it scheduled", n)
	}
}

// TestOverflowRescans: when the kernel drops file events, the daemon
// rescans its roots and finds the package whose event was lost.
func TestOverflowRescans(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	f.start(t)
	// Stop watching the root, so the new folder makes no event (as when
	// the kernel's queue overflowed), then report the overflow.
	if err := f.d.watch.w.Remove(f.root); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	time.Sleep(5 * f.opts.Debounce)
	if n := f.logs.count("check", "pkg"); n != 0 {
		t.Fatalf("package checked (%d times) with its root unwatched", n)
	}
	f.d.watch.w.Errors <- fsnotify.ErrEventOverflow
	waitFor(t, "install after the overflow", f.logs, func() bool { return f.logs.count("install", "pkg", "status", "updated") == 1 })
	if f.logs.count("file events overflowed; rescanning the roots", "") != 1 {
		t.Errorf("overflow not logged; log:\n%s", f.logs.dump())
	}
	// The rescan watches the root again: a second new folder is seen
	// without another overflow.
	fsRelease(t, filepath.Join(f.rels, "two"), "two", "1.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "two", "a2modsource.json"), testpkg.Manifest("two", "1.0.0", filepath.Join(f.rels, "two")))
	waitFor(t, "install of a folder dropped in after the rescan", f.logs, func() bool { return f.logs.count("install", "two", "status", "updated") == 1 })
}
