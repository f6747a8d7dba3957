package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDisableEnable(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "")
	live := filepath.Join(l.Root, pkgName)
	off := filepath.Join(l.DisabledDir(), pkgName)

	if err := l.Disable(t.Context(), pkgName); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Fatalf("Disable without the lock = %v", err)
	}
	locked(t, l, pkgName, func() {
		if err := l.Disable(t.Context(), pkgName); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Lstat(live); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the live folder is still there (%v)", err)
	}
	if h, err := TreeHash(off); err != nil || h != refHash(t, "1.0.0") {
		t.Errorf("the disabled folder is not the package as it was (%v)", err)
	}
	ps, err := l.Disabled()
	if err != nil || len(ps) != 1 || ps[0].Name != pkgName || !ps[0].Disabled || ps[0].Version() != "1.0.0" || ps[0].Dir != off {
		t.Errorf("Disabled() = %+v, %v", ps, err)
	}
	if rec, err := l.ReadRecord(pkgName); err != nil || rec.Version != "1.0.0" {
		t.Errorf("the record went: %+v, %v", rec, err)
	}
	if pkgs, _ := ScanRoot(l.Root); len(pkgs) != 0 {
		t.Errorf("a disabled package is scanned as installed: %+v", pkgs)
	}

	locked(t, l, pkgName, func() {
		if err := l.Disable(t.Context(), pkgName); !errors.Is(err, ErrNoPackage) {
			t.Errorf("disabling it again = %v", err)
		}
		writeTree(t, live, pkgTree("2.0.0"))
		if err := l.Enable(t.Context(), pkgName); err == nil || !strings.Contains(err.Error(), "is in the way") {
			t.Errorf("enable over another folder = %v", err)
		}
		if err := os.RemoveAll(live); err != nil {
			t.Fatal(err)
		}
		if err := l.Enable(t.Context(), pkgName); err != nil {
			t.Fatal(err)
		}
		if err := l.Enable(t.Context(), pkgName); err == nil || !strings.Contains(err.Error(), "is not disabled") {
			t.Errorf("enabling it again = %v", err)
		}
	})
	checkState(t, l, pkgState{live: "1.0.0", record: "1.0.0"})
	if _, err := os.Lstat(l.DisabledDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the empty disabled folder stays (%v)", err)
	}
}

// A crash before any step of disable or enable leaves the package in one
// place or the other, and recovery drops the journal.
func TestDisableEnableCrash(t *testing.T) {
	for _, op := range []string{opDisable, opEnable} {
		for _, step := range []string{StepJournal, stepMove, StepUnjournal} {
			t.Run(op+"/crash before "+step, func(t *testing.T) {
				l := Layout{Root: t.TempDir()}
				setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "")
				if op == opEnable {
					locked(t, l, pkgName, func() {
						if err := l.Disable(t.Context(), pkgName); err != nil {
							t.Fatal(err)
						}
					})
				}
				locked(t, l, pkgName, func() {
					err := l.move(t.Context(), op, pkgName, func(s string) error {
						if s == step {
							return errCrash
						}
						return nil
					})
					if !errors.Is(err, errCrash) {
						t.Fatalf("%s = %v", op, err)
					}
				})
				if _, err := l.Recover(t.Context()); err != nil {
					t.Fatal(err)
				}
				moved := step == StepUnjournal
				isDisabled := (op == opDisable) == moved
				_, lerr := os.Lstat(filepath.Join(l.Root, pkgName))
				_, derr := os.Lstat(filepath.Join(l.DisabledDir(), pkgName))
				if (lerr == nil) == isDisabled || (derr == nil) != isDisabled {
					t.Errorf("live %v, disabled %v; want disabled = %v", lerr, derr, isDisabled)
				}
				if ents, _ := os.ReadDir(l.JournalDir()); len(ents) > 0 {
					t.Errorf("journal left: %v", names(ents))
				}
			})
		}
	}
}
