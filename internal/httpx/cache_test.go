package httpx

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/sources"
)

func TestDirCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache", "http")
	c := DirCache(dir)
	const u1 = "https://raw.githubusercontent.com/o/r/main/a2modsource.json"
	const u2 = "https://example.com/mods/a2modsource.json"

	if _, ok := c.Get(u1); ok {
		t.Fatal("hit in an empty cache")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Get created the folder: %v", err)
	}

	e := sources.CacheEntry{ETag: `W/"abc"`, LastModified: "Sun, 01 Mar 2026 12:00:00 GMT", Body: []byte("\xef\xbb\xbf{\"version\": \"1.0\"}"), Stored: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if err := c.Put(u1, e); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(u2, sources.CacheEntry{ETag: `"x"`, Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(u1)
	if !ok || got.ETag != e.ETag || got.LastModified != e.LastModified || string(got.Body) != string(e.Body) || !got.Stored.Equal(e.Stored) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	if got, ok := c.Get(u2); !ok || string(got.Body) != "{}" {
		t.Fatalf("Get(u2) = %+v, %v", got, ok)
	}

	sum := sha256.Sum256([]byte(u1))
	name := filepath.Join(dir, hex.EncodeToString(sum[:])+".json")
	if _, err := os.Stat(name); err != nil {
		t.Fatalf("entry not named by sha256 of the URL: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the cache folder, want 2 (no temp files left)", len(entries))
	}

	for _, corrupt := range []string{"", "{", "null", `{"url": "https://elsewhere/", "etag": "\"x\""}`, `{"url": "` + u1 + `"}`} {
		if err := os.WriteFile(name, []byte(corrupt), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, ok := c.Get(u1); ok {
			t.Errorf("corrupt entry %q served: %+v", corrupt, got)
		}
	}
	if _, ok := c.Get(u2); !ok {
		t.Error("a corrupt entry spoiled another one")
	}
	// A corrupt entry is replaced by the next Put.
	if err := c.Put(u1, e); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(u1); !ok {
		t.Error("entry not rewritten")
	}
}

// TestDirCacheCorruptRefetches: a corrupt entry makes Fetch ask without
// validators and store a fresh entry.
func TestDirCacheCorruptRefetches(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`{"version": "1"}`))
	})
	dir := t.TempDir()
	cache := DirCache(dir)
	c := testClient(t, Options{})
	if _, _, err := c.Fetch(t.Context(), srv.URL, cache, 0); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 1 {
		t.Fatalf("cache files: %v", files)
	}
	if err := os.WriteFile(files[0], []byte("\x00garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, nm, err := c.Fetch(t.Context(), srv.URL, cache, 0)
	if err != nil || nm || string(b) != `{"version": "1"}` {
		t.Fatalf("Fetch = %q, %v, %v", b, nm, err)
	}
	if _, nm, _ := c.Fetch(t.Context(), srv.URL, cache, 0); !nm {
		t.Error("entry not restored")
	}
}

// TestFetchSurvivesCacheFailure: a cache that cannot be written costs the
// next conditional request, not this fetch.
func TestFetchSurvivesCacheFailure(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`{}`))
	})
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	h := &recordHandler{}
	c := testClient(t, Options{Logger: slog.New(h)})
	b, _, err := c.Fetch(t.Context(), srv.URL, DirCache(filepath.Join(blocker, "cache")), 0)
	if err != nil || string(b) != "{}" {
		t.Fatalf("Fetch = %q, %v", b, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) == 0 {
		t.Error("the cache failure was not logged")
	}
}
