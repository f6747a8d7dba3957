//go:build unix

package main

import (
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/modup/modup/release"
)

// advStartUmask starts modup in a child process under umask (octal, as
// the shell takes it): the umask is the whole process's, so tests do not
// change their own.
func advStartUmask(t *testing.T, umask string, args ...string) *advProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary acts as modup when called by that name.
	link := filepath.Join(t.TempDir(), "modup")
	if err := os.Symlink(exe, link); err != nil {
		t.Fatal(err)
	}
	return advLaunch(t, exec.Command("/bin/sh", append([]string{"-c", "umask " + umask + ` && exec "$0" "$@"`, link}, args...)...))
}

// TestInstallModesOverHTTP: `install` over http into a root that does not
// exist made the root and .modup 0700 (the request cache made them) and,
// from a zip without a wrapper folder, the package folder 0700 too. They
// follow the umask.
func TestInstallModesOverHTTP(t *testing.T) {
	base := t.TempDir()
	rel := filepath.Join(base, "release")
	advPublish(t, rel, "hello", "1.0.0", map[string]advFiles{"1.0.0": advTree("hello", "1.0.0", "", 3, 32)})
	// What `modup serve` answers: with ETags, so the request cache keeps
	// the manifest (and once made the root and .modup for it, at 0700).
	h, err := release.NewHandler(rel, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	srv := httptest.NewServer(h)
	defer srv.Close()
	root := filepath.Join(base, "new", "root")

	p := advStartUmask(t, "022", "install", srv.URL, "--root", root)
	p.wait(t, 60*time.Second)
	if p.code != 0 {
		t.Fatalf("%v", p)
	}
	for path, want := range map[string]fs.FileMode{
		filepath.Join(base, "new"):                       0o755,
		root:                                             0o755,
		filepath.Join(root, ".modup"):                    0o755,
		filepath.Join(root, "hello"):                     0o755,
		filepath.Join(root, "hello", "mod00"):            0o755,
		filepath.Join(root, "hello", "a2modsource.json"): 0o644,
	} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if got := fi.Mode() &^ fs.ModeDir; got != want {
			t.Errorf("%s has mode %v, want %v", path, got, want)
		}
	}
	// The request cache (manifests, perhaps of private repositories) is
	// its owner's only. (A root that did not exist gets none from the
	// install; the next check makes it.)
	p = advStartUmask(t, "022", "check", "--root", root)
	p.wait(t, 60*time.Second)
	if p.code != 0 {
		t.Fatalf("%v", p)
	}
	if fi, err := os.Lstat(filepath.Join(root, ".modup", "cache")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the request cache: %v; want a folder of mode 0700", err)
	}
}
