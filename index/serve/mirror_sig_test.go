package serve_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/index/crawl"
	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/serve"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/trust/trusttest"
)

// TestMirroredSignatureServedAndExported: a signed package crawled with a
// mirror: its info carries the key, /mirror/NAME/VERSION.zip.minisig
// answers the signature (a package without one: 404), an export copies it
// and removes it with its package; a signature changed in the mirror is
// neither served nor exported.
func TestMirroredSignatureServedAndExported(t *testing.T) {
	web := indextest.NewWeb(t)
	pub, sec := trusttest.Key(t)
	_, sig := web.PublishSigned(t, "/hello", "hello", "1.0.0", sec)
	web.Publish(t, "/plain", "plain", "1.0.0", nil)
	dir := t.TempDir()
	st, err := store.Open(t.Context(), filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	mirror := filepath.Join(dir, "mirror")
	urls := []string{web.URL + "/hello", web.URL + "/plain"}
	if _, _, err := st.SetSources(t.Context(), urls); err != nil {
		t.Fatal(err)
	}
	c := &crawl.Crawler{Registry: indextest.Registry(t), Store: st, Mirror: mirror}
	if rep, err := c.Run(t.Context(), urls); err != nil || rep.Failed() > 0 {
		t.Fatalf("build: %+v %v", rep.Results, err)
	}
	srv, err := serve.New(t.Context(), st, serve.Options{Mirror: mirror})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()

	resp, body := get(t, hs.URL+"/info/packages/hello.json", nil)
	var info doc.PackageInfo
	if resp.StatusCode != 200 || doc.Decode(body, "info", &info) != nil || info.Versions[0].PublicKey != pub.String() {
		t.Fatalf("info: %s %s; want public_key %s", resp.Status, body, pub)
	}
	resp, body = get(t, hs.URL+"/mirror/hello/1.0.0.zip.minisig", nil)
	if resp.StatusCode != 200 || !bytes.Equal(body, sig) || resp.Header.Get("Content-Type") != publish.SignatureContentType {
		t.Fatalf("signature: %s %q %s", resp.Status, body, resp.Header.Get("Content-Type"))
	}
	if r, _ := get(t, hs.URL+"/mirror/hello/1.0.0.zip.minisig", map[string]string{"If-None-Match": resp.Header.Get("ETag")}); r.StatusCode != http.StatusNotModified {
		t.Errorf("signature 304: %s", r.Status)
	}
	for _, p := range []string{"/mirror/plain/1.0.0.zip.minisig", "/mirror/hello/2.0.0.zip.minisig", "/mirror/hello/..zip.minisig"} {
		if r, _ := get(t, hs.URL+p, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", p, r.Status)
		}
	}

	snap, err := st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	rep, err := publish.Export(t.Context(), publish.Build(snap, publish.Options{Mirror: true}), &publish.Writer{}, out, mirror)
	if err != nil || rep.Zips != 2 || rep.Signatures != 1 {
		t.Fatalf("export = %+v, %v; want 2 zips, 1 signature", rep, err)
	}
	exported := filepath.Join(out, "mirror", "hello", "1.0.0.zip.minisig")
	if got, err := os.ReadFile(exported); err != nil || !bytes.Equal(got, sig) {
		t.Fatalf("exported signature = %q, %v", got, err)
	}
	if _, err := os.Stat(filepath.Join(out, "mirror", "plain", "1.0.0.zip.minisig")); !os.IsNotExist(err) {
		t.Errorf("plain's signature exported: %v", err)
	}

	// Changed in the mirror (same size): not served, not exported.
	tampered := bytes.Replace(sig, []byte("trusted comment: modup"), []byte("trusted comment: MODUP"), 1)
	if err := os.WriteFile(filepath.Join(mirror, "hello", "1.0.0.zip.minisig"), tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, _ := get(t, hs.URL+"/mirror/hello/1.0.0.zip.minisig", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("a changed signature: %s, want 404", r.Status)
	}
	if err := os.Remove(exported); err != nil {
		t.Fatal(err)
	}
	_, err = publish.Export(t.Context(), publish.Build(snap, publish.Options{Mirror: true}), &publish.Writer{}, out, mirror)
	if err == nil || !strings.Contains(err.Error(), "the mirror was changed") {
		t.Errorf("export of a changed signature: err = %v", err)
	}
	if _, err := os.Stat(exported); !os.IsNotExist(err) {
		t.Errorf("a changed signature was exported: %v", err)
	}

	// hello leaves the index: its signature leaves the export.
	if err := os.WriteFile(filepath.Join(mirror, "hello", "1.0.0.zip.minisig"), sig, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Export(t.Context(), publish.Build(snap, publish.Options{Mirror: true}), &publish.Writer{}, out, mirror); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.SetSources(t.Context(), urls[1:]); err != nil {
		t.Fatal(err)
	}
	snap, _ = st.Snapshot(t.Context())
	if _, err := publish.Export(t.Context(), publish.Build(snap, publish.Options{Mirror: true}), &publish.Writer{}, out, mirror); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(exported); !os.IsNotExist(err) {
		t.Errorf("the signature of a package no longer indexed is still exported: %v", err)
	}
}
