package httpx

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/sources"
)

const (
	cu1 = "https://raw.githubusercontent.com/o/r/main/a2modsource.json"
	cu2 = "https://example.com/mods/a2modsource.json"
)

var entry1 = sources.CacheEntry{
	ETag:         `W/"abc"`,
	LastModified: "Sun, 01 Mar 2026 12:00:00 GMT",
	Body:         []byte("\xef\xbb\xbf{\"version\": \"1.0\"}"),
	Stored:       time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
}

func sameEntry(a, b sources.CacheEntry) bool {
	return a.ETag == b.ETag && a.LastModified == b.LastModified && bytes.Equal(a.Body, b.Body) && a.Stored.Equal(b.Stored)
}

// mustGet fails unless c holds want for url.
func mustGet(t *testing.T, c sources.Cache, url string, want sources.CacheEntry) {
	t.Helper()
	got, ok := c.Get(url)
	if !ok || !sameEntry(got, want) {
		t.Fatalf("Get(%s) = %+v, %v; want %+v", url, got, ok, want)
	}
}

func TestLogCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := NewLogCache(dir)
	if _, ok := c.Get(cu1); ok {
		t.Fatal("hit in an empty cache")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("Get created the folder: %v", err)
	}
	if err := c.Put(cu1, entry1); err != nil {
		t.Fatal(err)
	}
	e2 := sources.CacheEntry{ETag: `"x"`, Body: []byte("{}")}
	if err := c.Put(cu2, e2); err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, cu1, entry1)
	mustGet(t, c, cu2, e2)

	// A later Put replaces the entry, also for a reader that starts later.
	e1b := sources.CacheEntry{ETag: `"v2"`, Body: []byte(`{"version": "2.0"}`), Stored: entry1.Stored.Add(time.Hour)}
	if err := c.Put(cu1, e1b); err != nil {
		t.Fatal(err)
	}
	mustGet(t, c, cu1, e1b)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	fresh := NewLogCache(dir)
	mustGet(t, fresh, cu1, e1b)
	mustGet(t, fresh, cu2, e2)
	if _, ok := fresh.Get("https://example.com/other"); ok {
		t.Error("hit for a URL never stored")
	}

	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != cacheLogName {
		t.Errorf("cache folder holds %v, want only %s", ents, cacheLogName)
	}
}

