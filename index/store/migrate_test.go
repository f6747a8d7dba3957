package store

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
)

// TestUpgradeFromSchema1: a database written by a modup of schema 1 (no
// keys, no mirrored signatures) opens with its data whole, its versions
// with no key and no signature, and then takes both.
func TestUpgradeFromSchema1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://example.com/hello"
	for _, q := range []string{
		migrations[0],
		"PRAGMA user_version = 1",
		"INSERT INTO sources (update_url, kind, name, pointer_version) VALUES ('" + u + "', 'web', 'hello', '1.0.0')",
		`INSERT INTO versions (source_id, version, first_seen, payload_url, sha256, mirrored)
			VALUES (1, '1.0.0', 1700000000000, '` + u + `/1.0.0.zip', 'ab', 1)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	st, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("open a schema-1 database: %v", err)
	}
	defer st.Close()
	var v int
	if err := st.w.QueryRowContext(t.Context(), "PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion() || v < 2 {
		t.Fatalf("user_version = %d (%v), want %d", v, err, SchemaVersion())
	}
	snap, err := st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got := snap.Sources[0].Versions[0]
	if got.Version != "1.0.0" || !got.Mirrored || got.SHA256 != "ab" || got.PublicKey != "" || got.KeyRotation != nil || got.Signature != "" {
		t.Fatalf("the old version after the upgrade: %+v", got)
	}
	known, err := st.Known(t.Context(), u)
	if err != nil || known.Versions["1.0.0"].PublicKey != "" || known.Versions["1.0.0"].Signature != "" || !known.Versions["1.0.0"].Mirrored {
		t.Fatalf("Known = %+v, %v", known, err)
	}

	// The pointer's key fills in the old version's; a signature is noted.
	rot := &doc.KeyRotation{New: "RWnew", Signature: "sig"}
	upd := Update{UpdateURL: u, Kind: "web", Checked: time.Now(),
		Keys: map[string]Key{"1.0.0": {PublicKey: "RWkey", KeyRotation: rot}}, Signatures: map[string]string{"1.0.0": "cd"}}
	changed, err := st.Apply(t.Context(), upd)
	if err != nil || !changed {
		t.Fatalf("Apply = %v, %v; want a change", changed, err)
	}
	// A key once recorded is not replaced; the same signature is no change.
	upd.Keys = map[string]Key{"1.0.0": {PublicKey: "RWother"}}
	if changed, err := st.Apply(t.Context(), upd); err != nil || changed {
		t.Fatalf("Apply again = %v, %v; want no change", changed, err)
	}
	snap, err = st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	got = snap.Sources[0].Versions[0]
	if got.PublicKey != "RWkey" || got.KeyRotation == nil || *got.KeyRotation != *rot || got.Signature != "cd" || !got.MirroredSignature() {
		t.Errorf("after Apply: %s", fmt.Sprintf("%+v", got))
	}
}
