package pkgdir

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	if _, err := l.ReadRecord("pkg"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("ReadRecord with no record = %v, want os.ErrNotExist", err)
	}
	tests := []struct {
		name string
		rec  Record
	}{
		{name: "full", rec: Record{Version: "1.2.0", TreeHash: "sha256:ab", InstalledAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Source: "github", UpdateURL: "https://github.com/a/b"}},
		{name: "overwrite with less", rec: Record{Version: "1.3.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.WriteRecord("pkg", tc.rec); err != nil {
				t.Fatal(err)
			}
			got, err := l.ReadRecord("pkg")
			if err != nil {
				t.Fatal(err)
			}
			if !got.InstalledAt.Equal(tc.rec.InstalledAt) {
				t.Errorf("InstalledAt = %v, want %v", got.InstalledAt, tc.rec.InstalledAt)
			}
			got.InstalledAt = tc.rec.InstalledAt
			if got != tc.rec {
				t.Errorf("ReadRecord = %+v, want %+v", got, tc.rec)
			}
		})
	}
	entries, err := os.ReadDir(l.InstalledDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "pkg.json" {
		t.Errorf("installed/ holds %v, want only pkg.json (no temporary files)", entries)
	}
}

func TestRecordJSONFields(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	if err := os.MkdirAll(l.InstalledDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	data := `{"version":"2.0","tree_hash":"sha256:00","installed_at":"2026-03-04T05:06:07Z","source":"web","update_url":"https://x/y.json","future":1}`
	if err := os.WriteFile(filepath.Join(l.InstalledDir(), "pkg.json"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := l.ReadRecord("pkg")
	if err != nil {
		t.Fatal(err)
	}
	want := Record{Version: "2.0", TreeHash: "sha256:00", InstalledAt: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Source: "web", UpdateURL: "https://x/y.json"}
	if got != want {
		t.Errorf("ReadRecord = %+v, want %+v", got, want)
	}
	if err := os.WriteFile(filepath.Join(l.InstalledDir(), "bad.json"), []byte(`{"version":`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ReadRecord("bad"); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadRecord of a cut-off file = %v, want a decode error", err)
	}
	if _, err := l.ReadRecord("../escape"); err == nil {
		t.Error("ReadRecord accepted a name with a path in it")
	}
}

// Records reads every usable record at once; RecordsStamp moves when one
// is written; a rollback keeps the repository a package came from.
func TestRecordsAndRepo(t *testing.T) {
	root := t.TempDir()
	l := Layout{Root: root}
	if recs, err := l.Records(); err != nil || len(recs) != 0 {
		t.Fatalf("no installed/: %v, %v", recs, err)
	}
	if s := l.RecordsStamp(); s != "" {
		t.Errorf("stamp without installed/: %q", s)
	}
	for _, r := range []struct{ name, repo string }{{"a", "main"}, {"b", ""}} {
		if err := l.WriteRecord(r.name, Record{Version: "1.0.0", Repo: r.repo}); err != nil {
			t.Fatal(err)
		}
	}
	dir := l.InstalledDir()
	if err := os.WriteFile(filepath.Join(dir, "c.json"), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".hidden.json"), []byte(`{"repo":"x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := l.Records()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs["a"].Repo != "main" || recs["b"].Repo != "" {
		t.Errorf("records %+v", recs)
	}
	before := l.RecordsStamp()
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(dir, old, old); err != nil {
		t.Fatal(err)
	}
	if l.RecordsStamp() == before {
		t.Error("stamp did not follow the folder's time")
	}
	before = l.RecordsStamp()
	if err := l.WriteRecord("d", Record{Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	if l.RecordsStamp() == before {
		t.Error("stamp unchanged by a new record")
	}
	rec := Record{Version: "0.9.0"}
	l.keepRepo("a", &rec)
	if rec.Repo != "main" {
		t.Errorf("keepRepo: %+v", rec)
	}
}
