package daemon

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// A held package is checked (its state shows what is available) but the
// daemon never installs anything over it.
func TestHeldPackageIsNotUpdated(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	p, ok := pkgdir.Load(f.root, dir)
	if !ok {
		t.Fatal("no package")
	}
	u := &updater.Updater{Sources: updater.NewSources(updater.Config{})}
	if ch := u.Hold(context.Background(), p, updater.HoldOptions{Reason: "testing 1.0"}); ch.Status != updater.StatusHeld {
		t.Fatalf("hold: %+v", ch)
	}
	f.start(t)
	waitFor(t, "check", f.logs, func() bool { return f.logs.count("check", "pkg", "status", "held") == 1 })
	waitFor(t, "state", f.logs, func() bool {
		st, err := ReadState(f.root, "pkg")
		return err == nil && st.Status == updater.StatusHeld && st.Available == "1.1.0"
	})
	time.Sleep(10 * f.opts.Debounce)
	if n := f.logs.count("install", "pkg"); n != 0 {
		t.Errorf("the daemon installed a held package; log:\n%s", f.logs.dump())
	}
	if _, err := os.Stat(filepath.Join(dir, "mod")); err == nil {
		t.Error("the held package's folder changed")
	}
}
