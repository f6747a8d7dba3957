package updater_test

import (
	"path/filepath"
	"testing"

	"github.com/modup/modup/updater"
)

// Hold and Unhold are what the CLI and the daemon's API call: a held
// package checks as held (what is available still shown), Update leaves it
// unless asked for a version, and the hold outlives that update.
func TestHoldAndUnhold(t *testing.T) {
	ctx := t.Context()
	r := newFSRemote(t)
	u := newUpdater(t)
	root := filepath.Join(t.TempDir(), "root")
	r.release(t, "1.0.0", pkgFiles("hello", "1.0.0", r.updateURL()))
	wantStatus(t, u.Install(ctx, root, r.updateURL(), updater.UpdateOptions{}), updater.StatusInstalled)
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.updateURL()))

	c := u.Hold(ctx, load(t, root, "hello"), updater.HoldOptions{Reason: "  testing 1.0  "})
	wantStatus(t, c, updater.StatusHeld)
	if c.Reason != "testing 1.0" {
		t.Errorf("hold reason %q, want it trimmed", c.Reason)
	}
	res := u.CheckOne(ctx, load(t, root, "hello"))
	if res.Status != updater.StatusHeld || res.Available != "1.1.0" || res.Hold == nil || res.Hold.Reason != "testing 1.0" || res.Hold.Since.IsZero() {
		t.Errorf("check of a held package: %+v", res)
	}

	c = u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusHeld)
	if p := load(t, root, "hello"); p.Version() != "1.0.0" {
		t.Fatalf("update changed a held package to %s", p.Version())
	}
	rel := res.Release
	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{Resolved: &rel}), updater.StatusHeld)
	dry := u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{DryRun: true})
	wantStatus(t, dry, updater.StatusHeld)

	wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{To: "1.1.0"}), updater.StatusUpdated)
	if res := u.CheckOne(ctx, load(t, root, "hello")); res.Status != updater.StatusHeld || res.Installed != "1.1.0" {
		t.Errorf("after update --to: %s %s, want held at 1.1.0", res.Status, res.Installed)
	}

	c = u.Unhold(ctx, load(t, root, "hello"), updater.HoldOptions{})
	wantStatus(t, c, updater.StatusUnheld)
	if c.Reason != "" {
		t.Errorf("unhold of a held package: reason %q", c.Reason)
	}
	if res := u.CheckOne(ctx, load(t, root, "hello")); res.Status != updater.StatusUpToDate || res.Hold != nil {
		t.Errorf("after unhold: %+v", res)
	}
	c = u.Unhold(ctx, load(t, root, "hello"), updater.HoldOptions{})
	wantStatus(t, c, updater.StatusUnheld)
	if c.Reason != "it was not held" {
		t.Errorf("unhold of a package not held: reason %q", c.Reason)
	}
}
