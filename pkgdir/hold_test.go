package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHoldSurvivesUpdatesAndRollbacks(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	setUp(t, l, pkgState{live: "1.0.0", record: "1.0.0"}, "")
	since := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	hold := &Hold{Reason: "waiting for a2 0.6", Since: since}

	if err := l.SetHold(pkgName, "1.0.0", hold); err == nil {
		t.Fatal("SetHold without the package's lock succeeded")
	}
	locked(t, l, pkgName, func() {
		if err := l.SetHold(pkgName, "1.0.0", hold); err != nil {
			t.Fatal(err)
		}
	})
	wantHold := func(when string, want *Hold) {
		t.Helper()
		got := l.HoldOf(pkgName)
		switch {
		case want == nil && got != nil:
			t.Errorf("%s: hold %+v, want none", when, got)
		case want != nil && (got == nil || got.Reason != want.Reason || !got.Since.Equal(want.Since)):
			t.Errorf("%s: hold %+v, want %+v", when, got, want)
		}
	}
	wantHold("after SetHold", hold)
	if rec, err := l.ReadRecord(pkgName); err != nil || rec.TreeHash != refHash(t, "1.0.0") {
		t.Errorf("SetHold lost the rest of the record: %+v, %v", rec, err)
	}

	staged, err := l.NewStaging(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, staged, pkgTree("2.0.0"))
	locked(t, l, pkgName, func() {
		if _, err := l.Swap(t.Context(), SwapRequest{Name: pkgName, Staged: staged, OldVersion: "1.0.0", NewVersion: "2.0.0", Record: &Record{Source: "test"}}); err != nil {
			t.Fatal(err)
		}
	})
	wantHold("after an update", hold)
	locked(t, l, pkgName, func() {
		if _, _, err := l.Rollback(t.Context(), pkgName, ""); err != nil {
			t.Fatal(err)
		}
	})
	wantHold("after a rollback", hold)

	locked(t, l, pkgName, func() {
		if err := l.SetHold(pkgName, "1.0.0", nil); err != nil {
			t.Fatal(err)
		}
	})
	wantHold("after releasing it", nil)
	if rec, err := l.ReadRecord(pkgName); err != nil || rec.Version != "1.0.0" {
		t.Errorf("releasing the hold lost the record: %+v, %v", rec, err)
	}

	locked(t, l, pkgName, func() {
		if err := l.SetHold(pkgName, "1.0.0", hold); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Remove(t.Context(), pkgName, false); err != nil {
			t.Fatal(err)
		}
	})
	wantHold("after a removal", nil)
}

func TestHoldWithoutRecord(t *testing.T) {
	tests := []struct {
		name   string
		record string // "" none, else the record file's content
	}{
		{name: "no record"},
		{name: "unusable record", record: `{"version":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			setUp(t, l, pkgState{live: "1.0.0"}, "")
			if tc.record != "" {
				if err := os.MkdirAll(l.InstalledDir(), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(l.InstalledDir(), pkgName+".json"), []byte(tc.record), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			locked(t, l, pkgName, func() {
				if err := l.SetHold(pkgName, "1.0.0", &Hold{Since: time.Now()}); err != nil {
					t.Fatal(err)
				}
			})
			rec, err := l.ReadRecord(pkgName)
			if err != nil || rec.Version != "1.0.0" || rec.Hold == nil || rec.TreeHash != "" {
				t.Errorf("record = %+v, %v; want version 1.0.0, held, no tree hash (modup did not install it)", rec, err)
			}
		})
	}
	l := Layout{Root: t.TempDir()}
	setUp(t, l, pkgState{live: "1.0.0"}, "")
	locked(t, l, pkgName, func() {
		if err := l.SetHold(pkgName, "1.0.0", nil); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := l.ReadRecord(pkgName); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("releasing a package that was never held wrote a record (%v)", err)
	}
}
