package store_test

import (
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/store"
)

// TestMigrations: a new database gets the current schema version; opening
// again changes nothing; a database from a newer modup is refused.
func TestMigrations(t *testing.T) {
	path, db := newRaw(t)
	var v int
	var mode string
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != store.SchemaVersion() {
		t.Fatalf("user_version = %d (%v), want %d", v, err, store.SchemaVersion())
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q (%v), want wal", mode, err)
	}
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	st.Close()
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(t.Context(), path); !errors.Is(err, store.ErrNewerSchema) {
		t.Errorf("open a newer schema: err = %v, want ErrNewerSchema", err)
	}
	if _, err := store.OpenExisting(t.Context(), filepath.Join(t.TempDir(), "none.db")); !errors.Is(err, store.ErrNoIndex) {
		t.Errorf("OpenExisting of nothing: err = %v, want ErrNoIndex", err)
	}
}

// TestApplyKeepsDataOnError: an update that read nothing records the error
// and keeps the versions; generated moves only when data changes.
func TestApplyKeepsDataOnError(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	const u = "https://example.com/a"
	now := time.Now()
	v := store.Version{Version: "1.0.0", FirstSeen: now, PayloadURL: u + "/1.0.0.zip", SHA256: "ab",
		Modules: []doc.Module{{Name: "m", Tags: []string{"t"}}}, Problems: []doc.Problem{{Check: "modules", Detail: "x"}}}
	changed, err := st.Apply(ctx, store.Update{UpdateURL: u, Kind: "web", Checked: now, Read: true, Name: "a", Pointer: []byte(`{}`), PointerVersion: "1.0.0", Add: []store.Version{v}})
	if err != nil || !changed {
		t.Fatalf("Apply = %v, %v", changed, err)
	}
	before, _ := st.Snapshot(ctx)
	time.Sleep(2 * time.Millisecond)
	changed, err = st.Apply(ctx, store.Update{UpdateURL: u, Kind: "web", Checked: time.Now(), Err: "boom"})
	if err != nil || changed {
		t.Fatalf("Apply of an error = %v, %v; want no change", changed, err)
	}
	after, _ := st.Snapshot(ctx)
	s := after.Sources[0]
	if s.LastError != "boom" || len(s.Versions) != 1 || s.Versions[0].Modules[0].Tags[0] != "t" || s.Versions[0].Problems[0].Check != "modules" {
		t.Errorf("after an error: %+v", s)
	}
	if !after.Generated.Equal(before.Generated) || after.Revision <= before.Revision {
		t.Errorf("generated %v → %v, revision %d → %d; want generated kept and the revision moved", before.Generated, after.Generated, before.Revision, after.Revision)
	}
}

// newRaw makes a new index database with store.Open and opens it again
// for the test's own SQL.
func newRaw(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "index.db")
	st, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, db
}
