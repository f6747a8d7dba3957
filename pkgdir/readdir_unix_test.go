//go:build linux || darwin

package pkgdir

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// readDirIn types each entry as itself (a link is a link, never
// followed) and reads its Info inside the Root.
func TestReadDirInTypes(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "file.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "target"), []byte("far away"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "target"), filepath.Join(dir, "link.json")); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ents, err := readDirIn(r, ".")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]fs.DirEntry{}
	for _, e := range ents {
		got[e.Name()] = e
	}
	tests := []struct {
		name     string
		typ      fs.FileMode
		infoSize int64 // -1: not checked (a folder)
	}{
		{name: "file.json", typ: 0, infoSize: 2},
		{name: "sub", typ: fs.ModeDir, infoSize: -1},
		{name: "link.json", typ: fs.ModeSymlink, infoSize: int64(len(filepath.Join(outside, "target")))},
	}
	if len(got) != len(tests) {
		t.Fatalf("readDirIn listed %d entries, want %d", len(got), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := got[tt.name]
			if !ok {
				t.Fatalf("%s not listed", tt.name)
			}
			if e.Type() != tt.typ {
				t.Errorf("Type() = %v, want %v", e.Type(), tt.typ)
			}
			info, err := e.Info()
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			if info.Mode().Type() != tt.typ {
				t.Errorf("Info().Mode().Type() = %v, want %v (the entry itself, not followed)", info.Mode().Type(), tt.typ)
			}
			if tt.infoSize >= 0 && info.Size() != tt.infoSize {
				t.Errorf("Info().Size() = %d, want %d", info.Size(), tt.infoSize)
			}
		})
	}
	// Removed after the listing: Info says it does not exist.
	if err := os.Remove(filepath.Join(dir, "file.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := got["file.json"].Info(); !os.IsNotExist(err) {
		t.Errorf("Info of a removed entry: %v, want not exist", err)
	}
}
