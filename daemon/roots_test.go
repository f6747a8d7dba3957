package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/updater"
)

// A root missing at start is warned about once, and its packages are
// checked within seconds of it appearing.
func TestRootAppearsAfterStart(t *testing.T) {
	f := newFixture(t)
	if err := os.Remove(f.root); err != nil {
		t.Fatal(err)
	}
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	f.start(t)
	waitFor(t, "missing-root warning", f.logs, func() bool {
		return f.logs.count("root missing; its packages are checked again when it is back", "") == 1
	})
	time.Sleep(10 * f.opts.RootPoll)
	if n := f.logs.count("root missing; its packages are checked again when it is back", ""); n != 1 {
		t.Errorf("missing root warned %d times in ten polls, want once", n)
	}
	if n := f.logs.count("root still missing; its packages are not checked", ""); n != 0 {
		t.Errorf("repeated warning %d times before RootWarnEvery", n)
	}

	// Build the root elsewhere and move it into place, as an installer would.
	staged := f.root + ".new"
	testpkg.WriteFile(t, filepath.Join(staged, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	if err := os.Rename(staged, f.root); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "install in the new root", f.logs, func() bool { return f.logs.count("install", "pkg", "status", "updated") == 1 })
	if f.logs.count("root found; scanning it", "") != 1 {
		t.Errorf("root appearance not logged; log:\n%s", f.logs.dump())
	}
}

// A root renamed away and back (mv root x; mv x root) is watched again:
// a package dropped in afterwards is checked within seconds, not at the
// next interval.
func TestRootMovedAwayAndBack(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "one"), "one", "1.0.0")
	fsRelease(t, filepath.Join(f.rels, "two"), "two", "2.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "one", "a2modsource.json"), testpkg.Manifest("one", "1.0.0", filepath.Join(f.rels, "one")))
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return f.logs.count("check", "one", "status", "up-to-date") == 1 })

	away := f.root + ".away"
	if err := os.Rename(f.root, away); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(away, f.root); err != nil {
		t.Fatal(err)
	}
	// Depending on when the daemon looks, it sees the root moved, or
	// missing and then found: either way it scans it again.
	waitFor(t, "rescan of the moved root", f.logs, func() bool {
		return f.logs.count("root moved or replaced; rescanning it", "") >= 1 || f.logs.count("root found; scanning it", "") >= 1
	})
	testpkg.WriteFile(t, filepath.Join(f.root, "two", "a2modsource.json"), testpkg.Manifest("two", "2.0.0", filepath.Join(f.rels, "two")))
	waitFor(t, "install of a package dropped in after the move", f.logs, func() bool { return f.logs.count("install", "two", "status", "updated") == 1 })
}

// A root removed while the daemon runs is warned about (once, then every
// RootWarnEvery), its packages leave the schedule, and they come back
// with it.
func TestRootRemovedAndRecreated(t *testing.T) {
	f := newFixture(t)
	f.opts.RootWarnEvery = 300 * time.Millisecond
	f.opts.Interval = 200 * time.Millisecond
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.0.0")
	manifest := testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg"))
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), manifest)
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return f.logs.count("check", "pkg") >= 1 })
	// Let the check's state be written first: a write racing the removal
	// would bring .modup (and so the root) back.
	waitFor(t, "state written", f.logs, func() bool { _, err := ReadState(f.root, "pkg"); return err == nil })
	if err := os.RemoveAll(f.root); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "missing-root warning", f.logs, func() bool {
		return f.logs.count("root missing; its packages are checked again when it is back", "") == 1
	})
	waitFor(t, "repeated warning", f.logs, func() bool {
		return f.logs.count("root still missing; its packages are not checked", "") >= 1
	})
	checks := f.logs.count("check", "pkg")
	time.Sleep(3 * f.opts.Interval)
	if n := f.logs.count("check", "pkg"); n != checks {
		t.Errorf("a package of the missing root was checked %d more times", n-checks)
	}
	if strings.Contains(f.logs.dump(), `"level":"ERROR"`) {
		t.Errorf("a missing root logged errors:\n%s", f.logs.dump())
	}
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), manifest)
	waitFor(t, "check after the root is back", f.logs, func() bool { return f.logs.count("check", "pkg") > checks })
}

// The daemon forgets the state of packages gone for more than an interval
// and keeps the others'.
func TestGoneStatesArePruned(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	old := now.Add(-2 * f.opts.Interval)
	write := func(name string, last time.Time) {
		t.Helper()
		if err := WriteState(f.root, State{Name: name, LastCheck: last, NextCheck: last.Add(f.opts.Interval), Status: updater.StatusUpToDate}); err != nil {
			t.Fatal(err)
		}
	}
	fsRelease(t, filepath.Join(f.rels, "here"), "here", "1.0.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "here", "a2modsource.json"), testpkg.Manifest("here", "1.0.0", filepath.Join(f.rels, "here")))
	write("here", old)                             // present: kept whatever its age
	write("gone-long-ago", old)                    // gone for two intervals: dropped
	write("gone-just-now", now.Add(-time.Minute))  // gone less than an interval: kept
	write("clock-was-ahead", now.AddDate(1, 0, 0)) // dated a year ahead and gone: dropped
	for i := range 300 {                           // packages that came and went
		write("churn-"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+time.Duration(i).String(), old)
	}
	f.start(t)
	waitFor(t, "pruning", f.logs, func() bool {
		return f.logs.count("forgot the state of packages gone for more than an interval", "") >= 1
	})
	states, err := ReadStates(f.root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range states {
		names = append(names, n)
	}
	if len(states) != 2 || states["here"].Name == "" || states["gone-just-now"].Name == "" {
		t.Errorf("states left: %v, want here and gone-just-now", names)
	}
}

// A second daemon on a root a running daemon serves refuses to start and
// names the first; once the first stops, it may start.
func TestSecondDaemonRefused(t *testing.T) {
	f := newFixture(t)
	stop := f.start(t)
	second, err := New(Options{Roots: []string{t.TempDir(), f.root}, Updater: &updater.Updater{}})
	if err != nil {
		t.Fatal(err)
	}
	err = second.Run(t.Context())
	var se *ServedError
	if !errors.Is(err, ErrAlreadyServed) || !errors.As(err, &se) || se.Holder == nil || se.Holder.PID != os.Getpid() {
		t.Fatalf("second daemon: %v", err)
	}
	if want := "root " + f.root + " is served by modup (pid "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q does not start with %q", err, want)
	}
	stop()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- second.Run(ctx) }()
	time.Sleep(100 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("after the first stopped, the second: %v", err)
	}
}
