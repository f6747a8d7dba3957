package updater_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// Every install, update, rollback and remove, and every one that failed,
// is in the root's history, with who made it; what changed nothing
// (up to date, dry run) is not.
func TestChangesAreRecordedInHistory(t *testing.T) {
	root := t.TempDir()
	rem := newFSRemote(t)
	rem.release(t, "1.0.0", pkgFiles("hello", "1.0.0", ""))
	u := newUpdater(t)
	u.Actor = "cli"
	ctx := t.Context()

	wantStatus(t, u.Install(ctx, root, rem.updateURL(), updater.UpdateOptions{}), updater.StatusInstalled)
	rem.release(t, "1.1.0", pkgFiles("hello", "1.1.0", ""))
	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{DryRun: true}), updater.StatusWouldUpdate)
	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{By: "api"}), updater.StatusUpdated)
	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpToDate)
	wantStatus(t, u.Rollback(ctx, load(t, root, "hello"), ""), updater.StatusRolledBack)
	// A release whose zip is not a zip: the update fails, and says so.
	rem.publish(t, "1.2.0", []byte("not a zip"))
	rem.point(t, testpkg.Manifest("hello", "1.2.0", ""))
	failed := u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, failed, updater.StatusFailed)
	wantStatus(t, u.Remove(ctx, load(t, root, "hello"), updater.RemoveOptions{}), updater.StatusRemoved)

	h, err := pkgdir.Layout{Root: root}.History("", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range h {
		got = append(got, strings.Join([]string{e.Package, string(e.Action), e.From, e.To, e.Result, e.By}, " "))
		if e.Time.IsZero() || time.Since(e.Time) > time.Hour || e.Root != root {
			t.Errorf("entry %+v: time or root wrong", e)
		}
	}
	want := []string{
		"hello install  1.0.0 ok cli",
		"hello update 1.0.0 1.1.0 ok api",
		"hello rollback 1.1.0 1.0.0 ok cli",
		"hello update 1.0.0 1.2.0 failed cli",
		"hello remove 1.0.0  ok cli",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(h) == 5 && (h[3].Error == "" || h[3].Error != failed.Error) {
		t.Errorf("the failed update's error %q, want the change's %q", h[3].Error, failed.Error)
	}
}

// NoWait fails at once, naming the holder, when the package is locked.
func TestNoWaitNamesTheHolder(t *testing.T) {
	root := t.TempDir()
	rem := newFSRemote(t)
	rem.release(t, "1.0.0", pkgFiles("hello", "1.0.0", ""))
	u := newUpdater(t) // LockTimeout 10s: NoWait must not wait for it
	wantStatus(t, u.Install(t.Context(), root, rem.updateURL(), updater.UpdateOptions{}), updater.StatusInstalled)
	rem.release(t, "1.1.0", pkgFiles("hello", "1.1.0", ""))
	lk, err := pkgdir.Layout{Root: root}.Lock(t.Context(), "hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	// A context that ends long before the lock timeout proves no wait.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, c := range []updater.Change{
		u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{NoWait: true}),
		u.RollbackWith(ctx, load(t, root, "hello"), updater.RollbackOptions{NoWait: true}),
	} {
		var le *pkgdir.LockedError
		if c.Status != updater.StatusFailed || !errors.As(c.Err, &le) || le.Waited != 0 {
			t.Fatalf("%+v: want a failure with a *pkgdir.LockedError after no wait", c)
		}
		if ctx.Err() != nil {
			t.Fatal("NoWait waited for the lock")
		}
	}
	if got := installedVersion(t, filepath.Join(root, "hello")); got != "1.0.0" {
		t.Errorf("installed %s, want 1.0.0 untouched", got)
	}
}

func installedVersion(t *testing.T, dir string) string {
	t.Helper()
	m, err := pkgdir.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m.Version
}
