package updater_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// remove and disable refuse a package others require, directly or through
// a name only it provides, naming them; --force goes ahead and says so. A
// disabled package is missing for requirements: check of a dependent's
// update says so.
func TestRemoveAndDisableRefuseRequired(t *testing.T) {
	ctx := t.Context()
	root := t.TempDir()
	writePkg(t, root, "hotkeys", "1.0.0", field("provides", []string{"hotstrings"}))
	writePkg(t, root, "macros", "2.0.0", requires(map[string]any{"hotstrings": "*"}))
	writePkg(t, root, "alone", "1.0.0", nil)
	u := hostUpdater(t, "0.5.7")

	for _, tc := range []struct {
		name string
		run  func(p pkgdir.Package) updater.Change
	}{
		{"remove", func(p pkgdir.Package) updater.Change { return u.Remove(ctx, p, updater.RemoveOptions{}) }},
		{"disable", func(p pkgdir.Package) updater.Change { return u.Disable(ctx, p, false) }},
	} {
		c := tc.run(load(t, root, "hotkeys"))
		wantStatus(t, c, updater.StatusFailed)
		if !errors.Is(c.Err, updater.ErrRequired) || !strings.Contains(c.Error, "hotkeys: required by macros 2.0.0 (requires hotstrings *): "+tc.name+" them first, or pass --force") {
			t.Errorf("%s: %v", tc.name, c.Err)
		}
	}
	wantStatus(t, u.Remove(ctx, load(t, root, "alone"), updater.RemoveOptions{}), updater.StatusRemoved)

	c := u.Disable(ctx, load(t, root, "hotkeys"), true)
	wantStatus(t, c, updater.StatusDisabled)
	if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "macros 2.0.0 (requires hotstrings *) are left without it") {
		t.Errorf("warnings %q", c.Warnings)
	}
	off, err := pkgdir.Layout{Root: root}.Disabled()
	if err != nil || len(off) != 1 {
		t.Fatalf("disabled: %v, %v", off, err)
	}
	c = u.Enable(ctx, off[0])
	wantStatus(t, c, updater.StatusEnabled)
	if c.Path != filepath.Join(root, "hotkeys") || versionIn(t, root, "hotkeys") != "1.0.0" {
		t.Errorf("enable: path %s, installed %q", c.Path, versionIn(t, root, "hotkeys"))
	}
}
