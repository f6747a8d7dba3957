package crawl_test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/release"
	"github.com/modup/modup/trust/trusttest"
)

// TestSignedReleaseKeyAndSignatureMirrored: the key the author's pointer
// names is recorded with the version (the zip's own manifest names none)
// and published in its info; the signature is mirrored beside the zip.
// A release signed by another key is recorded with a problem, its
// signature not mirrored; an unsigned one has no key and no signature.
func TestSignedReleaseKeyAndSignatureMirrored(t *testing.T) {
	web := indextest.NewWeb(t)
	pub, sec := trusttest.Key(t)
	_, sig := web.PublishSigned(t, "/hello", "hello", "1.0.0", sec)
	web.Publish(t, "/plain", "plain", "1.0.0", nil)
	f := newFixture(t)
	f.c.Mirror = filepath.Join(t.TempDir(), "mirror")
	hello, plain := web.URL+"/hello", web.URL+"/plain"

	if rep := f.crawl(hello, plain); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	v := f.info("hello").Versions[0]
	if v.PublicKey != pub.String() || problem(v, release.StepSignature) != nil {
		t.Fatalf("hello 1.0.0 = key %q, problems %+v; want the pointer's key and no signature problem", v.PublicKey, v.Problems)
	}
	if bytes.Contains(v.Manifest, []byte("public_key")) {
		t.Fatalf("the zip's manifest names a key; the test wants one that does not: %s", v.Manifest)
	}
	got, err := os.ReadFile(filepath.Join(f.c.Mirror, "hello", "1.0.0.zip.minisig"))
	if err != nil || !bytes.Equal(got, sig) {
		t.Fatalf("mirrored signature = %q, %v; want the author's", got, err)
	}
	if _, ok := f.site().MirroredSignature("hello", "1.0.0"); !ok {
		t.Error("the site does not know the mirrored signature")
	}
	if v := f.info("plain").Versions[0]; v.PublicKey != "" {
		t.Errorf("plain: public_key %q, want none", v.PublicKey)
	}
	if _, err := os.Stat(filepath.Join(f.c.Mirror, "plain", "1.0.0.zip.minisig")); !os.IsNotExist(err) {
		t.Errorf("plain has a mirrored signature: %v", err)
	}

	// 1.1.0's pointer names the key, but someone else signed the zip.
	_, evil := trusttest.Key(t)
	z2, _ := web.PublishSigned(t, "/hello", "hello", "1.1.0", evil)
	web.Put("/hello/a2modsource.json", indextest.Manifest(t, "hello", "1.1.0", map[string]any{
		"sha256": indextest.SHA256(z2), "zip_size": len(z2), "public_key": pub.String()}))
	if rep := f.crawl(hello, plain); rep.Failed() != 0 {
		t.Fatalf("refresh: %+v", rep.Results)
	}
	info := f.info("hello")
	v = info.Versions[0]
	p := problem(v, release.StepSignature)
	if v.Version != "1.1.0" || v.PublicKey != pub.String() || p == nil || p.Blocking || !strings.Contains(p.Detail, "not mirrored") {
		t.Fatalf("hello 1.1.0 = %+v; want the key, and a problem saying the signature is not mirrored", v)
	}
	if _, err := os.Stat(filepath.Join(f.c.Mirror, "hello", "1.1.0.zip.minisig")); !os.IsNotExist(err) {
		t.Errorf("a signature by another key was mirrored: %v", err)
	}
	if _, ok := f.site().MirroredSignature("hello", "1.1.0"); ok {
		t.Error("the site lists the bad signature as mirrored")
	}
	if info.Latest != "1.1.0" {
		t.Errorf("latest = %s: whether a signature stops an install is the client's to decide", info.Latest)
	}
}

