package updater_test

import (
	"errors"
	"fmt"
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

// TestUnusableJournalIsSetAside: a journal modup cannot use (empty,
// garbage, about nobody, a folder in its place) used to block the package
// for ever, saying modup would settle it. It is moved aside, kept for
// inspection and named in a warning, and the update goes on with the
// package as it is on disk.
func TestUnusableJournalIsSetAside(t *testing.T) {
	tests := []struct {
		name    string
		journal map[string]string // under journal/
		want    string            // in the warning
	}{
		{name: "empty", journal: map[string]string{"hello.json": ""}, want: "is empty"},
		{name: "garbage", journal: map[string]string{"hello.json": "\x00\x01 not json"}, want: "not valid JSON"},
		{name: "about nobody", journal: map[string]string{"hello.json": "{}\n"}, want: `is about ""`},
		{name: "a folder", journal: map[string]string{"hello.json/x": "y"}, want: "is a folder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newFSRemote(t)
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", r.dir))
			r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
			l := pkgdir.Layout{Root: root}
			testpkg.WriteTree(t, l.JournalDir(), tc.journal)

			c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			aside, _ := filepath.Glob(l.JournalPath("hello") + ".broken-*")
			if len(aside) != 1 {
				t.Fatalf("set aside: %v, want one journal/hello.json.broken-*", aside)
			}
			warned := strings.Join(c.Warnings, "\n")
			for _, s := range []string{tc.want, aside[0], "as it is on disk"} {
				if !strings.Contains(warned, s) {
					t.Errorf("warnings %q do not say %q", warned, s)
				}
			}
			if strings.Contains(warned+c.Error, "next start") {
				t.Errorf("a warning promises what modup does not do: %q", warned)
			}
			wantTree(t, dir, pkgFiles("hello", "1.1.0", r.dir))
			if _, err := os.Lstat(l.JournalPath("hello")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("journal still there: %v", err)
			}
		})
	}
}

// TestUnsettledJournalBlocksUpdate: a journal modup reads but cannot
// settle (which folder holds which version is unclear) stops the update
// before anything moves, says why and what to do, and the update leaves
// nothing of its own behind.
func TestUnsettledJournalBlocksUpdate(t *testing.T) {
	r := newFSRemote(t)
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", r.dir))
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
	l := pkgdir.Layout{Root: root}
	// The staged folder and the live one both exist and neither has the
	// journal's tree hash.
	testpkg.WriteTree(t, filepath.Join(l.StagingDir(), "hello", "new-1"), pkgFiles("hello", "0.5.0", r.dir))
	testpkg.WriteTree(t, l.JournalDir(), map[string]string{"hello.json": `{"op": "update", "name": "hello", "live": "hello",
		"staged": ".modup/staging/hello/new-1", "backup": ".modup/backups/hello/1.0.0",
		"old_version": "1.0.0", "new_version": "1.1.0", "new_hash": "sha256:0000", "started": "2024-01-01T00:00:00Z"}`})
	before := treeHash(t, dir)

	u := newUpdater(t)
	for range 2 {
		c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
		wantStatus(t, c, updater.StatusFailed)
		if !strings.Contains(c.Error, "cannot tell which") || !strings.Contains(c.Error, l.JournalPath("hello")) {
			t.Errorf("error %q", c.Error)
		}
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	if entries, _ := os.ReadDir(l.TmpDir()); len(entries) > 0 {
		t.Errorf("leftovers in %s: %d", l.TmpDir(), len(entries))
	}
	if entries, _ := os.ReadDir(filepath.Join(l.StagingDir(), "hello")); len(entries) != 1 {
		t.Errorf("staging/hello holds %d entries, want only what the journal names", len(entries))
	}
}

// TestGarbageRecordIsNoRecord: an install record modup cannot read is
// taken as none, with a warning naming it, not a raw JSON error; the
// update replaces it.
func TestGarbageRecordIsNoRecord(t *testing.T) {
	for _, content := range []string{"", "garbage", `{"version": 7}`} {
		t.Run(fmt.Sprintf("%q", content), func(t *testing.T) {
			r := newFSRemote(t)
			root := t.TempDir()
			testpkg.WriteTree(t, filepath.Join(root, "hello"), pkgFiles("hello", "1.0.0", r.dir))
			r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
			l := pkgdir.Layout{Root: root}
			testpkg.WriteTree(t, l.InstalledDir(), map[string]string{"hello.json": content})

			c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			warned := strings.Join(c.Warnings, "\n")
			if !strings.Contains(warned, l.RecordPath("hello")) || !strings.Contains(warned, "taken as no record") {
				t.Errorf("warnings %q: want the record named and taken as none", warned)
			}
			checkRecord(t, root, "hello", "1.1.0", "fs", r.dir)
		})
	}
}
