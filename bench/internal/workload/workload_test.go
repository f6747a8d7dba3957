package workload

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/pkgdir"
)

// A generated zip is what modup accepts, holds the requested number of
// files at about the requested size, and is the same bytes every time.
func TestWriteZip(t *testing.T) {
	dir := t.TempDir()
	spec := ZipSpec{Name: "demo", Version: "2.0.0", Files: 300, Bytes: 2 << 20, Seed: 7}
	a, err := WriteZip(filepath.Join(dir, "a.zip"), spec)
	if err != nil {
		t.Fatal(err)
	}
	b, err := WriteZip(filepath.Join(dir, "b.zip"), spec)
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 {
		t.Error("two zips of one spec differ")
	}
	if a.Files != spec.Files {
		t.Errorf("%d files, want %d", a.Files, spec.Files)
	}
	if a.ZipBytes < spec.Bytes*7/10 || a.ZipBytes > spec.Bytes*13/10 {
		t.Errorf("zip of %d bytes, want about %d", a.ZipBytes, spec.Bytes)
	}
	if a.RawBytes < a.ZipBytes*11/10 {
		t.Errorf("unpacked %d bytes for a %d-byte zip: the text should compress", a.RawBytes, a.ZipBytes)
	}
	dest := filepath.Join(dir, "x")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := archive.ExtractFile(t.Context(), filepath.Join(dir, "a.zip"), dest, archive.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != spec.Files || res.Bytes != a.RawBytes {
		t.Errorf("extracted %d files, %d bytes; generated %d, %d", res.Files, res.Bytes, a.Files, a.RawBytes)
	}
	m, err := pkgdir.ReadManifest(res.Root)
	if err != nil || m.Version != "2.0.0" || m.Name != "demo" {
		t.Errorf("manifest %+v, %v", m, err)
	}
}

func TestWriteRoot(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	if err := WriteRoot(root, 20, "http://127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	pkgs, err := pkgdir.ScanRoot(root)
	if err != nil || len(pkgs) != 20 {
		t.Fatalf("ScanRoot = %d packages, %v", len(pkgs), err)
	}
	for _, p := range pkgs {
		if p.Err != nil || p.Version() != "1.0.0" || p.Manifest.UpdateURL != "http://127.0.0.1:9/p/"+p.Name+"/" {
			t.Errorf("%s: %+v %v", p.Name, p.Manifest, p.Err)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(ManifestJSON("x", "1.0.0", "", map[string]any{"zip_size": 3}), &m); err != nil || m["zip_size"] != 3.0 {
		t.Errorf("ManifestJSON extra fields: %v %v", m, err)
	}
}
