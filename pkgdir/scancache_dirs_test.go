//go:build linux || darwin

package pkgdir

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// trustFolders lets the scans and sweeps of a test keep the stamps of
// folders it just made (dirClock an hour ahead), and counts the listings
// of roots and of installed/.
func trustFolders(t *testing.T) (roots, installed *int) {
	t.Helper()
	roots, installed = new(int), new(int)
	oldClock, oldList, oldSweep := dirClock, listRoot, sweepList
	t.Cleanup(func() { dirClock, listRoot, sweepList = oldClock, oldList, oldSweep })
	dirClock = func() time.Time { return time.Now().Add(time.Hour) }
	listRoot = func(root string) ([]os.DirEntry, error) {
		*roots++
		return os.ReadDir(root)
	}
	sweepList = func(r *os.Root, name string) ([]fs.DirEntry, error) {
		if filepath.Base(r.Name()) == FolderInstalled {
			*installed++
		}
		return readDirIn(r, name)
	}
	return roots, installed
}

// tick waits for the file system's clock, which moves in ticks of a few
// milliseconds, to pass what the scan before saw, so that a change the
// test makes next moves a folder's stamp.
func tick() { time.Sleep(30 * time.Millisecond) }

// While nothing is added, removed or renamed in the root, a scan takes
// the root's folders from the cache without listing it; any such change
// makes the next scan list it again.
func TestScanCacheRootListing(t *testing.T) {
	listings, _ := trustFolders(t)
	c := newCacheRoot(t, "alpha", "beta", "nomanifest")
	if err := os.Remove(c.path("nomanifest")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"alpha": "1.0.0", "beta": "1.0.0"}
	// The first scan makes .modup, which moves the root's stamp.
	for i := range 2 {
		if got := c.versions(nil); !equalMaps(got, want) {
			t.Fatalf("scan %d: %v", i, got)
		}
	}
	before := *listings
	if got := c.versions(nil); !equalMaps(got, want) {
		t.Fatalf("from the cached list: %v, want %v", got, want)
	}
	if *listings != before {
		t.Fatalf("an unchanged root was listed (%d listings)", *listings-before)
	}
	steps := []struct {
		name   string
		change func()
		want   map[string]string
	}{
		{"a folder added", func() { c.write("gamma", `{"name": "gamma", "version": "3.0.0"}`) },
			map[string]string{"alpha": "1.0.0", "beta": "1.0.0", "gamma": "3.0.0"}},
		{"a folder removed", func() {
			if err := os.RemoveAll(filepath.Join(c.root, "beta")); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"alpha": "1.0.0", "gamma": "3.0.0"}},
		{"a folder renamed", func() {
			if err := os.Rename(filepath.Join(c.root, "gamma"), filepath.Join(c.root, "delta")); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"alpha": "1.0.0", "delta": "3.0.0"}},
		{"a manifest given to a folder", func() {
			if err := os.WriteFile(c.path("nomanifest"), []byte(`{"name": "nomanifest", "version": "0.1.0"}`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, map[string]string{"alpha": "1.0.0", "delta": "3.0.0", "nomanifest": "0.1.0"}},
	}
	for _, st := range steps {
		tick()
		before := *listings
		st.change()
		if got := c.versions(nil); !equalMaps(got, st.want) {
			t.Errorf("%s: %v, want %v", st.name, got, st.want)
		}
		if st.name != "a manifest given to a folder" && *listings == before {
			t.Errorf("%s: the root was not listed again", st.name)
		}
	}
}

// A root changed within racyWindow of the scan is listed by the next scan
// too: its stamp is not kept.
func TestScanCacheRootRacy(t *testing.T) {
	listings, _ := trustFolders(t)
	dirClock = time.Now
	c := newCacheRoot(t, "alpha")
	for range 3 {
		c.versions(nil)
	}
	if *listings != 3 {
		t.Errorf("%d listings of a root changed just now, want 3", *listings)
	}
}

// A cache whose list of folders names a path, a hidden folder or is out
// of order is not taken for the root's, even with the root's stamp.
func TestScanCacheForgedList(t *testing.T) {
	listings, _ := trustFolders(t)
	c := newCacheRoot(t, "alpha")
	c.versions(nil)
	st, ok := openDirStat(c.root).rootStamp()
	if !ok {
		t.Fatal("no stamp")
	}
	for _, names := range [][]string{{"../outside", "alpha"}, {".modup", "alpha"}, {"b", "alpha"}} {
		data, _ := encodeScanFile(scanHeader{root: st, hasRoot: true}, names, make([]scanResult, len(names)), time.Now())
		if err := os.WriteFile(filepath.Join(c.root, StateDirName, FolderCache, scanCacheFile), data, 0o600); err != nil {
			t.Fatal(err)
		}
		before := *listings
		if got := c.versions(nil); !equalMaps(got, map[string]string{"alpha": "1.0.0"}) {
			t.Errorf("cache naming %v: %v", names, got)
		}
		if *listings != before+1 {
			t.Errorf("cache naming %v: the root was not listed", names)
		}
	}
}

// While installed/ is unchanged, the notes come from the cache without a
// look at the records; a record modup writes (by a rename) moves the
// folder's stamp and every record is looked at again. The corner: a record
// edited in place by hand is not seen until then.
func TestScanCacheRecordsUnchanged(t *testing.T) {
	trustFolders(t)
	c := newCacheRoot(t, "alpha", "beta")
	l := Layout{Root: c.root}
	if err := l.WriteRecord("alpha", Record{Version: "1.0.0", Repo: "main"}); err != nil {
		t.Fatal(err)
	}
	repos := func() map[string]string {
		out := map[string]string{}
		for _, p := range c.scan(nil) {
			n, _ := p.Noted()
			out[p.Name] = n.Repo
		}
		return out
	}
	for range 2 {
		if got := repos(); !equalMaps(got, map[string]string{"alpha": "main", "beta": ""}) {
			t.Fatalf("notes %v", got)
		}
	}
	file := filepath.Join(c.root, StateDirName, FolderInstalled, "alpha.json")
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	tick()
	edited := strings.Replace(string(data), `"main"`, `"lan1"`, 1)
	if err := os.WriteFile(file, []byte(edited), 0o644); err != nil { // in place: same inode
		t.Fatal(err)
	}
	if got := repos()["alpha"]; got != "main" {
		t.Fatalf("alpha noted %q: the corner is seen after all; update scancache.go's comment and the README", got)
	}
	if err := l.WriteRecord("beta", Record{Version: "1.0.0", Repo: "other"}); err != nil {
		t.Fatal(err)
	}
	if got := repos(); !equalMaps(got, map[string]string{"alpha": "lan1", "beta": "other"}) {
		t.Errorf("after modup wrote a record: %v", got)
	}
	tick()
	if err := l.removeRecord("alpha"); err != nil {
		t.Fatal(err)
	}
	if got := repos(); !equalMaps(got, map[string]string{"alpha": "", "beta": "other"}) {
		t.Errorf("after a record was removed: %v", got)
	}
}

// Recovery lists installed/ for leftovers only when it changed since a
// sweep that found nothing there.
func TestSweepRemembersInstalled(t *testing.T) {
	_, listings := trustFolders(t)
	root := t.TempDir()
	l := Layout{Root: root}
	for _, name := range []string{"alpha", "beta"} {
		if err := l.WriteRecord(name, Record{Version: "1.0.0"}); err != nil {
			t.Fatal(err)
		}
	}
	recover := func() []Recovery {
		t.Helper()
		done, err := l.Recover(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return done
	}
	recover()
	if *listings != 1 {
		t.Fatalf("%d listings of installed/, want 1", *listings)
	}
	recover()
	if *listings != 1 {
		t.Fatalf("an unchanged installed/ was listed again (%d listings)", *listings)
	}
	tick()
	leftover := filepath.Join(l.InstalledDir(), ".alpha.json.tmp-123")
	if err := os.WriteFile(leftover, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	done := recover()
	if len(done) != 1 || done[0].Action != ActionSwept || done[0].Package != "alpha" {
		t.Errorf("recovered %+v, want alpha's leftover swept", done)
	}
	if _, err := os.Lstat(leftover); !os.IsNotExist(err) {
		t.Errorf("the leftover is still there: %v", err)
	}
	// Its removal moved the stamp again: one more listing finds nothing.
	recover()
	before := *listings
	recover()
	if *listings != before {
		t.Error("installed/ was listed after a sweep that found nothing")
	}
}
