package updater_test

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// pkgFiles is the tree of one version of a package: its manifest, a module,
// and a file only this version has (so that a mix of two versions shows).
func pkgFiles(name, version, updateURL string) map[string]string {
	return map[string]string{
		"a2modsource.json":         testpkg.Manifest(name, version, updateURL),
		"greet/a2module.json":      `[{"typ": "nfo", "author": "test", "version": "` + version + `"}]` + "\n",
		"greet/greet.ahk":          "MsgBox hello " + version + "\n",
		"only-" + version + ".txt": version + "\n",
	}
}

// readTree reads every regular file under dir, by slash path.
func readTree(t testing.TB, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("read tree %s: %v", dir, err)
	}
	return out
}

// wantTree fails unless dir holds exactly files.
func wantTree(t testing.TB, dir string, want map[string]string) {
	t.Helper()
	got := readTree(t, dir)
	for _, name := range slices.Sorted(maps.Keys(want)) {
		g, ok := got[name]
		switch {
		case !ok:
			t.Errorf("%s: missing %s", dir, name)
		case g != want[name]:
			t.Errorf("%s: %s is\n%q\nwant\n%q", dir, name, g, want[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: unexpected file %s", dir, name)
		}
	}
}

func treeHash(t testing.TB, dir string) string {
	t.Helper()
	h, err := pkgdir.TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hashOf is the tree hash files would have as a folder.
func hashOf(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	testpkg.WriteTree(t, dir, files)
	return treeHash(t, dir)
}

// checkClean fails when anything is left in the root's tmp/, staging/ or
// journal/ folders.
func checkClean(t testing.TB, root string) {
	t.Helper()
	l := pkgdir.Layout{Root: root}
	for _, dir := range []string{l.TmpDir(), l.StagingDir(), l.JournalDir()} {
		entries, err := os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if len(names) > 0 {
			t.Errorf("leftovers in %s: %v", dir, names)
		}
	}
}

// load reads package name of root.
func load(t testing.TB, root, name string) pkgdir.Package {
	t.Helper()
	p, ok := pkgdir.Load(root, filepath.Join(root, name))
	if !ok {
		t.Fatalf("no package %s in %s", name, root)
	}
	if p.Err != nil {
		t.Fatalf("package %s: %v", name, p.Err)
	}
	return p
}

// backupVersions lists the versions of name's backups, newest first.
func backupVersions(t testing.TB, root, name string) []string {
	t.Helper()
	bs, err := pkgdir.Layout{Root: root}.Backups(name)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range bs {
		out = append(out, b.Version)
	}
	return out
}

// envMap turns KEY=VALUE pairs into a Getenv.
func envMap(kv ...string) func(string) string {
	m := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// newUpdater wires an updater with fast retries, reading the environment
// from kv (e.g. githubtest's Env).
func newUpdater(t testing.TB, kv ...string) *updater.Updater {
	t.Helper()
	return &updater.Updater{
		Sources: updater.NewSources(updater.Config{
			Getenv:    envMap(kv...),
			UserAgent: "modup-test",
			HTTP:      &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond},
		}),
		RetryWait:   time.Millisecond,
		LockTimeout: 10 * time.Second,
	}
}

// wantStatus fails unless c has status want.
func wantStatus(t testing.TB, c updater.Change, want updater.Status) {
	t.Helper()
	if c.Status != want {
		t.Fatalf("%s: status %q (reason %q, error %v), want %q", c.Name, c.Status, c.Reason, c.Err, want)
	}
}

// webHost is a fake static web host: a folder of files over HTTP, with
// per-file handlers for misbehaviour, that counts what it is asked.
type webHost struct {
	*httptest.Server

	mu       sync.Mutex
	files    map[string][]byte
	handlers map[string]http.HandlerFunc
	requests map[string]int // "GET /1.0.0.zip"
}

func newWebHost(t testing.TB) *webHost {
	h := &webHost{files: map[string][]byte{}, handlers: map[string]http.HandlerFunc{}, requests: map[string]int{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *webHost) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	h.mu.Lock()
	h.requests[r.Method+" /"+name]++
	data, ok := h.files[name]
	fn := h.handlers[name]
	h.mu.Unlock()
	switch {
	case fn != nil:
		fn(w, r)
	case !ok:
		http.NotFound(w, r)
	default:
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	}
}

// url is the update_url of the folder.
func (h *webHost) url() string { return h.URL + "/" }

func (h *webHost) put(name string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[name] = bytes.Clone(data)
}

func (h *webHost) get(name string) []byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.files[name]
}

// handle serves name with fn instead of the file (nil: the file again).
func (h *webHost) handle(name string, fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if fn == nil {
		delete(h.handlers, name)
		return
	}
	h.handlers[name] = fn
}

// count is how often method asked for name.
func (h *webHost) count(method, name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests[method+" /"+name]
}
