package pkgdir

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testPin(key string) *Pin {
	return &Pin{Keys: []string{key}, Name: pkgName, From: PinFirstUse,
		Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), SignedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func TestSetPin(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("1.0.0"))

	// Not locked: refused.
	if err := l.SetPin(pkgName, "1.0.0", testPin("RWone")); err == nil || !strings.Contains(err.Error(), "not locked") {
		t.Fatalf("SetPin without the lock = %v", err)
	}
	// A package installed by hand gets a record with its version and the pin.
	locked(t, l, pkgName, func() {
		if err := l.SetPin(pkgName, "1.0.0", testPin("RWone")); err != nil {
			t.Fatal(err)
		}
	})
	rec, err := l.ReadRecord(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != "1.0.0" || rec.TreeHash != "" || rec.Pin == nil || rec.Pin.Keys[0] != "RWone" || !rec.Pin.SignedAt.Equal(testPin("").SignedAt) {
		t.Fatalf("record = %+v pin %+v", rec, rec.Pin)
	}

	// Another pin keeps the rest of a full record; nil forgets it.
	full := Record{Version: "1.0.0", TreeHash: "sha256:ab", Source: "web", UpdateURL: "https://x", Pin: testPin("RWone")}
	if err := l.WriteRecord(pkgName, full); err != nil {
		t.Fatal(err)
	}
	for _, pin := range []*Pin{testPin("RWtwo"), nil} {
		locked(t, l, pkgName, func() {
			if err := l.SetPin(pkgName, "ignored", pin); err != nil {
				t.Fatal(err)
			}
		})
		rec, err := l.ReadRecord(pkgName)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Version != "1.0.0" || rec.TreeHash != "sha256:ab" || rec.Source != "web" || rec.UpdateURL != "https://x" {
			t.Errorf("SetPin changed the record: %+v", rec)
		}
		if (pin == nil) != (rec.Pin == nil) || (pin != nil && rec.Pin.Keys[0] != pin.Keys[0]) {
			t.Errorf("pin = %+v, want %+v", rec.Pin, pin)
		}
	}

	// Forgetting the pin of a package without a record writes nothing.
	other := "other"
	writeTree(t, filepath.Join(l.Root, other), pkgTree("2.0.0"))
	locked(t, l, other, func() {
		if err := l.SetPin(other, "2.0.0", nil); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(l.RecordPath(other)); !os.IsNotExist(err) {
		t.Errorf("forgetting no pin wrote a record: %v", err)
	}
}

// A rollback restores files, not trust: the pin (keys and the newest
// signing time seen) stays as it was.
func TestRollbackKeepsThePin(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	writeTree(t, filepath.Join(l.Root, pkgName), pkgTree("2.0.0"))
	makeBackups(t, l, pkgName, [2]string{"1.0.0", "1.0.0"})
	pin := testPin("RWpinned")
	if err := l.WriteRecord(pkgName, Record{Version: "2.0.0", Pin: pin}); err != nil {
		t.Fatal(err)
	}
	locked(t, l, pkgName, func() {
		if _, _, err := l.Rollback(t.Context(), pkgName, ""); err != nil {
			t.Fatal(err)
		}
	})
	rec, err := l.ReadRecord(pkgName)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Version != "1.0.0" || rec.Pin == nil || rec.Pin.Keys[0] != "RWpinned" || !rec.Pin.SignedAt.Equal(pin.SignedAt) || rec.Pin.From != PinFirstUse {
		t.Errorf("after rollback: %+v pin %+v", rec, rec.Pin)
	}
}
