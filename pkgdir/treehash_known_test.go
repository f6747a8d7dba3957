package pkgdir

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/modup/modup/internal/archive"
)

// TreeHashKnown with the digests of every file, of some, or of none is
// TreeHash; a digest for a path that is not a regular file there changes
// nothing.
func TestTreeHashKnown(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		ManifestFile:        `{"version":"1.0.0"}`,
		"mod/a2module.json": `{}`,
		"mod/main.ahk":      "MsgBox hi",
		"mod/tool.exe*":     "MZ",
		"empty/":            "",
		"lib/deep/x.txt":    "x",
		".modup/ignored":    "not hashed",
	}
	writeTree(t, dir, files)
	want := mustTreeHash(t, dir)
	sums := map[string][sha256.Size]byte{}
	for _, rel := range []string{ManifestFile, "mod/a2module.json", "mod/main.ahk", "mod/tool.exe", "lib/deep/x.txt"} {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		sums[rel] = sha256.Sum256(b)
	}
	partial := map[string][sha256.Size]byte{"mod/main.ahk": sums["mod/main.ahk"]}
	stray := map[string][sha256.Size]byte{"empty": sha256.Sum256(nil), "missing.txt": sha256.Sum256(nil), ".modup/ignored": sha256.Sum256(nil)}
	for name, known := range map[string]map[string][sha256.Size]byte{"all": sums, "some": partial, "none": nil, "stray": stray} {
		got, err := TreeHashKnown(dir, known)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s: TreeHashKnown = %s, TreeHash = %s", name, got, want)
		}
	}
	// The digests are trusted: a wrong one gives another hash (which is
	// why only the writer of the files may hand them over).
	wrong := map[string][sha256.Size]byte{"mod/main.ahk": sha256.Sum256([]byte("other"))}
	if got, _ := TreeHashKnown(dir, wrong); got == want {
		t.Error("a wrong digest did not change the hash")
	}
}

// The digests Extract computes while writing give the tree hash of what it
// wrote, wrapper folder, executables and implied folders included.
func TestTreeHashKnownFromExtract(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, mode os.FileMode, data string) {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(data))
	}
	add("pkg-1.2.0/", os.ModeDir|0o755, "")
	add("pkg-1.2.0/"+ManifestFile, 0o644, `{"name":"pkg","version":"1.2.0"}`)
	add("pkg-1.2.0/mod/main.ahk", 0o644, "MsgBox hi")
	add("pkg-1.2.0/mod/run.sh", 0o755, "#!/bin/sh\n")
	add("pkg-1.2.0/lib/deep/data.bin", 0o644, string(bytes.Repeat([]byte{7}, 100000)))
	add("pkg-1.2.0/empty/", os.ModeDir|0o755, "")
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	res, err := archive.Extract(t.Context(), bytes.NewReader(buf.Bytes()), int64(buf.Len()), dest, archive.Options{Digests: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Digests) != 4 {
		t.Errorf("Extract gave %d digests, want 4: %v", len(res.Digests), res.Digests)
	}
	got, err := TreeHashKnown(res.Root, res.Digests)
	if err != nil {
		t.Fatal(err)
	}
	if want := mustTreeHash(t, res.Root); got != want {
		t.Errorf("TreeHashKnown with Extract's digests = %s, TreeHash = %s", got, want)
	}
}
