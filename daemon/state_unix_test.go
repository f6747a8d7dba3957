//go:build unix

package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
)

// TestStateSpecialFiles: a named pipe or a link to /dev/zero in place of
// a state file made the daemon's start (and status) hang or grow without
// limit. Both are skipped at once; the other states are read.
func TestStateSpecialFiles(t *testing.T) {
	root := t.TempDir()
	if err := WriteState(root, State{Name: "ok", Status: "up-to-date"}); err != nil {
		t.Fatal(err)
	}
	dir := pkgdir.Layout{Root: root}.StateDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.json")); err != nil {
		t.Fatal(err)
	}
	type read struct {
		states map[string]State
		err    error
	}
	done := make(chan read, 1)
	go func() {
		s, err := ReadStates(root)
		done <- read{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil || len(r.states) != 1 || r.states["ok"].Status != "up-to-date" {
			t.Errorf("ReadStates = %v, %v; want only ok's", r.states, r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ReadStates hung")
	}
	for _, name := range []string{"pipe", "zero"} {
		if _, err := ReadState(root, name); !errors.Is(err, fsutil.ErrNotRegular) {
			t.Errorf("ReadState(%s) = %v, want ErrNotRegular", name, err)
		}
	}
}

// TestStateFolderHazards: the daemon's state folder (or .modup) as a link
// to a folder of the user's is refused, never written through.
func TestStateFolderHazards(t *testing.T) {
	for _, folder := range []string{".modup", ".modup/state"} {
		for _, kind := range []string{testpkg.HazardLink, testpkg.HazardFile, testpkg.HazardFIFO} {
			t.Run(folder+"/"+kind, func(t *testing.T) {
				root := t.TempDir()
				victim := testpkg.Victim(t, filepath.Join(t.TempDir(), "v"), "hello")
				testpkg.PlaceHazard(t, filepath.Join(root, filepath.FromSlash(folder)), kind, victim)
				before := testpkg.Snapshot(t, victim)
				if err := WriteState(root, State{Name: "hello"}); !errors.Is(err, pkgdir.ErrUnsafeLayout) {
					t.Errorf("WriteState = %v, want ErrUnsafeLayout", err)
				}
				if _, err := ReadStates(root); !errors.Is(err, pkgdir.ErrUnsafeLayout) {
					t.Errorf("ReadStates = %v, want ErrUnsafeLayout", err)
				}
				testpkg.SameSnapshot(t, victim, before)
			})
		}
	}
}
