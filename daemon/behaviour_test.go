package daemon

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
)

func TestStartSpreadGrowsWithDuePackages(t *testing.T) {
	d, err := New(Options{Roots: []string{t.TempDir()}, Updater: nil, Concurrency: 4, StartSpread: time.Minute})
	if err == nil {
		t.Fatal("New without an updater must fail")
	}
	d = &Daemon{opts: Options{Concurrency: 4, StartSpread: time.Minute}}
	tests := []struct {
		due  int
		want time.Duration
	}{
		{due: 0, want: 0},
		{due: 1, want: 0},
		{due: 4, want: 0}, // as many as run at once: all now
		{due: 10, want: 600 * time.Millisecond},
		{due: 100, want: 6 * time.Second},
		{due: 1000, want: time.Minute},
		{due: 10000, want: time.Minute},
	}
	for _, tc := range tests {
		if got := d.startSpread(tc.due); got != tc.want {
			t.Errorf("startSpread(%d) = %v, want %v", tc.due, got, tc.want)
		}
	}
}

// A user with one package does not wait up to a minute for the first
// check: a handful of due packages are checked at once.
func TestOnePackageIsCheckedAtOnce(t *testing.T) {
	f := newFixture(t)
	f.opts.StartSpread = time.Hour // would take up to an hour if spread
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.0.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return f.logs.count("check", "pkg") == 1 })
}

// Local and dev packages are logged once at info level, not at every
// interval.
func TestLocalAndDevLoggedOnce(t *testing.T) {
	f := newFixture(t)
	f.opts.Interval = 50 * time.Millisecond
	testpkg.WriteFile(t, filepath.Join(f.root, "mine", "a2modsource.json"), `{"name": "mine", "version": "1.0.0"}`)
	testpkg.WriteFile(t, filepath.Join(f.root, "work", "a2modsource.json"), `{"name": "work", "version": "1.0.0", "update_url": "/nowhere"}`)
	testpkg.WriteFile(t, filepath.Join(f.root, "work", ".git", "HEAD"), "ref: refs/heads/main\n")
	f.start(t)
	waitFor(t, "several checks", f.logs, func() bool { return f.logs.count("check", "mine") >= 5 && f.logs.count("check", "work") >= 5 })
	for _, name := range []string{"mine", "work"} {
		if n := f.logs.count("check", name, "level", "INFO"); n != 1 {
			t.Errorf("%s logged %d times at info, want once; log:\n%s", name, n, f.logs.dump())
		}
	}
}

// What `modup update` warns about (the release's manifest names another
// package and update_url) reaches the daemon's log and the state that
// `status` shows.
func TestInstallWarningsAreLoggedAndKept(t *testing.T) {
	f := newFixture(t)
	rel := filepath.Join(f.rels, "pkg")
	testpkg.WriteFile(t, filepath.Join(rel, "a2modsource.json"), testpkg.Manifest("pkg", "1.1.0", ""))
	z := testpkg.Zip(t, "", map[string]string{
		"a2modsource.json": `{"name": "other", "version": "1.1.0", "update_url": "https://example.com/elsewhere"}`,
		"mod/code.ahk":     "version 1.1.0",
	})
	if err := os.WriteFile(filepath.Join(rel, "1.1.0.zip"), z, 0o644); err != nil {
		t.Fatal(err)
	}
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	f.start(t)
	waitFor(t, "install", f.logs, func() bool { return f.logs.count("install", "pkg", "status", "updated") == 1 })
	if n := f.logs.count("install warning", "pkg"); n != 2 {
		t.Errorf("install warnings logged: %d, want 2 (name and update_url); log:\n%s", n, f.logs.dump())
	}
	waitFor(t, "state", f.logs, func() bool {
		st, err := ReadState(f.root, "pkg")
		return err == nil && st.LastUpdate != nil && len(st.LastUpdate.Warnings) == 2
	})
}
