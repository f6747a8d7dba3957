package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/trust/trusttest"
	"github.com/modup/modup/updater"
)

// A pinned package whose newer release is signed by another key: the
// daemon logs signature-invalid as a warning, records it in the state, and
// installs nothing, even with --policy auto.
func TestDaemonRefusesABadSignature(t *testing.T) {
	f := newFixture(t)
	rel := filepath.Join(f.rels, "pkg")
	pinned, _ := trusttest.Key(t)
	otherPub, other := trusttest.Key(t)
	z := testpkg.Zip(t, "", map[string]string{
		"a2modsource.json": testpkg.Manifest("pkg", "1.1.0", ""),
		"mod/code.ahk":     "version 1.1.0",
	})
	zipPath := filepath.Join(rel, "1.1.0.zip")
	testpkg.WriteFile(t, zipPath, string(z))
	testpkg.WriteFile(t, zipPath+".minisig", string(trusttest.SignRelease(t, other, zipPath, "pkg", "1.1.0", time.Now())))
	sum := sha256.Sum256(z)
	m, _ := json.Marshal(map[string]any{"name": "pkg", "version": "1.1.0", "sha256": hex.EncodeToString(sum[:]), "public_key": otherPub.String()})
	testpkg.WriteFile(t, filepath.Join(rel, "a2modsource.json"), string(m))

	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	testpkg.WriteFile(t, filepath.Join(dir, "mod", "code.ahk"), "version 1.0.0")
	l := pkgdir.Layout{Root: f.root}
	if err := l.WriteRecord("pkg", pkgdir.Record{Version: "1.0.0", Pin: &pkgdir.Pin{Keys: []string{pinned.String()}, Name: "pkg", From: pkgdir.PinByHand}}); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	waitFor(t, "check", f.logs, func() bool { return f.logs.count("check", "pkg", "status", "signature-invalid", "level", "WARN") == 1 })
	waitFor(t, "state", f.logs, func() bool {
		st, err := ReadState(f.root, "pkg")
		return err == nil && st.Status == updater.StatusSignatureInvalid && st.Error != ""
	})
	if n := f.logs.count("install", "pkg"); n != 0 {
		t.Errorf("installed a release signed by another key; log:\n%s", f.logs.dump())
	}
	if got := installed(t, dir); got != "version 1.0.0" {
		t.Errorf("installed content = %q", got)
	}
	if _, err := os.Stat(l.BackupsDir()); err == nil {
		t.Error("a backup was made")
	}
}
