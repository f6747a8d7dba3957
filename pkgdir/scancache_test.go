package pkgdir

import (
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

// cacheRoot is a root of packages whose manifests are dated an hour ago,
// scanned by a clock an hour ahead: outside the racy window (their
// change time, which tests cannot set, is now), so that a scan caches
// them.
type cacheRoot struct {
	t    *testing.T
	root string
	past time.Time
}

func newCacheRoot(t *testing.T, names ...string) *cacheRoot {
	c := &cacheRoot{t: t, root: t.TempDir(), past: time.Now().Add(-time.Hour).Truncate(time.Second)}
	for _, n := range names {
		c.write(n, `{"name": "`+n+`", "version": "1.0.0", "update_url": "https://example.com/`+n+`/"}`+"\n")
	}
	return c
}

func (c *cacheRoot) path(name string) string { return filepath.Join(c.root, name, ManifestFile) }

// write writes a manifest and dates it an hour ago.
func (c *cacheRoot) write(name, data string) {
	c.t.Helper()
	if err := os.MkdirAll(filepath.Join(c.root, name), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(c.path(name), []byte(data), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.date(name, c.past)
}

func (c *cacheRoot) date(name string, when time.Time) {
	c.t.Helper()
	if err := os.Chtimes(c.path(name), when, when); err != nil {
		c.t.Fatal(err)
	}
}

// scan scans with st (the platform's statter when nil).
func (c *cacheRoot) scan(st statter) []Package {
	c.t.Helper()
	if st == nil {
		st = openDirStat(c.root)
	}
	later := func() time.Time { return time.Now().Add(time.Hour) }
	pkgs, err := scanRootWith(c.root, &scanCache{l: Layout{Root: c.root}, stat: st, write: true, now: later}, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return pkgs
}

// versions scans (see scan) and returns each package's version.
func (c *cacheRoot) versions(st statter) map[string]string {
	c.t.Helper()
	pkgs := c.scan(st)
	out := map[string]string{}
	for _, p := range pkgs {
		v := p.Version()
		if p.Err != nil {
			v = "error"
		}
		if p.Dev {
			v += " dev"
		}
		out[p.Name] = v
	}
	return out
}

func (c *cacheRoot) cached() map[string]*scanEntry {
	cache := &scanCache{l: Layout{Root: c.root}}
	cache.load()
	return cachedEntries(cache.file)
}

// cachedEntries decodes the entries of f whose manifests are cached.
func cachedEntries(f *scanFile) map[string]*scanEntry {
	out := map[string]*scanEntry{}
	for i := range f.count() {
		if name, e, ok := f.entry(i); ok && e.cached {
			out[name] = &e
		}
	}
	return out
}

// parseScanBytes is parseScanFile of a file read whole.
func parseScanBytes(data []byte) (*scanFile, bool) {
	head := min(len(scanMagic)+4, len(data))
	return parseScanFile(string(data), crc32.ChecksumIEEE(data[head:]))
}

func (f *scanFile) count() int {
	if f == nil {
		return 0
	}
	return f.n
}

// A second scan of an unchanged root reads the cache: the packages are
// the ones a scan without it finds, manifest fields and members alike.
func TestScanCacheHit(t *testing.T) {
	c := newCacheRoot(t, "alpha", "beta")
	c.write("gamma", "\uFEFF{\"name\": \"gamma\", \"version\": \"2.0.0\", \"news\": \"* x\", \"@extra\": [1]}\n")
	// Fields the bytes hold escaped, and one found in another's place.
	c.write("escaped", `{"name": "escaped", "version": "1.0.0", "display_name": "1.0", "news": "a\nb \"q\"", "description": "caf\u00e9"}`)
	c.write("broken", "{")
	c.write("needs", `{"name": "needs", "version": "1.0.0", "manifest_version": 2, "requires": {"a2": ">=1"}}`)
	first := c.scan(nil)
	entries := c.cached()
	if got := slices.Sorted(mapKeys(entries)); !slices.Equal(got, []string{"alpha", "beta", "escaped", "gamma"}) {
		t.Fatalf("cached %v, want alpha, beta and gamma (a broken manifest and one with requirements are read each time)", got)
	}
	second := c.scan(nil)
	if len(second) != len(first) {
		t.Fatalf("second scan: %d packages, first %d", len(second), len(first))
	}
	for i, p := range second {
		want := first[i]
		if p.Name != want.Name || p.Dir != want.Dir || (p.Err == nil) != (want.Err == nil) || p.Dev != want.Dev {
			t.Errorf("package %d: %+v, want %+v", i, p, want)
			continue
		}
		if p.Manifest == nil {
			continue
		}
		if p.Manifest.Version != want.Manifest.Version || p.Manifest.UpdateURL != want.Manifest.UpdateURL ||
			p.Manifest.News != want.Manifest.News || p.Manifest.Description != want.Manifest.Description ||
			p.Manifest.DisplayName != want.Manifest.DisplayName || p.Manifest.Name != want.Manifest.Name || !slices.Equal(p.Manifest.Keys(), want.Manifest.Keys()) ||
			p.Manifest.HasBOM() != want.Manifest.HasBOM() {
			t.Errorf("%s from the cache: %+v, want %+v", p.Name, p.Manifest, want.Manifest)
		}
	}
	if second[slices.IndexFunc(second, func(p Package) bool { return p.Name == "needs" })].Manifest.Requirements.Hosts == nil {
		t.Error("needs: requirements lost")
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// Every change to a manifest is seen by the next scan.
func TestScanCacheSeesChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *cacheRoot)
		want   map[string]string
		unix   bool // relies on the change time (Linux, macOS)
	}{
		{name: "another size", change: func(c *cacheRoot) {
			c.write("alpha", `{"name": "alpha", "version": "1.10.0", "update_url": "https://example.com/alpha/"}`+"\n")
		}, want: map[string]string{"alpha": "1.10.0", "beta": "1.0.0"}},
		{name: "same size, modification time set back", unix: true, change: func(c *cacheRoot) {
			c.write("alpha", `{"name": "alpha", "version": "1.0.9", "update_url": "https://example.com/alpha/"}`+"\n")
		}, want: map[string]string{"alpha": "1.0.9", "beta": "1.0.0"}},
		{name: "replaced by a rename, same size and time", change: func(c *cacheRoot) {
			tmp := filepath.Join(c.root, "alpha", "new.json")
			if err := os.WriteFile(tmp, []byte(`{"name": "alpha", "version": "1.0.8", "update_url": "https://example.com/alpha/"}`+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(tmp, c.past, c.past); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, c.path("alpha")); err != nil {
				t.Fatal(err)
			}
		}, want: map[string]string{"alpha": "1.0.8", "beta": "1.0.0"}},
		{name: "broken", change: func(c *cacheRoot) { c.write("alpha", "{") },
			want: map[string]string{"alpha": "error", "beta": "1.0.0"}},
		{name: "a development checkout", change: func(c *cacheRoot) {
			if err := os.Mkdir(filepath.Join(c.root, "beta", ".git"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, want: map[string]string{"alpha": "1.0.0", "beta": "1.0.0 dev"}},
		{name: "removed and added", change: func(c *cacheRoot) {
			if err := os.Remove(c.path("beta")); err != nil {
				t.Fatal(err)
			}
			c.write("delta", `{"name": "delta", "version": "0.1.0"}`)
		}, want: map[string]string{"alpha": "1.0.0", "delta": "0.1.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unix && runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
				t.Skip("no change time here: this is the corner TestScanCacheCorner shows")
			}
			c := newCacheRoot(t, "alpha", "beta")
			c.versions(nil)
			if n := len(c.cached()); n != 2 {
				t.Fatalf("%d packages cached, want 2", n)
			}
			tc.change(c)
			got := c.versions(nil)
			if !equalMaps(got, tc.want) {
				t.Errorf("after the change: %v, want %v", got, tc.want)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// A manifest written within racyWindow of the scan is not cached: a
// rewrite of the same size in the same timestamp tick would look unchanged.
func TestScanCacheRacy(t *testing.T) {
	c := newCacheRoot(t, "alpha")
	c.write("fresh", `{"name": "fresh", "version": "1.0.0"}`)
	c.date("fresh", time.Now())
	if _, err := ScanRoot(c.root); err != nil {
		t.Fatal(err)
	}
	entries := c.cached()
	if _, ok := entries["fresh"]; ok {
		t.Error("a manifest written just now was cached")
	}
	if err := os.WriteFile(c.path("fresh"), []byte(`{"name": "fresh", "version": "1.0.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	pkgs, err := ScanRoot(c.root)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pkgs {
		if p.Name == "fresh" && p.Version() != "1.0.1" {
			t.Errorf("fresh: %s, want 1.0.1", p.Version())
		}
	}
}

// The corner the cache cannot see (scancache.go): where there is no
// change time (Windows, shown here with the statter it uses), a rewrite in
// place that keeps the size and sets the modification time back. Touching
// the manifest makes the next scan see it.
func TestScanCacheCorner(t *testing.T) {
	c := newCacheRoot(t, "alpha")
	paths := pathStat{root: c.root}
	c.versions(paths)
	if err := os.WriteFile(c.path("alpha"), []byte(`{"name": "alpha", "version": "1.0.9", "update_url": "https://example.com/alpha/"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.date("alpha", c.past)
	if got := c.versions(paths)["alpha"]; got != "1.0.0" {
		t.Fatalf("version %s: the corner is seen after all; update scancache.go's comment and the README", got)
	}
	c.date("alpha", time.Now().Add(-time.Minute))
	if got := c.versions(paths)["alpha"]; got != "1.0.9" {
		t.Errorf("after touch: version %s, want 1.0.9", got)
	}
	if runtime.GOOS == "linux" || runtime.GOOS == "darwin" {
		// With change times (the platform's statter) the same rewrite is seen.
		c.versions(nil)
		if err := os.WriteFile(c.path("alpha"), []byte(`{"name": "alpha", "version": "1.0.7", "update_url": "https://example.com/alpha/"}`+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c.date("alpha", time.Now().Add(-time.Minute))
		if got := c.versions(nil)["alpha"]; got != "1.0.7" {
			t.Errorf("with change times: version %s, want 1.0.7", got)
		}
	}
}

// A damaged cache is a miss, rewritten by the scan.
func TestScanCacheDamaged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{name: "garbage", damage: func([]byte) []byte { return []byte("not a cache") }},
		{name: "truncated", damage: func(b []byte) []byte { return b[:len(b)/2] }},
		{name: "a flipped byte", damage: func(b []byte) []byte { b[len(b)-3] ^= 0x40; return b }},
		{name: "empty", damage: func([]byte) []byte { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCacheRoot(t, "alpha", "beta")
			c.versions(nil)
			file := filepath.Join(c.root, StateDirName, FolderCache, scanCacheFile)
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, tc.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			if len(c.cached()) != 0 {
				t.Fatal("a damaged cache was read")
			}
			if got := c.versions(nil); !equalMaps(got, map[string]string{"alpha": "1.0.0", "beta": "1.0.0"}) {
				t.Errorf("versions %v", got)
			}
			if len(c.cached()) != 2 {
				t.Error("the damaged cache was not rewritten")
			}
		})
	}
}

// The cache lives in .modup, where nothing is followed: a link in the
// cache's place or the cache folder's is neither read nor written through.
func TestScanCacheLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	t.Run("the cache file", func(t *testing.T) {
		c := newCacheRoot(t, "alpha")
		user := filepath.Join(t.TempDir(), "notes.txt")
		if err := os.WriteFile(user, []byte("mine"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(c.root, StateDirName, FolderCache)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(user, filepath.Join(dir, scanCacheFile)); err != nil {
			t.Fatal(err)
		}
		if got := c.versions(nil)["alpha"]; got != "1.0.0" {
			t.Errorf("version %s", got)
		}
		if data, _ := os.ReadFile(user); string(data) != "mine" {
			t.Errorf("the user's file now holds %q", data)
		}
	})
	t.Run("the cache folder", func(t *testing.T) {
		c := newCacheRoot(t, "alpha")
		user := t.TempDir()
		if err := os.MkdirAll(filepath.Join(c.root, StateDirName), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(user, filepath.Join(c.root, StateDirName, FolderCache)); err != nil {
			t.Fatal(err)
		}
		if got := c.versions(nil)["alpha"]; got != "1.0.0" {
			t.Errorf("version %s", got)
		}
		if ents, _ := os.ReadDir(user); len(ents) != 0 {
			t.Errorf("written into the linked folder: %v", ents)
		}
	})
}

// Completion's scan reads the cache and never writes it.
func TestScanReadOnly(t *testing.T) {
	c := newCacheRoot(t, "alpha")
	if _, err := ScanReadOnly([]string{c.root}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(c.root, StateDirName)); err == nil {
		t.Error("a read-only scan made .modup")
	}
	c.versions(nil)
	if len(c.cached()) != 1 {
		t.Error("a scan that may write wrote no cache")
	}
}

// A root without a manifest worth caching gets no cache file, and so no
// .modup (a root given by mistake is left as it was).
func TestScanCacheNothingToKeep(t *testing.T) {
	c := newCacheRoot(t)
	if err := os.Mkdir(filepath.Join(c.root, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	c.write("needs", `{"name": "needs", "version": "1.0.0", "manifest_version": 2, "requires": {"a2": ">=1"}}`)
	for range 2 {
		if got := c.versions(nil); !equalMaps(got, map[string]string{"needs": "1.0.0"}) {
			t.Fatalf("versions %v", got)
		}
	}
	if _, err := os.Lstat(filepath.Join(c.root, StateDirName)); err == nil {
		t.Error("a scan with nothing to cache made .modup")
	}
}

// The cache's format round-trips: its header, the folders in order, the
// entries; a file whose offsets or names are wrong is not used.
func TestScanCacheEncoding(t *testing.T) {
	c := newCacheRoot(t, "a", "b")
	c.versions(nil)
	entries := c.cached()
	h := scanHeader{root: stamp{size: 1, mtime: 2, ctime: 3, ino: 4, dev: 5}, hasRoot: true}
	names := []string{"a", "b", "c"}
	res := []scanResult{{fresh: entries["a"]}, {fresh: entries["b"]}, {}}
	data, ok := encodeScanFile(h, names, res, time.Now().Add(time.Hour))
	if !ok {
		t.Fatal("not encoded")
	}
	f, ok := parseScanBytes(data)
	if !ok || f.scanHeader != h || !slices.Equal(f.names(), names) {
		t.Fatalf("round trip: %+v, %v", f, ok)
	}
	for i, name := range names {
		got, e, ok := f.entry(i)
		want := res[i].fresh
		switch {
		case !ok || got != name:
			t.Errorf("entry %d: %q, %v", i, got, ok)
		case want == nil && e.cached:
			t.Errorf("%s: cached, want by name only", name)
		case want != nil && (!e.cached || e.stamp != want.stamp || string(e.summary.Data) != string(want.summary.Data) || e.summary.Fields != want.summary.Fields):
			t.Errorf("%s: %+v, want %+v", name, e, want)
		}
	}
	for _, tc := range []struct {
		name  string
		names []string
	}{
		{"a path", []string{"../x"}},
		{"hidden", []string{".modup"}},
		{"out of order", []string{"b", "a"}},
		{"twice", []string{"a", "a"}},
	} {
		data, _ := encodeScanFile(h, tc.names, make([]scanResult, len(tc.names)), time.Now())
		if f, ok := parseScanBytes(data); ok && f.names() != nil {
			t.Errorf("%s: the folders %v were taken", tc.name, f.names())
		}
	}
	bad, _ := encodeScanFile(h, []string{"../x"}, []scanResult{{fresh: entries["a"]}}, time.Now().Add(time.Hour))
	if f, ok := parseScanBytes(bad); ok {
		if _, _, ok := f.entry(0); ok {
			t.Error("an entry naming ../x was read")
		}
	}
}

// A scan notes each package's install record (repository, hold), from the
// cache while the record is unchanged, and sees a record written since.
func TestScanNotesRecords(t *testing.T) {
	c := newCacheRoot(t, "alpha", "beta", "gamma")
	l := Layout{Root: c.root}
	since := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := l.WriteRecord("alpha", Record{Version: "1.0.0", Repo: "main"}); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteRecord("beta", Record{Version: "1.0.0", Hold: &Hold{Reason: "wait", Since: since}}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string]RecordNote) {
		t.Helper()
		for _, p := range c.scan(nil) {
			n, ok := p.Noted()
			w := want[p.Name]
			if !ok || n.Repo != w.Repo || (n.Hold == nil) != (w.Hold == nil) || (n.Hold != nil && (n.Hold.Reason != w.Hold.Reason || !n.Hold.Since.Equal(w.Hold.Since))) {
				t.Errorf("%s: %s noted %+v (%v), want %+v", when, p.Name, n, ok, w)
			}
		}
	}
	want := map[string]RecordNote{"alpha": {Repo: "main"}, "beta": {Hold: &Hold{Reason: "wait", Since: since}}}
	check("first scan", want)
	if e := c.cached()["beta"]; e == nil || !e.hasRec || e.note.Hold == nil || e.note.Hold.Reason != "wait" {
		t.Fatalf("beta's note not cached: %+v", e)
	}
	check("from the cache", want)
	if err := l.WriteRecord("gamma", Record{Version: "1.0.0", Repo: "lan"}); err != nil {
		t.Fatal(err)
	}
	if err := l.WriteRecord("beta", Record{Version: "1.0.0"}); err != nil {
		t.Fatal(err)
	}
	check("after records changed", map[string]RecordNote{"alpha": {Repo: "main"}, "gamma": {Repo: "lan"}})
	if holds := HoldsOf(c.scan(nil)); len(holds) != 0 {
		t.Errorf("holds %v", holds)
	}
	if runtime.GOOS != "windows" {
		// A record that is a link is not followed: taken as none.
		other := filepath.Join(t.TempDir(), "x.json")
		if err := os.WriteFile(other, []byte(`{"repo": "evil"}`), 0o644); err != nil {
			t.Fatal(err)
		}
		rec := filepath.Join(c.root, StateDirName, FolderInstalled, "alpha.json")
		if err := os.Remove(rec); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(other, rec); err != nil {
			t.Fatal(err)
		}
		check("a link", map[string]RecordNote{"gamma": {Repo: "lan"}})
	}
}

// A cache read before the root changed (LoadScanCaches, then a recovery
// or any other change, then the scan) is still checked entry by entry:
// the changed manifest is read again, the others come from the cache, and
// a second Scan of the same ScanCaches reads the cache file again.
func TestScanCachesLoadedEarly(t *testing.T) {
	c := newCacheRoot(t, "alpha", "beta")
	c.scan(nil) // writes the cache
	pre := LoadScanCaches([]string{c.root, c.root})
	// Changed after the cache was read (a rename, as a swap does).
	c.write("beta.new", `{"name": "beta", "version": "2.0.0", "update_url": "https://example.com/beta/"}`+"\n")
	if err := os.Rename(filepath.Join(c.root, "beta.new", ManifestFile), c.path("beta")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(c.root, "beta.new")); err != nil {
		t.Fatal(err)
	}
	for _, round := range []string{"first", "second"} {
		t.Run(round, func(t *testing.T) {
			pkgs, err := pre.Scan([]string{c.root})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, p := range pkgs {
				got[p.Name] = p.Version()
			}
			want := map[string]string{"alpha": "1.0.0", "beta": "2.0.0"}
			if len(got) != len(want) || got["alpha"] != want["alpha"] || got["beta"] != want["beta"] {
				t.Errorf("scan with caches read early = %v, want %v", got, want)
			}
		})
	}
}
