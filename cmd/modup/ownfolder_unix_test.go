//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
)

// ownRoot builds a root whose package hello (1.0.0, with a backup of
// 0.9.0) updates from a folder of releases (1.1.0), and whose .modup holds
// each of its folders, with leftovers for the start-up sweep. It returns
// the root and the release folder.
func ownRoot(t *testing.T, base string) (string, string) {
	t.Helper()
	rel := filepath.Join(base, "releases", "hello")
	advPublish(t, rel, "hello", "1.1.0", map[string]advFiles{"1.1.0": advTree("hello", "1.1.0", "", 3, 32)})
	other := filepath.Join(base, "releases", "other")
	advPublish(t, other, "other", "1.0.0", map[string]advFiles{"1.0.0": advTree("other", "1.0.0", "", 3, 32)})
	root := filepath.Join(base, "root")
	advWrite(t, filepath.Join(root, "hello"), advTree("hello", "1.0.0", rel, 3, 32))
	m := filepath.Join(root, ".modup")
	advWrite(t, m, advFiles{
		"backups/hello/0.9.0/a2modsource.json": advManifest("hello", "0.9.0", rel),
		"tmp/hello/download-5.zip":             "partial",
		"staging/hello/new-5/x":                "partial",
		"state/hello.json":                     "{}",
		"installed/.keep":                      "",
		"cache/.keep":                          "",
		"locks/.keep":                          "",
		"journal/.keep":                        "",
	})
	return root, other
}

// TestOwnFolderHazardsCLI: a link (to a folder of the user's whose files
// are named like modup's), a file or a named pipe in place of any folder
// of .modup makes every command refuse to work in that root, naming the
// path and what to do, before it touches anything: the start-up sweep of
// list must not empty the folder a link points to, and backups must not
// land outside the root.
func TestOwnFolderHazardsCLI(t *testing.T) {
	commands := [][]string{
		{"list"}, {"check"}, {"update", "hello"}, {"rollback", "hello"},
		{"remove", "hello"}, {"remove", "hello", "--purge", "--yes"}, {"backups"}, {"status"},
		{"install", "OTHER"}, {"hold", "hello"}, {"disable", "hello"}, {"verify"}, {"doctor", "--offline"}, {"lock"},
	}
	for _, folder := range testpkg.ModupFolders("hello") {
		for _, kind := range []string{testpkg.HazardLink, testpkg.HazardFile, testpkg.HazardFIFO} {
			t.Run(folder+"/"+kind, func(t *testing.T) {
				base := t.TempDir()
				root, other := ownRoot(t, base)
				victim := testpkg.Victim(t, filepath.Join(base, "elsewhere"), "hello")
				hazard := filepath.Join(root, filepath.FromSlash(folder))
				if err := os.RemoveAll(hazard); err != nil {
					t.Fatal(err)
				}
				testpkg.PlaceHazard(t, hazard, kind, victim)
				before := testpkg.Snapshot(t, victim)
				pkgBefore := testpkg.Snapshot(t, filepath.Join(root, "hello"))
				todo := "move it out of the way"
				if kind == testpkg.HazardLink {
					todo = "remove the link"
				}
				for _, args := range commands {
					args = append(args, "--root", root, "--lock-timeout", "1s")
					for i, a := range args {
						if a == "OTHER" {
							args[i] = other
						}
					}
					type result struct {
						code        int
						out, errOut string
					}
					done := make(chan result, 1)
					go func() {
						code, out, errOut := advRun(t.Context(), nil, args...)
						done <- result{code, out, errOut}
					}()
					var r result
					select {
					case r = <-done:
					case <-time.After(20 * time.Second):
						t.Fatalf("modup %s hung", strings.Join(args, " "))
					}
					if r.code != exitFailure || !strings.Contains(r.errOut, hazard+" is ") || !strings.Contains(r.errOut, todo) {
						t.Errorf("modup %s: exit %d, want 1 and an error naming %s and saying to %s\n%s%s",
							args[0], r.code, hazard, todo, r.out, r.errOut)
					}
				}
				testpkg.SameSnapshot(t, victim, before)
				testpkg.SameSnapshot(t, filepath.Join(root, "hello"), pkgBefore)
				if _, err := os.Lstat(hazard); err != nil {
					t.Errorf("the user's %s %s was removed: %v", kind, hazard, err)
				}
				if _, err := os.Lstat(filepath.Join(root, "other")); err == nil {
					t.Error("install went ahead")
				}
			})
		}
	}
}