// TestOldIndexTakesKeysAndSignatures: a version recorded before the index
// kept keys (blanked here as an old database has it) gets the pointer's
// key on the next refresh, and once mirroring is asked for, its zip and
// signature; a later refresh asks for nothing more.
func TestOldIndexTakesKeysAndSignatures(t *testing.T) {
	web := indextest.NewWeb(t)
	pub, sec := trusttest.Key(t)
	_, sig := web.PublishSigned(t, "/hello", "hello", "1.0.0", sec)
	f := newFixture(t)
	hello := web.URL + "/hello"
	if rep := f.crawl(hello); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	db, err := sql.Open("sqlite", f.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE versions SET public_key = '', signature = ''"); err != nil {
		t.Fatal(err)
	}
	if v := f.info("hello").Versions[0]; v.PublicKey != "" {
		t.Fatalf("the key was not blanked: %q", v.PublicKey)
	}

	f.c.Mirror = filepath.Join(t.TempDir(), "mirror")
	web.Reset()
	rep := f.crawl(hello)
	if rep.Failed() != 0 || !rep.Changed {
		t.Fatalf("refresh: %+v", rep.Results)
	}
	if v := f.info("hello").Versions[0]; v.PublicKey != pub.String() || v.MirrorURL != doc.MirrorURL("hello", "1.0.0") {
		t.Fatalf("after the refresh: %+v; want the pointer's key and the zip mirrored", v)
	}
	got, err := os.ReadFile(filepath.Join(f.c.Mirror, "hello", "1.0.0.zip.minisig"))
	if err != nil || !bytes.Equal(got, sig) {
		t.Fatalf("mirrored signature = %q, %v", got, err)
	}
	if n := web.Counts()["GET /hello/1.0.0.zip.minisig 200"]; n != 1 {
		t.Errorf("signature fetched %d times, want 1 (counts %v)", n, web.Counts())
	}

	web.Reset()
	rep = f.crawl(hello)
	if rep.Changed || rep.Results[0].Downloads != 0 {
		t.Errorf("unchanged refresh = %+v", rep.Results)
	}
	for k := range web.Counts() {
		if strings.Contains(k, ".zip") {
			t.Errorf("an unchanged refresh asked %s", k)
		}
	}
}

// TestOldIndexBadSignatureRecordedOnce: a signature looked for later (a
// version recorded before the index kept signatures) that does not verify
// is recorded as a problem of the version, not mirrored, and not asked for
// again.
func TestOldIndexBadSignatureRecordedOnce(t *testing.T) {
	web := indextest.NewWeb(t)
	_, sec := trusttest.Key(t)
	z, _ := web.PublishSigned(t, "/hello", "hello", "1.0.0", sec)
	f := newFixture(t)
	hello := web.URL + "/hello"
	if rep := f.crawl(hello); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	_, evil := trusttest.Key(t)
	web.Put("/hello/1.0.0.zip.minisig", indextest.SignZip(t, evil, z, "hello", "1.0.0"))
	f.c.Mirror = filepath.Join(t.TempDir(), "mirror")
	if rep := f.crawl(hello); rep.Failed() != 0 {
		t.Fatalf("refresh: %+v", rep.Results)
	}
	v := f.info("hello").Versions[0]
	p := problem(v, release.StepSignature)
	if v.MirrorURL == "" || p == nil || p.Blocking || !strings.Contains(p.Detail, "not mirrored") {
		t.Fatalf("after mirroring: %+v; want the zip mirrored and a signature problem", v)
	}
	if _, err := os.Stat(filepath.Join(f.c.Mirror, "hello", "1.0.0.zip.minisig")); !os.IsNotExist(err) {
		t.Errorf("a signature by another key was mirrored: %v", err)
	}
	web.Reset()
	if rep := f.crawl(hello); rep.Changed {
		t.Errorf("unchanged refresh = %+v", rep.Results)
	}
	if n := web.Counts()["GET /hello/1.0.0.zip.minisig 200"]; n != 0 {
		t.Errorf("the bad signature was asked for again %d times", n)
	}
	if got := f.info("hello").Versions[0].Problems; len(got) != len(v.Problems) {
		t.Errorf("problems %+v, then %+v: recorded twice", v.Problems, got)
	}
}
