//go:build unix

package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
)

// ownOp is one thing modup does in a root's .modup; uses lists the
// folders (relative to the root, as testpkg.ModupFolders names them) it
// goes through, so that a hazard in any of them must stop it.
type ownOp struct {
	name string
	uses []string // nil: every folder (it checks the whole layout)
	run  func(t *testing.T, l Layout, staged string) error
}

// withLock runs f holding package pkgName's lock; a lock that cannot be
// taken is the error.
func withLock(t *testing.T, l Layout, f func() error) error {
	lk, err := l.Lock(t.Context(), pkgName, 0)
	if err != nil {
		return err
	}
	defer lk.Unlock()
	return f()
}

func ownOps() []ownOp {
	m := ".modup"
	return []ownOp{
		{name: "recover", run: func(t *testing.T, l Layout, _ string) error { _, err := l.Recover(t.Context()); return err }},
		{name: "check", run: func(t *testing.T, l Layout, _ string) error { return l.Check() }},
		{name: "prune", run: func(t *testing.T, l Layout, _ string) error { _, err := l.Prune(pkgName, 0); return err }},
		{name: "swap", run: func(t *testing.T, l Layout, staged string) error {
			return withLock(t, l, func() error { _, err := l.Swap(t.Context(), update(staged)); return err })
		}},
		{name: "rollback", run: func(t *testing.T, l Layout, _ string) error {
			return withLock(t, l, func() error { _, _, err := l.Rollback(t.Context(), pkgName, ""); return err })
		}},
		{name: "remove", run: func(t *testing.T, l Layout, _ string) error {
			return withLock(t, l, func() error { _, err := l.Remove(t.Context(), pkgName, false); return err })
		}},
		{name: "purge", run: func(t *testing.T, l Layout, _ string) error {
			return withLock(t, l, func() error { _, err := l.Remove(t.Context(), pkgName, true); return err })
		}},
		{name: "lock", uses: []string{m, m + "/locks"}, run: func(t *testing.T, l Layout, _ string) error {
			return withLock(t, l, func() error { return nil })
		}},
		{name: "settle", uses: []string{m, m + "/locks", m + "/journal"}, run: func(t *testing.T, l Layout, _ string) error {
			return withLock(t, l, func() error { _, err := l.Settle(pkgName); return err })
		}},
		{name: "new staging", uses: []string{m, m + "/staging", m + "/staging/" + pkgName}, run: func(t *testing.T, l Layout, _ string) error {
			_, err := l.NewStaging(pkgName)
			return err
		}},
		{name: "create temp", uses: []string{m, m + "/tmp", m + "/tmp/" + pkgName}, run: func(t *testing.T, l Layout, _ string) error {
			f, err := l.CreateTemp(pkgName, "download-*.zip")
			if err == nil {
				f.Close()
			}
			return err
		}},
		{name: "write record", uses: []string{m, m + "/installed"}, run: func(t *testing.T, l Layout, _ string) error {
			return l.WriteRecord(pkgName, Record{Version: "1.0.0"})
		}},
		{name: "read record", uses: []string{m, m + "/installed"}, run: func(t *testing.T, l Layout, _ string) error {
			_, err := l.ReadRecord(pkgName)
			return err
		}},
		{name: "list backups", uses: []string{m, m + "/backups", m + "/backups/" + pkgName}, run: func(t *testing.T, l Layout, _ string) error {
			_, err := l.Backups(pkgName)
			return err
		}},
		{name: "open state", uses: []string{m, m + "/state"}, run: func(t *testing.T, l Layout, _ string) error {
			r, err := l.OpenOwn(true, FolderState)
			if err == nil {
				r.Close()
			}
			return err
		}},
		{name: "open cache", uses: []string{m, m + "/cache"}, run: func(t *testing.T, l Layout, _ string) error {
			r, err := l.OpenOwn(true, FolderCache)
			if err == nil {
				r.Close()
			}
			return err
		}},
	}
}

// TestOwnFolderHazards puts a link (to a folder of the user's files named
// like modup's own), a file and a named pipe in place of each folder of
// .modup in turn, and runs everything pkgdir does there: each operation
// that goes through that folder must refuse with an error naming it
// (ErrUnsafeLayout), none may hang, and the user's files must come through
// untouched, with nothing created among them.
func TestOwnFolderHazards(t *testing.T) {
	for _, folder := range testpkg.ModupFolders(pkgName) {
		for _, kind := range []string{testpkg.HazardLink, testpkg.HazardFile, testpkg.HazardFIFO} {
			t.Run(folder+"/"+kind, func(t *testing.T) {
				base := t.TempDir()
				victim := testpkg.Victim(t, filepath.Join(base, "elsewhere"), pkgName)
				l := Layout{Root: filepath.Join(base, "root")}
				staged := setUp(t, l, pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0"}, record: "1.0.0"}, "2.0.0")
				writeTree(t, l.Dir(), map[string]string{
					"tmp/" + pkgName + "/download-5.zip": "partial", "state/" + pkgName + ".json": "{}",
					"cache/": "", "journal/": "", "locks/": "",
				})
				hazard := filepath.Join(l.Root, filepath.FromSlash(folder))
				if err := os.RemoveAll(hazard); err != nil {
					t.Fatal(err)
				}
				testpkg.PlaceHazard(t, hazard, kind, victim)
				before := testpkg.Snapshot(t, victim)

				for _, op := range ownOps() {
					done := make(chan error, 1)
					go func() { done <- op.run(t, l, staged) }()
					var err error
					select {
					case err = <-done:
					case <-time.After(10 * time.Second):
						t.Fatalf("%s hung", op.name)
					}
					mustRefuse := op.uses == nil || slices.Contains(op.uses, folder)
					switch {
					case mustRefuse && !errors.Is(err, ErrUnsafeLayout):
						t.Errorf("%s = %v, want ErrUnsafeLayout", op.name, err)
					case mustRefuse && !strings.Contains(err.Error(), hazard+" is "):
						t.Errorf("%s: error %q does not name %s", op.name, err, hazard)
					}
				}
				testpkg.SameSnapshot(t, victim, before)
				if kind == testpkg.HazardLink {
					if _, err := os.Stat(hazard); err != nil {
						t.Errorf("the user's link %s was removed: %v", hazard, err)
					}
				}
			})
		}
	}
}

// The error says what to do.
func TestUnsafeErrorMessage(t *testing.T) {
	root := t.TempDir()
	victim := testpkg.Victim(t, filepath.Join(t.TempDir(), "v"), pkgName)
	l := Layout{Root: root}
	testpkg.PlaceHazard(t, l.TmpDir(), testpkg.HazardLink, victim)
	err := l.Check()
	want := l.TmpDir() + " is a symbolic link where modup keeps a folder of its own: remove the link; modup keeps its files in " + l.Dir() + " and does not follow links there"
	if err == nil || err.Error() != want {
		t.Errorf("Check = %v\nwant   %s", err, want)
	}
	if err := os.Remove(l.TmpDir()); err != nil {
		t.Fatal(err)
	}
	testpkg.PlaceHazard(t, l.TmpDir(), testpkg.HazardFIFO, victim)
	if err := l.Check(); err == nil || !strings.Contains(err.Error(), "is a named pipe (FIFO) where modup keeps a folder of its own: move it out of the way") {
		t.Errorf("Check = %v, want the named pipe named and moved away", err)
	}
}
