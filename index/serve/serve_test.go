package serve_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/crawl"
	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/serve"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/indextest"
)

// index is a built index of two web packages, mirrored, and its server.
type index struct {
	web    *indextest.Web
	st     *store.Store
	mirror string
	srv    *serve.Server
	http   *httptest.Server
	zip    []byte // hello 1.0.0
	c      *crawl.Crawler
}

func newIndex(t *testing.T) *index {
	t.Helper()
	web := indextest.NewWeb(t)
	z := web.Publish(t, "/hello", "hello", "1.0.0", []indextest.Module{{Name: "greet", Description: "Says hello.", Version: "1.0", Tags: []string{"fun"}}})
	web.Publish(t, "/notes", "notes", "0.2.0", []indextest.Module{{Name: "greet", Description: "Another greeter."}, {Name: "jot", Description: "Jots."}})
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ix := &index{web: web, st: st, mirror: filepath.Join(dir, "mirror"), zip: z}
	ix.c = &crawl.Crawler{Registry: indextest.Registry(t), Store: st, Mirror: ix.mirror}
	urls := []string{web.URL + "/hello", web.URL + "/notes"}
	if _, _, err := st.SetSources(t.Context(), urls); err != nil {
		t.Fatal(err)
	}
	if rep, err := ix.c.Run(t.Context(), urls); err != nil || rep.Failed() > 0 {
		t.Fatalf("build: %+v %v", rep.Results, err)
	}
	ix.srv, err = serve.New(t.Context(), st, serve.Options{Mirror: ix.mirror})
	if err != nil {
		t.Fatal(err)
	}
	ix.http = httptest.NewServer(ix.srv)
	t.Cleanup(ix.http.Close)
	return ix
}

