package pkgdir

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ScanRoot loads folders in parallel; the result keeps the folder order,
// leaves out what is not a package and keeps broken packages with Err.
func TestScanRootManyPackages(t *testing.T) {
	root := t.TempDir()
	write := func(rel, data string) {
		t.Helper()
		path := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	const n = 300
	var want []string
	for i := range n {
		name := fmt.Sprintf("p%04d", i)
		switch {
		case i%7 == 3: // not a package: no manifest
			write(name+"/readme.txt", "x")
			continue
		case i%11 == 5: // a package whose manifest is broken
			write(name+"/"+ManifestFile, "{")
		default:
			write(name+"/"+ManifestFile, fmt.Sprintf(`{"name": %q, "version": "1.0.%d"}`, name, i))
		}
		want = append(want, name)
	}
	write(".hidden/"+ManifestFile, `{"version": "1.0.0"}`)
	write("file.json", "{}")

	pkgs, err := ScanRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) != len(want) {
		t.Fatalf("ScanRoot found %d packages, want %d", len(pkgs), len(want))
	}
	for i, p := range pkgs {
		if p.Name != want[i] || p.Root != root || p.Dir != filepath.Join(root, want[i]) {
			t.Fatalf("package %d = %s in %s (%s), want %s", i, p.Name, p.Root, p.Dir, want[i])
		}
		var idx int
		fmt.Sscanf(p.Name, "p%d", &idx)
		switch {
		case idx%11 == 5:
			if p.Err == nil || p.Manifest != nil {
				t.Errorf("%s: broken manifest loaded without error", p.Name)
			}
		case p.Err != nil || p.Version() != fmt.Sprintf("1.0.%d", idx):
			t.Errorf("%s: version %q, error %v", p.Name, p.Version(), p.Err)
		}
	}
}
