package pkgdir

import (
	"errors"
	"os"
	"testing"
)

// A process killed while it held a lock leaves its holder description
// behind (found by cmd/modup's TestCrashLoop): Recover removes it, unless
// the lock is held again.
func TestRecoverSweepsStaleHolder(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	for _, name := range []string{"dead", "alive"} {
		if err := os.MkdirAll(l.LocksDir(), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.HolderPath(name), []byte(`{"pid": 999999, "command": "modup update", "since": "2024-01-01T00:00:00Z"}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	lk, err := l.Lock(t.Context(), "alive", 0) // rewrites alive's holder
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	recs, err := l.Recover(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.HolderPath("dead")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale holder of dead kept: %v", err)
	}
	if _, err := os.Stat(l.HolderPath("alive")); err != nil {
		t.Errorf("holder of a held lock removed: %v", err)
	}
	if len(recs) != 1 || recs[0].Package != "dead" || recs[0].Action != ActionSwept {
		t.Errorf("Recover = %+v, want one sweep of dead", recs)
	}
}