func get(t *testing.T, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// No transparent gunzip: the test looks at what was sent.
	resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// TestEveryEndpoint: every document at its path and its .json name, the
// same bytes, valid as a client reads it, with validators that give 304s,
// and gzip when asked.
func TestEveryEndpoint(t *testing.T) {
	ix := newIndex(t)
	cases := []struct {
		path, file string
		doc        func() doc.Document
		check      func(t *testing.T, d doc.Document)
	}{
		{"/", "/index.json", func() doc.Document { return &doc.Root{} }, func(t *testing.T, d doc.Document) {
			r := d.(*doc.Root)
			if r.Packages != 2 || r.Versions != 2 || len(r.Sources) != 2 || r.Generated.IsZero() || r.Sources[0].Name != "hello" {
				t.Errorf("root = %+v", r)
			}
		}},
		{"/list", "/list.json", func() doc.Document { return &doc.List{} }, func(t *testing.T, d doc.Document) {
			l := d.(*doc.List)
			if strings.Join(l.Packages, ",") != "hello,notes" || strings.Join(l.Modules, ",") != "greet,jot" {
				t.Errorf("list = %+v", l)
			}
		}},
		{"/list/packages", "/list/packages.json", func() doc.Document { return &doc.PackageList{} }, func(t *testing.T, d doc.Document) {
			l := d.(*doc.PackageList)
			if len(l.Packages) != 2 || l.Packages[0].Name != "hello" || l.Packages[0].SHA256 != indextest.SHA256(ix.zip) ||
				l.Packages[0].Version != "1.0.0" || strings.Join(l.Packages[1].Modules, ",") != "greet,jot" || l.Generated.IsZero() {
				t.Errorf("packages = %+v", l)
			}
		}},
		{"/list/modules", "/list/modules.json", func() doc.Document { return &doc.ModuleList{} }, func(t *testing.T, d doc.Document) {
			l := d.(*doc.ModuleList)
			if len(l.Modules) != 3 || l.Modules[0].Name != "greet" || l.Modules[0].Package != "hello" || l.Modules[2].Name != "jot" {
				t.Errorf("modules = %+v", l)
			}
		}},
		{"/info/packages", "/info/packages.json", func() doc.Document { return &doc.PackageInfos{} }, func(t *testing.T, d doc.Document) {
			if l := d.(*doc.PackageInfos); len(l.Packages) != 2 {
				t.Errorf("infos = %+v", l)
			}
		}},
		{"/info/packages/hello", "/info/packages/hello.json", func() doc.Document { return &doc.PackageInfo{} }, func(t *testing.T, d doc.Document) {
			p := d.(*doc.PackageInfo)
			if p.Latest != "1.0.0" || len(p.Versions) != 1 || p.Versions[0].MirrorURL != "mirror/hello/1.0.0.zip" {
				t.Errorf("info = %+v", p)
			}
		}},
		{"/info/modules/greet", "/info/modules/greet.json", func() doc.Document { return &doc.ModuleInfo{} }, func(t *testing.T, d doc.Document) {
			m := d.(*doc.ModuleInfo)
			if len(m.Packages) != 2 || m.Packages[0].Package != "hello" || m.Packages[1].Description != "Another greeter." {
				t.Errorf("module info = %+v", m)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, ix.http.URL+tc.path, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Fatalf("GET %s: %s %s", tc.path, resp.Status, resp.Header.Get("Content-Type"))
			}
			d := tc.doc()
			if err := doc.Decode(body, tc.path, d); err != nil {
				t.Fatal(err)
			}
			tc.check(t, d)
			resp2, body2 := get(t, ix.http.URL+tc.file, nil)
			if resp2.StatusCode != http.StatusOK || !bytes.Equal(body, body2) {
				t.Errorf("GET %s: %s, %d bytes; want the same bytes as %s", tc.file, resp2.Status, len(body2), tc.path)
			}
			etag, mod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
			if etag == "" || mod == "" || resp2.Header.Get("ETag") != etag {
				t.Fatalf("validators: ETag %q Last-Modified %q (and %q at %s)", etag, mod, resp2.Header.Get("ETag"), tc.file)
			}
			for _, h := range []map[string]string{{"If-None-Match": etag}, {"If-Modified-Since": mod}} {
				r, b := get(t, ix.http.URL+tc.file, h)
				if r.StatusCode != http.StatusNotModified || len(b) != 0 {
					t.Errorf("GET %s with %v: %s and %d bytes, want 304 without a body", tc.file, h, r.Status, len(b))
				}
			}
			if r, _ := get(t, ix.http.URL+tc.file, map[string]string{"If-None-Match": `"other"`}); r.StatusCode != http.StatusOK {
				t.Errorf("another ETag: %s, want 200", r.Status)
			}
			r, gz := get(t, ix.http.URL+tc.file, map[string]string{"Accept-Encoding": "gzip, br"})
			if r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Vary") != "Accept-Encoding" {
				t.Fatalf("gzip asked: Content-Encoding %q, Vary %q", r.Header.Get("Content-Encoding"), r.Header.Get("Vary"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(gz))
			if err != nil {
				t.Fatal(err)
			}
			plain, err := io.ReadAll(zr)
			if err != nil || !bytes.Equal(plain, body) {
				t.Errorf("gunzipped body differs (%v)", err)
			}
			if r, _ := get(t, ix.http.URL+tc.file, map[string]string{"Accept-Encoding": "gzip", "If-None-Match": r.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
				t.Errorf("gzip ETag: %s, want 304", r.Status)
			}
		})
	}
}

// TestExactNames: anything that is not exactly a document is a JSON 404;
// the server is read-only.
func TestExactNames(t *testing.T) {
	ix := newIndex(t)
	for _, p := range []string{
		"/info/packages/nope", "/info/packages/nope.json", "/info/packages/../list", "/list/../list",
		"/info/packages/hello%2F..%2F..", "/info/packages/hel%6Co", "/info/packages//hello", "/info/packages/hello/",
		"/list.json.json", "/info/modules/nope", "/mirror/hello/9.9.9.zip", "/mirror/hello/1.0.0.zip/x",
		"/mirror/hello/..%2F..%2Findex.db", "/mirror/.tmp/x.zip", "/index.db", "/LIST",
	} {
		resp, body := get(t, ix.http.URL+p, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"error"`) {
			t.Errorf("GET %s: %s %q, want a JSON 404", p, resp.Status, body)
		}
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ix.http.URL+"/list", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %s, Allow %q", resp.Status, resp.Header.Get("Allow"))
	}
	// ?names= picks packages; an invalid name is a 400.
	resp, body := get(t, ix.http.URL+"/info/packages.json?names=notes,nope", nil)
	var infos doc.PackageInfos
	if err := doc.Decode(body, "names", &infos); err != nil || resp.StatusCode != 200 || len(infos.Packages) != 1 || infos.Packages[0].Name != "notes" {
		t.Errorf("?names=notes,nope: %s %d packages (%v)", resp.Status, len(infos.Packages), err)
	}
	resp, body = get(t, ix.http.URL+"/info/packages?names=hello%2Cnotes", nil)
	if err := doc.Decode(body, "names", &infos); err != nil || resp.StatusCode != 200 || len(infos.Packages) != 2 {
		t.Errorf("?names=hello%%2Cnotes: %s %d packages (%v)", resp.Status, len(infos.Packages), err)
	}
	if resp, _ := get(t, ix.http.URL+"/info/packages?names=../x", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("?names=../x: %s, want 400", resp.Status)
	}
}

// TestMirrorServed: the mirrored zip is served at mirror_url with its
// sha256 as ETag, and ranges work.
func TestMirrorServed(t *testing.T) {
	ix := newIndex(t)
	resp, body := get(t, ix.http.URL+"/mirror/hello/1.0.0.zip", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, ix.zip) || resp.Header.Get("ETag") != `"`+indextest.SHA256(ix.zip)+`"` {
		t.Fatalf("mirror: %s, %d bytes, ETag %s", resp.Status, len(body), resp.Header.Get("ETag"))
	}
	if r, _ := get(t, ix.http.URL+"/mirror/hello/1.0.0.zip", map[string]string{"If-None-Match": resp.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
		t.Errorf("mirror 304: %s", r.Status)
	}
	if r, b := get(t, ix.http.URL+"/mirror/hello/1.0.0.zip", map[string]string{"Range": "bytes=0-1"}); r.StatusCode != http.StatusPartialContent || string(b) != "PK" {
		t.Errorf("range: %s %q", r.Status, b)
	}
}

// TestReloadAfterRefresh: a refresh that changes data is served after the
// reload; generated moves, and the old ETag no longer matches.
func TestReloadAfterRefresh(t *testing.T) {
	ix := newIndex(t)
	resp, _ := get(t, ix.http.URL+"/list/packages.json", nil)
	old := resp.Header.Get("ETag")
	time.Sleep(5 * time.Millisecond) // generated is in milliseconds
	ix.web.Publish(t, "/hello", "hello", "1.1.0", nil)
	urls, _ := ix.st.SourceURLs(t.Context())
	if _, err := ix.c.Run(t.Context(), urls); err != nil {
		t.Fatal(err)
	}
	if err := ix.srv.Reload(t.Context()); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, ix.http.URL+"/list/packages.json", map[string]string{"If-None-Match": old})
	var l doc.PackageList
	if resp.StatusCode != 200 || doc.Decode(body, "list", &l) != nil || l.Packages[0].Version != "1.1.0" {
		t.Fatalf("after refresh: %s %s", resp.Status, body)
	}
}

// TestExportServedByFileServer: an export on a plain static file server
// answers the same bytes at the same .json names as the index server, and
// its files carry the documents' modification times.
func TestExportServedByFileServer(t *testing.T) {
	ix := newIndex(t)
	snap, err := ix.st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	site := publish.Build(snap, publish.Options{Mirror: true})
	out := t.TempDir()
	rep, err := publish.Export(t.Context(), site, &publish.Writer{}, out, ix.mirror)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != len(site.Paths()) || rep.Zips != 2 {
		t.Errorf("export = %+v, want %d documents and 2 zips", rep, len(site.Paths()))
	}
	static := httptest.NewServer(http.FileServer(http.Dir(out)))
	defer static.Close()
	for _, p := range append(site.Paths(), "/mirror/hello/1.0.0.zip") {
		name := "/" + doc.FileName(p)
		if strings.HasPrefix(p, "/mirror/") {
			name = p
		}
		r1, b1 := get(t, ix.http.URL+name, nil)
		r2, b2 := get(t, static.URL+name, nil)
		if r1.StatusCode != 200 || r2.StatusCode != 200 || !bytes.Equal(b1, b2) {
			t.Errorf("%s: index %s, static %s; same bytes %v", name, r1.Status, r2.Status, bytes.Equal(b1, b2))
		}
		if strings.HasSuffix(name, ".json") && r1.Header.Get("Last-Modified") != r2.Header.Get("Last-Modified") {
			t.Errorf("%s: Last-Modified %q served, %q exported", name, r1.Header.Get("Last-Modified"), r2.Header.Get("Last-Modified"))
		}
	}
	// Exporting again changes nothing; a removed package's files go.
	rep, err = publish.Export(t.Context(), site, &publish.Writer{}, out, ix.mirror)
	if err != nil || rep.Written != 0 || rep.Removed != 0 {
		t.Errorf("second export = %+v, %v; want nothing written", rep, err)
	}
	if _, _, err := ix.st.SetSources(t.Context(), []string{ix.web.URL + "/hello"}); err != nil {
		t.Fatal(err)
	}
	snap, _ = ix.st.Snapshot(t.Context())
	rep, err = publish.Export(t.Context(), publish.Build(snap, publish.Options{Mirror: true}), &publish.Writer{}, out, ix.mirror)
	if err != nil || rep.Removed != 3 { // notes.json, jot.json, notes' zip
		t.Errorf("export after removing notes = %+v, %v; want 3 files removed", rep, err)
	}
	for _, gone := range []string{"info/packages/notes.json", "info/modules/jot.json", "mirror/notes/0.2.0.zip"} {
		if _, err := os.Stat(filepath.Join(out, gone)); !os.IsNotExist(err) {
			t.Errorf("%s still exported (%v)", gone, err)
		}
	}
}