// TestLogCacheWithoutValidators: an entry with neither ETag nor
// Last-Modified is never a hit (it could not make a request conditional).
func TestLogCacheWithoutValidators(t *testing.T) {
	c := NewLogCache(t.TempDir())
	if err := c.Put(cu1, sources.CacheEntry{Body: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(cu1); ok {
		t.Errorf("entry without validators served: %+v", got)
	}
}

// TestLogCacheDamage: whatever happens to the file, a damaged record is a
// miss, the records before it still serve, and the next Put is found by a
// reader that starts afterwards.
func TestLogCacheDamage(t *testing.T) {
	e2 := sources.CacheEntry{ETag: `"two"`, Body: []byte(`{"version": "2"}`)}
	tests := []struct {
		name   string
		damage func(b []byte) []byte
		keep1  bool // cu1's record (the first) survives
	}{
		{"torn last record", func(b []byte) []byte { return b[:len(b)-3] }, true},
		{"torn header", func(b []byte) []byte { return b[:recordLen(t, b)+5] }, true},
		{"flipped byte in last body", func(b []byte) []byte { b[len(b)-2] ^= 0x20; return b }, true},
		{"flipped byte in first body", func(b []byte) []byte { b[recordLen(t, b)-2] ^= 0x20; return b }, false},
		{"garbage appended", func(b []byte) []byte { return append(b, "\x00garbage\n"...) }, true},
		{"garbage in front", func(b []byte) []byte { return append([]byte("{\"url\": 1}\n"), b...) }, false},
		{"wrong magic", func(b []byte) []byte { copy(b, "mdc9"); return b }, false},
		{"huge length", func(b []byte) []byte { copy(b[4:], "\xff\xff\xff\x7f"); return b }, false},
		{"zero length", func(b []byte) []byte { copy(b[4:], "\x00\x00\x00\x00"); return b }, false},
		{"length past the end", func(b []byte) []byte {
			n := recordLen(t, b)
			copy(b[n+4:], "\x00\x00\x01\x00")
			return b
		}, true},
		{"emptied", func([]byte) []byte { return nil }, false},
		{"old JSON entry", func([]byte) []byte { return []byte(`{"url": "` + cu1 + `", "etag": "\"x\"", "body": "e30="}`) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			w := NewLogCache(dir)
			if err := w.Put(cu1, entry1); err != nil {
				t.Fatal(err)
			}
			if err := w.Put(cu2, e2); err != nil {
				t.Fatal(err)
			}
			w.Close()
			path := filepath.Join(dir, cacheLogName)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tt.damage(b), 0o600); err != nil {
				t.Fatal(err)
			}

			c := NewLogCache(dir)
			got, ok := c.Get(cu1)
			if ok != tt.keep1 || (ok && !sameEntry(got, entry1)) {
				t.Errorf("Get(first) = %+v, %v; want kept=%v", got, ok, tt.keep1)
			}
			if got, ok := c.Get(cu2); ok && !sameEntry(got, e2) {
				t.Errorf("damaged record served as %+v", got)
			}
			e3 := sources.CacheEntry{ETag: `"three"`, Body: []byte("3")}
			if err := c.Put(cu2, e3); err != nil {
				t.Fatal(err)
			}
			c.Close()
			mustGet(t, NewLogCache(dir), cu2, e3)
		})
	}
}

// TestLogCacheDamageWithoutRename: where the file cannot be replaced (on
// Windows while another process has it open), a damaged tail is cut off
// instead, so the next Put is still found.
func TestLogCacheDamageWithoutRename(t *testing.T) {
	defer func(f func(*os.Root, string, string) error) { renameFile = f }(renameFile)
	renameFile = func(*os.Root, string, string) error { return errors.New("sharing violation") }
	dir := t.TempDir()
	w := NewLogCache(dir)
	if err := w.Put(cu1, entry1); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f, err := os.OpenFile(filepath.Join(dir, cacheLogName), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("mdc1\x40\x00\x00\x00torn")
	f.Close()

	c := NewLogCache(dir)
	mustGet(t, c, cu1, entry1)
	e2 := sources.CacheEntry{ETag: `"two"`, Body: []byte("2")}
	if err := c.Put(cu2, e2); err != nil {
		t.Fatal(err)
	}
	c.Close()
	r := NewLogCache(dir)
	mustGet(t, r, cu1, entry1)
	mustGet(t, r, cu2, e2)
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// recordLen is the length of the first record in b.
func recordLen(t *testing.T, b []byte) int {
	t.Helper()
	n, ok := checkHeader(b[:headerSize])
	if !ok {
		t.Fatal("no record at the start")
	}
	return int(headerSize + n)
}

// TestLogCacheStaleIndex: when another process rewrites the file in place,
// an index offset that now points at another URL's record is a miss, never
// that record.
func TestLogCacheStaleIndex(t *testing.T) {
	dir := t.TempDir()
	c := NewLogCache(dir)
	// Records of the same length, so that an offset lands on a whole one.
	const ua, ub = "https://example.com/a/a2modsource.json", "https://example.com/b/a2modsource.json"
	ea := sources.CacheEntry{ETag: `"a"`, Body: []byte(`{"version": "1"}`)}
	eb := sources.CacheEntry{ETag: `"b"`, Body: []byte(`{"version": "2"}`)}
	if err := c.Put(ua, ea); err != nil {
		t.Fatal(err)
	}
	if err := c.Put(ub, eb); err != nil {
		t.Fatal(err)
	}
	ra, err := encodeRecord(ua, ea)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := encodeRecord(ub, eb)
	if err != nil {
		t.Fatal(err)
	}
	if len(ra) != len(rb) {
		t.Fatalf("records of %d and %d bytes", len(ra), len(rb))
	}
	// Same file, records swapped: ua's offset now holds ub's record.
	f, err := os.OpenFile(filepath.Join(dir, cacheLogName), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(append(rb, ra...), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got, ok := c.Get(ua); ok {
		t.Errorf("stale offset served %q for %s", got.Body, ua)
	}
}

// TestLogCacheReplacedFile: a reader whose file was replaced by another
// process's compaction reloads its index when it opens the file again.
func TestLogCacheReplacedFile(t *testing.T) {
	dir := t.TempDir()
	a := NewLogCache(dir)
	if err := a.Put(cu1, entry1); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := NewLogCache(dir)
	e2 := sources.CacheEntry{ETag: `"two"`, Body: []byte("2")}
	if err := b.Put(cu2, e2); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b.mu.Lock()
	b.compact(r)
	b.mu.Unlock()
	b.Close()
	mustGet(t, a, cu2, e2)
	mustGet(t, a, cu1, entry1)
}

// TestLogCacheSharedAppends: two processes appending to one file lose
// nothing of each other's when they do not race a compaction.
func TestLogCacheSharedAppends(t *testing.T) {
	dir := t.TempDir()
	a, b := NewLogCache(dir), NewLogCache(dir)
	want := map[string]sources.CacheEntry{}
	for i := range 50 {
		c := a
		if i%2 == 1 {
			c = b
		}
		url := fmt.Sprintf("https://example.com/p%d/a2modsource.json", i)
		e := sources.CacheEntry{ETag: fmt.Sprintf(`"%d"`, i), Body: []byte(strings.Repeat("x", i))}
		if err := c.Put(url, e); err != nil {
			t.Fatal(err)
		}
		want[url] = e
	}
	a.Close()
	b.Close()
	r := NewLogCache(dir)
	for url, e := range want {
		mustGet(t, r, url, e)
	}
}

// TestLogCacheCompacts: rewriting the same URLs keeps the file near the
// size of its live records, and every entry survives the compaction.
func TestLogCacheCompacts(t *testing.T) {
	dir := t.TempDir()
	c := NewLogCache(dir)
	body := bytes.Repeat([]byte("m"), 8<<10)
	var last [4]sources.CacheEntry
	for round := range 200 {
		for i := range last {
			last[i] = sources.CacheEntry{ETag: fmt.Sprintf(`"%d-%d"`, round, i), Body: body}
			if err := c.Put(fmt.Sprintf("https://h/%d", i), last[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	fi, err := os.Stat(filepath.Join(dir, cacheLogName))
	if err != nil {
		t.Fatal(err)
	}
	// 800 records of 8 KiB were written; 4 are live.
	if fi.Size() > 2*compactMin {
		t.Errorf("cache file is %d bytes after rewriting 4 entries 200 times", fi.Size())
	}
	for i, e := range last {
		mustGet(t, c, fmt.Sprintf("https://h/%d", i), e)
	}
	c.Close()
	for i, e := range last {
		mustGet(t, NewLogCache(dir), fmt.Sprintf("https://h/%d", i), e)
	}
	if tmps, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(tmps) != 0 {
		t.Errorf("temporary files left: %v", tmps)
	}
}

// TestLogCacheSweepsOldFormat: the one-file-per-URL entries of earlier
// versions and stale temporary files go when the log is created; other
// files stay.
func TestLogCacheSweepsOldFormat(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, strings.Repeat("ab", 32)+".json")
	staleTmp := filepath.Join(dir, cacheLogName+".123.tmp")
	freshTmp := filepath.Join(dir, cacheLogName+".456.tmp")
	other := filepath.Join(dir, "notes.json")
	for _, p := range []string{old, staleTmp, freshTmp, other} {
		if err := os.WriteFile(p, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	hourAgo := time.Now().Add(-2 * time.Hour)
	if err := os.Chtimes(staleTmp, hourAgo, hourAgo); err != nil {
		t.Fatal(err)
	}
	if err := NewLogCache(dir).Put(cu1, entry1); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]bool{old: false, staleTmp: false, freshTmp: true, other: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists=%v, want %v", filepath.Base(p), err == nil, want)
		}
	}
}

// TestLogCacheNotAFile: a folder where the log belongs makes Put fail with
// an error naming it and Get miss.
func TestLogCacheNotAFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, cacheLogName), 0o700); err != nil {
		t.Fatal(err)
	}
	c := NewLogCache(dir)
	err := c.Put(cu1, entry1)
	if err == nil || !strings.Contains(err.Error(), cacheLogName) {
		t.Errorf("Put = %v, want an error naming %s", err, cacheLogName)
	}
	if _, ok := c.Get(cu1); ok {
		t.Error("hit without a file")
	}
}

// TestLogCacheSymlinkOutside: a symlink in place of the log, pointing out
// of the cache folder, is refused: nothing is appended to its target.
func TestLogCacheSymlinkOutside(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "cache")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	outside := filepath.Join(base, "precious.txt")
	if err := os.WriteFile(outside, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, cacheLogName)); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	c := NewLogCache(dir)
	if err := c.Put(cu1, entry1); err == nil || !strings.Contains(err.Error(), cacheLogName) {
		t.Errorf("Put through a symlink out of the folder = %v, want an error naming %s", err, cacheLogName)
	}
	if _, ok := c.Get(cu1); ok {
		t.Error("hit through the symlink")
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me\n" {
		t.Errorf("the symlink's target was written: %q", b)
	}
}

// TestLogCacheIdleClose: an unused cache lets go of its file, and opens it
// again when asked.
func TestLogCacheIdleClose(t *testing.T) {
	c := NewLogCache(t.TempDir())
	c.idleAfter = 10 * time.Millisecond
	if err := c.Put(cu1, entry1); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		open := c.f != nil
		c.mu.Unlock()
		if !open {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("file still open 10 s after its last use")
		}
		time.Sleep(5 * time.Millisecond)
	}
	mustGet(t, c, cu1, entry1)
}

// TestLogCacheConcurrent: parallel Gets and Puts of one cache (run with
// -race) keep every entry whole.
func TestLogCacheConcurrent(t *testing.T) {
	c := NewLogCache(t.TempDir())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 100 {
				url := fmt.Sprintf("https://h/%d/%d", w, i%10)
				e := sources.CacheEntry{ETag: fmt.Sprintf(`"%d"`, i), Body: []byte(url)}
				if err := c.Put(url, e); err != nil {
					t.Error(err)
					return
				}
				if got, ok := c.Get(url); !ok || string(got.Body) != url {
					t.Errorf("Get(%s) = %+v, %v", url, got, ok)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestLogCacheCorruptRefetches: a corrupt record makes Fetch ask without
// validators and store a fresh entry.
func TestLogCacheCorruptRefetches(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Write([]byte(`{"version": "1"}`))
	})
	dir := t.TempDir()
	c := testClient(t, Options{})
	cache := NewLogCache(dir)
	if _, _, err := c.Fetch(t.Context(), srv.URL, cache, 0); err != nil {
		t.Fatal(err)
	}
	cache.Close()
	path := filepath.Join(dir, cacheLogName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-3] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cache = NewLogCache(dir)
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
	b, _, err := c.Fetch(t.Context(), srv.URL, NewLogCache(filepath.Join(blocker, "cache")), 0)
	if err != nil || string(b) != "{}" {
		t.Fatalf("Fetch = %q, %v", b, err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) == 0 {
		t.Error("the cache failure was not logged")
	}
}

// FuzzCacheRecord: any bytes decode without panicking, and an encoded
// record decodes to what was encoded.
func FuzzCacheRecord(f *testing.F) {
	rec, _ := encodeRecord(cu1, entry1)
	f.Add(rec, cu1, `"e"`, []byte("{}"))
	f.Add([]byte("mdc1\x05\x00\x00\x00\x00\x00\x00\x00hello"), "", "", []byte(nil))
	f.Fuzz(func(t *testing.T, raw []byte, url, etag string, body []byte) {
		decodeRecord(raw)
		e := sources.CacheEntry{ETag: etag, Body: body, Stored: time.Unix(1_700_000_000, int64(len(raw))).UTC()} // the Unix epoch itself is stored as "no time"
		b, err := encodeRecord(url, e)
		if err != nil {
			t.Fatal(err)
		}
		gotURL, got, err := decodeRecord(b)
		if err != nil || gotURL != url || !sameEntry(got, e) {
			t.Fatalf("round trip: %q %+v %v", gotURL, got, err)
		}
	})
}

// FuzzCacheFile: any file content loads without panicking, serves only
// whole records, and is usable for the next Put.
func FuzzCacheFile(f *testing.F) {
	rec, _ := encodeRecord(cu1, entry1)
	f.Add(rec)
	f.Add(append(rec[:len(rec)-1:len(rec)-1], rec...))
	f.Add([]byte("mdc1\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, cacheLogName), content, 0o600); err != nil {
			t.Fatal(err)
		}
		c := NewLogCache(dir)
		if got, ok := c.Get(cu1); ok && !sameEntry(got, entry1) && got.ETag == "" && got.LastModified == "" {
			t.Fatalf("served an entry without validators: %+v", got)
		}
		e := sources.CacheEntry{ETag: `"new"`, Body: []byte("new")}
		if err := c.Put(cu2, e); err != nil {
			t.Fatal(err)
		}
		c.Close()
		mustGet(t, NewLogCache(dir), cu2, e)
	})
}
