//go:build unix

package testpkg

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// PlaceHazard puts kind at path, which must not exist (its folder is
// created): a link to victim, a file, or a named pipe.
func PlaceHazard(t testing.TB, path, kind, victim string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	switch kind {
	case HazardLink:
		err = os.Symlink(victim, path)
	case HazardFile:
		err = os.WriteFile(path, []byte("a file"), 0o644)
	case HazardFIFO:
		err = syscall.Mkfifo(path, 0o644)
	default:
		t.Fatalf("unknown hazard %q", kind)
	}
	if err != nil {
		t.Fatal(err)
	}
}
