package updater_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

var errCrash = errors.New("injected crash")

// crashAt returns an Inject hook failing at step, and a flag telling
// whether it did.
func crashAt(step string) (func(string) error, *bool) {
	fired := new(bool)
	return func(s string) error {
		if s == step {
			*fired = true
			return errCrash
		}
		return nil
	}, fired
}

// TestUpdateCrashAtEverySwapStep stops an update at each step of its swap
// as if modup died there, runs recovery, and requires the package to be
// wholly the old or wholly the new version, the old one kept as a backup
// when the new one is in place, nothing left over, and a normal update to
// work afterwards.
func TestUpdateCrashAtEverySwapStep(t *testing.T) {
	tests := []struct {
		step    string
		wantNew bool // recovery finishes the update (else undoes it)
	}{
		{step: pkgdir.StepJournal, wantNew: false},
		{step: pkgdir.StepExchange, wantNew: false},
		{step: pkgdir.StepBackupOld, wantNew: true},
		{step: pkgdir.StepBackupLive, wantNew: false},
		{step: pkgdir.StepPlaceNew, wantNew: false},
		{step: pkgdir.StepRecord, wantNew: true},
		{step: pkgdir.StepUnjournal, wantNew: true},
	}
	for _, tc := range tests {
		// wrapped: the zip holds the package in a folder, as GitHub's
		// tag archives do, so the staged folder is not the staging one.
		for _, wrapped := range []bool{false, true} {
			name := tc.step
			if wrapped {
				name += "/wrapped"
			}
			t.Run(name, func(t *testing.T) {
				testUpdateCrash(t, tc.step, tc.wantNew, wrapped)
			})
		}
	}
}

func testUpdateCrash(t *testing.T, step string, wantNew, wrapped bool) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	root := t.TempDir()
	live := filepath.Join(root, "hello")
	l := pkgdir.Layout{Root: root}
	v1 := pkgFiles("hello", "1.0.0", r.dir)
	v2 := pkgFiles("hello", "1.1.0", r.dir)
	oldHash, newHash := hashOf(t, v1), hashOf(t, v2)
	r.release(t, "1.0.0", v1)
	wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
	r.release(t, "1.1.0", v2)
	if wrapped {
		r.publish(t, "1.1.0", testpkg.Zip(t, "hello-1.1.0/", v2))
	}

	inject, fired := crashAt(step)
	c := u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{Inject: inject})
	if !*fired {
		// Linux exchanges the folders in one rename; the
		// two-rename steps are only taken where it cannot, and then
		// the update simply completed.
		wantStatus(t, c, updater.StatusUpdated)
		if h := treeHash(t, live); h != newHash {
			t.Fatalf("step %s not taken, update reported done, but the package is not the new version", step)
		}
		return
	}
	wantStatus(t, c, updater.StatusFailed)
	if !errors.Is(c.Err, errCrash) {
		t.Fatalf("error %v is not the injected one", c.Err)
	}

	recs, err := l.Recover(ctx)
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	for _, rec := range recs {
		t.Logf("recovered: %s %s: %s", rec.Package, rec.Action, rec.Detail)
	}
	switch h := treeHash(t, live); {
	case h == newHash:
		if !wantNew {
			t.Errorf("recovery finished the update; want it undone")
		}
		bs, err := l.Backups("hello")
		if err != nil || len(bs) != 1 {
			t.Fatalf("backups %v (%v), want the old version", bs, err)
		}
		if treeHash(t, bs[0].Dir) != oldHash {
			t.Errorf("backup %s is not the old version", bs[0].Dir)
		}
		checkRecord(t, root, "hello", "1.1.0", "fs", r.dir)
	case h == oldHash:
		if wantNew {
			t.Errorf("recovery undid the update; want it finished")
		}
		wantBackups(t, root, "hello")
		checkRecord(t, root, "hello", "1.0.0", "fs", r.dir)
	default:
		t.Fatalf("after recovery the package is neither version:\n%v", readTree(t, live))
	}
	checkClean(t, root)

	c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
	if wantNew {
		wantStatus(t, c, updater.StatusUpToDate)
	} else {
		wantStatus(t, c, updater.StatusUpdated)
	}
	wantTree(t, live, v2)
	wantBackups(t, root, "hello", "1.0.0")
	checkRecord(t, root, "hello", "1.1.0", "fs", r.dir)
	checkClean(t, root)
}

// TestInstallCrashAtEverySwapStep does the same for a new install: after
// recovery the package is absent or wholly installed.
func TestInstallCrashAtEverySwapStep(t *testing.T) {
	tests := []struct {
		step    string
		wantNew bool
	}{
		{step: pkgdir.StepJournal, wantNew: false},
		{step: pkgdir.StepPlaceNew, wantNew: false},
		{step: pkgdir.StepRecord, wantNew: true},
		{step: pkgdir.StepUnjournal, wantNew: true},
	}
	for _, tc := range tests {
		t.Run(tc.step, func(t *testing.T) {
			ctx := t.Context()
			r := newFSRemote(t)
			u := newUpdater(t)
			root := t.TempDir()
			live := filepath.Join(root, "hello")
			v1 := pkgFiles("hello", "1.0.0", r.dir)
			r.release(t, "1.0.0", v1)

			inject, fired := crashAt(tc.step)
			c := u.Install(ctx, root, r.dir, updater.UpdateOptions{Inject: inject})
			if !*fired {
				t.Fatalf("install never reached step %s (status %s, error %v)", tc.step, c.Status, c.Err)
			}
			wantStatus(t, c, updater.StatusFailed)
			if _, err := (pkgdir.Layout{Root: root}).Recover(ctx); err != nil {
				t.Fatalf("recover: %v", err)
			}
			_, err := os.Lstat(live)
			switch {
			case err == nil:
				if !tc.wantNew {
					t.Error("recovery finished the install; want it undone")
				}
				wantTree(t, live, v1)
				checkRecord(t, root, "hello", "1.0.0", "fs", r.dir)
				c = u.Install(ctx, root, r.dir, updater.UpdateOptions{})
				wantStatus(t, c, updater.StatusFailed)
			case errors.Is(err, os.ErrNotExist):
				if tc.wantNew {
					t.Error("recovery undid the install; want it finished")
				}
				if _, err := (pkgdir.Layout{Root: root}).ReadRecord("hello"); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("an install record without the package: %v", err)
				}
				checkClean(t, root)
				wantStatus(t, u.Install(ctx, root, r.dir, updater.UpdateOptions{}), updater.StatusInstalled)
				wantTree(t, live, v1)
			default:
				t.Fatal(err)
			}
			wantBackups(t, root, "hello")
			checkClean(t, root)
		})
	}
}

// TestPendingJournalBlocksUpdate: a journal some crashed process left (and
// recovery could not settle) stops the update before anything moves, and
// the update leaves nothing of its own behind.
func TestPendingJournalBlocksUpdate(t *testing.T) {
	r := newFSRemote(t)
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", r.dir))
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
	l := pkgdir.Layout{Root: root}
	testpkg.WriteTree(t, l.JournalDir(), map[string]string{"hello.json": "{}\n"})
	before := treeHash(t, dir)

	u := newUpdater(t)
	for range 2 {
		c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
		wantStatus(t, c, updater.StatusFailed)
		if !strings.Contains(c.Error, "an interrupted change is pending") {
			t.Errorf("error %q", c.Error)
		}
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	for _, d := range []string{l.TmpDir(), l.StagingDir()} {
		if entries, _ := os.ReadDir(d); len(entries) > 0 {
			t.Errorf("leftovers in %s: %d", d, len(entries))
		}
	}
}
