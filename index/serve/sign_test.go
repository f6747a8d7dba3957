package serve_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/serve"
	"github.com/modup/modup/trust"
)

func signer(t *testing.T, validFor time.Duration) (*publish.Signer, trust.PublicKey) {
	t.Helper()
	pub, sec, err := trust.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return &publish.Signer{Key: sec, ValidFor: validFor}, pub
}

// verify checks that sig signs body as the document at path, with key,
// and returns when it expires.
func verify(t *testing.T, key trust.PublicKey, path string, body, sig []byte) time.Time {
	t.Helper()
	c, _, err := trust.VerifyDocument([]trust.PublicKey{key}, body, sig, time.Now())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if d, _ := c.Get(publish.FieldDoc); d != path {
		t.Errorf("%s: the signature names the document %q", path, d)
	}
	exp, ok, err := c.Time(trust.FieldExpires)
	if !ok || err != nil {
		t.Fatalf("%s: no expiry in %v (%v)", path, c, err)
	}
	return exp
}

// A signed index serves a signature beside the package list and every
// package's info; each verifies with the key, names its document, and
// expires --valid-for after signing; the root says the key and expiry.
// What clients do not act on is not signed.
func TestSignedIndexServesSignatures(t *testing.T) {
	ix := newIndex(t)
	sg, pub := signer(t, 7*24*time.Hour)
	srv, err := serve.New(t.Context(), ix.st, serve.Options{Signer: sg})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	for _, path := range []string{doc.PackageListPath, doc.PackageInfoPath("hello"), doc.PackageInfoPath("notes")} {
		_, body := get(t, h.URL+"/"+doc.FileName(path), nil)
		resp, sig := get(t, h.URL+"/"+doc.FileName(path)+doc.SignatureSuffix, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%s signature: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		exp := verify(t, pub, path, body, sig)
		if d := time.Until(exp); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour+time.Minute {
			t.Errorf("%s expires in %v, want --valid-for", path, d)
		}
		// 304 on a conditional request for the signature too.
		if resp, _ := get(t, h.URL+"/"+doc.FileName(path)+doc.SignatureSuffix, map[string]string{"If-None-Match": resp.Header.Get("ETag")}); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s signature: conditional request answered %d", path, resp.StatusCode)
		}
	}
	// A signature does not vouch for another document.
	_, hello := get(t, h.URL+"/"+doc.FileName(doc.PackageInfoPath("hello")), nil)
	_, notesSig := get(t, h.URL+"/"+doc.FileName(doc.PackageInfoPath("notes"))+doc.SignatureSuffix, nil)
	if _, _, err := trust.VerifyDocument([]trust.PublicKey{pub}, hello, notesSig, time.Now()); err == nil {
		t.Error("notes' signature verified hello's info")
	}
	for _, p := range []string{"/list/modules.json.minisig", "/index.json.minisig", "/info/modules/greet.json.minisig", "/info/packages/nosuch.json.minisig"} {
		if resp, _ := get(t, h.URL+p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", p, resp.StatusCode)
		}
	}
	_, rootBody := get(t, h.URL+"/index.json", nil)
	var root doc.Root
	if err := doc.Decode(rootBody, "index.json", &root); err != nil {
		t.Fatal(err)
	}
	if root.PublicKey != pub.String() || root.Expires == nil || time.Until(*root.Expires) < 6*24*time.Hour {
		t.Errorf("root: public_key %q (want %q), expires %v", root.PublicKey, pub.String(), root.Expires)
	}
	// An unsigned index has no signatures.
	if resp, _ := get(t, ix.http.URL+"/list/packages.json.minisig", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("an unsigned index answered a signature: %d", resp.StatusCode)
	}
}

// A serving index signs again once half the validity has passed: it never
// hands out a signature about to expire, even when nothing changed.
func TestSignedIndexResigns(t *testing.T) {
	ix := newIndex(t)
	sg, pub := signer(t, 4*time.Second)
	srv, err := serve.New(t.Context(), ix.st, serve.Options{Signer: sg})
	if err != nil {
		t.Fatal(err)
	}
	h := httptest.NewServer(srv)
	t.Cleanup(h.Close)
	url := h.URL + "/" + doc.FileName(doc.PackageListPath)
	_, body := get(t, url, nil)
	_, sig := get(t, url+doc.SignatureSuffix, nil)
	first := verify(t, pub, doc.PackageListPath, body, sig)
	time.Sleep(2100 * time.Millisecond)
	_, body2 := get(t, url, nil)
	_, sig2 := get(t, url+doc.SignatureSuffix, nil)
	second := verify(t, pub, doc.PackageListPath, body2, sig2)
	if !second.After(first) {
		t.Errorf("signature expiring %v was not renewed (still %v) after half its validity", first, second)
	}
	if string(body) != string(body2) {
		t.Error("re-signing changed the document itself (its ETag would change for nothing)")
	}
}

// An export with a signer writes each signature beside its document; an
// export without one removes them.
func TestSignedExport(t *testing.T) {
	ix := newIndex(t)
	sg, pub := signer(t, time.Hour)
	snap, err := ix.st.Snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	site := publish.Build(snap, publish.Options{})
	dir := t.TempDir()
	if _, err := publish.Export(t.Context(), site, &publish.Writer{Signer: sg}, dir, ""); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{doc.PackageListPath, doc.PackageInfoPath("hello"), doc.PackageInfoPath("notes")} {
		body, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(doc.FileName(path))))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(doc.FileName(path)+doc.SignatureSuffix)))
		if err != nil {
			t.Fatal(err)
		}
		verify(t, pub, path, body, sig)
	}
	if _, err := publish.Export(t.Context(), site, &publish.Writer{}, dir, ""); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*", "*.minisig"))
	more, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.minisig"))
	if len(matches)+len(more) != 0 {
		t.Errorf("an unsigned export left signatures: %v %v", matches, more)
	}
}
