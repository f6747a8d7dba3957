//go:build unix

package fs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/modup/modup/sources"
)

// A FIFO named like the manifest or a release must be refused, not read
// (reading would block forever).
func TestFIFOIsRefused(t *testing.T) {
	r := newRemote(t)
	if err := syscall.Mkfifo(filepath.Join(r.dir, "a2modsource.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New().Latest(t.Context(), r.Query(t)); !errors.Is(err, sources.ErrInvalid) {
		t.Fatalf("Latest on a FIFO: err = %v, want ErrInvalid", err)
	}
	if err := os.Remove(filepath.Join(r.dir, "a2modsource.json")); err != nil {
		t.Fatal(err)
	}
	r.Point(t, "1.0.0", nil)
	if err := syscall.Mkfifo(filepath.Join(r.dir, "1.0.0.zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New().Resolve(t.Context(), r.Query(t), sources.Release{Version: "1.0.0"}); !errors.Is(err, sources.ErrInvalid) {
		t.Fatalf("Resolve on a FIFO: err = %v, want ErrInvalid", err)
	}
}
