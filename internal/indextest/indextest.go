// Package indextest holds the fixtures the index's tests share: a web
// folder host that answers conditionally and counts, release zips of small
// packages, and the source registry wired with fast retries.
package indextest

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/trust"
	"github.com/modup/modup/updater"
)

// Registry is the registry `modup check` uses, reading the environment
// from kv ("KEY=VALUE", e.g. githubtest's Env), with fast retries.
func Registry(t testing.TB, kv ...string) *sources.Registry {
	t.Helper()
	env := map[string]string{}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		env[k] = v
	}
	return updater.NewSources(updater.Config{
		Getenv:    func(k string) string { return env[k] },
		UserAgent: "modup-test",
		HTTP:      &httpx.Options{RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond},
	}).Registry
}

// Module is a module folder of a test package.
type Module struct {
	Name, DisplayName, Description, Version string
	Tags                                    []string
}

// Zip builds a release zip of package name whose manifest says version,
// with one module folder per module. extra are more files (name → content).
func Zip(t testing.TB, name, version string, mods []Module, extra map[string]string) []byte {
	t.Helper()
	files := map[string]string{"a2modsource.json": string(Manifest(t, name, version, nil))}
	for _, m := range mods {
		nfo := map[string]any{"typ": "nfo", "display_name": m.DisplayName, "description": m.Description,
			"version": m.Version, "author": "tester", "tags": m.Tags}
		b, err := json.Marshal([]any{nfo})
		if err != nil {
			t.Fatal(err)
		}
		files[m.Name+"/a2module.json"] = string(b)
		files[m.Name+"/"+m.Name+".ahk"] = "; " + m.Name + "\n"
	}
	for k, v := range extra {
		files[k] = v
	}
	return ZipFiles(t, files)
}

// ZipFiles zips files (name → content) in name order.
func ZipFiles(t testing.TB, files map[string]string) []byte {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Manifest is an a2modsource.json of name at version with more fields.
func Manifest(t testing.TB, name, version string, fields map[string]any) []byte {
	t.Helper()
	m := map[string]any{"name": name, "version": version, "description": "The " + name + " package.", "maintainer": "tester"}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// SHA256 is the hex digest of b.
func SHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// Pointer is the pointer manifest of a release folder: name at version,
// declaring the zip's sha256 and size.
func Pointer(t testing.TB, name, version string, zip []byte) []byte {
	return Manifest(t, name, version, map[string]any{"sha256": SHA256(zip), "zip_size": len(zip)})
}

// Web is a fake static host: files under paths, each with an ETag and a
// Last-Modified, a 304 to a matching conditional GET, and counters.
type Web struct {
	*httptest.Server

	mu       sync.Mutex
	files    map[string]webFile
	handlers map[string]http.HandlerFunc
	counts   map[string]int // "GET /p/a2modsource.json 304"
	clock    time.Time
}

type webFile struct {
	data []byte
	etag string
	mod  time.Time
}

// NewWeb starts a fake host, closed when the test ends.
func NewWeb(t testing.TB) *Web {
	w := &Web{files: map[string]webFile{}, handlers: map[string]http.HandlerFunc{}, counts: map[string]int{},
		clock: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

// Put publishes data at path ("/pkg/a2modsource.json"), with a new ETag.
func (w *Web) Put(path string, data []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.clock = w.clock.Add(time.Minute)
	w.files[path] = webFile{data: bytes.Clone(data), etag: `"` + SHA256(data)[:16] + `"`, mod: w.clock}
}

// Remove unpublishes path.
func (w *Web) Remove(path string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.files, path)
}

// Handle answers path with fn instead (nil: the file again).
func (w *Web) Handle(path string, fn http.HandlerFunc) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if fn == nil {
		delete(w.handlers, path)
	} else {
		w.handlers[path] = fn
	}
}

// Publish puts a release of name at version into folder dir ("/pkg"): the
// zip and a pointer naming it. It returns the zip.
func (w *Web) Publish(t testing.TB, dir, name, version string, mods []Module) []byte {
	z := Zip(t, name, version, mods, nil)
	w.Put(dir+"/"+version+".zip", z)
	w.Put(dir+"/a2modsource.json", Pointer(t, name, version, z))
	return z
}

// PublishSigned is Publish of a release signed with sec: the pointer
// names sec's public key (as `modup pack --sign` writes it; the zip's own
// manifest does not), and the signature is beside the zip. It returns the
// zip and its signature.
func (w *Web) PublishSigned(t testing.TB, dir, name, version string, sec trust.SecretKey) (zip, sig []byte) {
	t.Helper()
	zip = Zip(t, name, version, nil, nil)
	sig = SignZip(t, sec, zip, name, version)
	w.Put(dir+"/"+version+".zip", zip)
	w.Put(dir+"/"+version+".zip"+sources.SignatureSuffix, sig)
	w.Put(dir+"/a2modsource.json", Manifest(t, name, version, map[string]any{
		"sha256": SHA256(zip), "zip_size": len(zip), "public_key": sec.Public().String()}))
	return zip, sig
}

// SignZip is the release signature of zip as name's version, by sec.
func SignZip(t testing.TB, sec trust.SecretKey, zip []byte, name, version string) []byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), version+".zip")
	if err := os.WriteFile(p, zip, 0o644); err != nil {
		t.Fatal(err)
	}
	sig, _, err := trust.SignRelease(sec, p, name, version, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// Counts returns the requests seen since the last Reset, by
// "METHOD PATH STATUS".
func (w *Web) Counts() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.counts))
	for k, v := range w.counts {
		out[k] = v
	}
	return out
}

// Reset forgets the counts.
func (w *Web) Reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	clear(w.counts)
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (w *Web) serve(rw http.ResponseWriter, r *http.Request) {
	rec := &recorder{ResponseWriter: rw}
	defer func() {
		w.mu.Lock()
		w.counts[fmt.Sprintf("%s %s %d", r.Method, r.URL.Path, rec.status)]++
		w.mu.Unlock()
	}()
	w.mu.Lock()
	f, ok := w.files[r.URL.Path]
	fn := w.handlers[r.URL.Path]
	w.mu.Unlock()
	switch {
	case fn != nil:
		fn(rec, r)
	case !ok:
		http.NotFound(rec, r)
	default:
		rec.Header().Set("ETag", f.etag)
		http.ServeContent(rec, r, r.URL.Path, f.mod, bytes.NewReader(f.data))
	}
}
