package pkgdir

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// writeTree creates files under dir: a path ending in "/" is a folder, a
// value starting with "->" a symlink, a path ending in "*" an executable.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		exec := strings.HasSuffix(name, "*")
		name = strings.TrimSuffix(name, "*")
		path := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		perm := os.FileMode(0o644)
		if exec {
			perm = 0o755
		}
		if err := os.WriteFile(path, []byte(content), perm); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, perm); err != nil { // past the umask
			t.Fatal(err)
		}
	}
}

func mustTreeHash(t *testing.T, dir string) string {
	t.Helper()
	h, err := TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestTreeHash(t *testing.T) {
	base := map[string]string{
		"a2modsource.json":  `{"version":"1.0.0"}`,
		"mod/a2module.json": `{}`,
		"mod/run.py":        "print('hi')\n",
		"empty/":            "",
	}
	with := func(changes map[string]string, drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for _, k := range drop {
			delete(m, k)
		}
		for k, v := range changes {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		tree  map[string]string
		after func(t *testing.T, dir string) // a change made after writing
		same  bool                           // hash equals the base tree's
		unix  bool                           // only where exec bits and symlinks exist
	}{
		{name: "identical copy", tree: with(nil), same: true},
		{name: "other mtimes", tree: with(nil), same: true, after: func(t *testing.T, dir string) {
			old := time.Now().Add(-48 * time.Hour)
			if err := os.Chtimes(filepath.Join(dir, "mod", "run.py"), old, old); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "other non-exec permissions", tree: with(nil), same: true, unix: true, after: func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "mod", "run.py"), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "top-level .modup ignored", tree: with(map[string]string{".modup/x": "state"}), same: true},
		{name: "nested .modup counts", tree: with(map[string]string{"mod/.modup/x": "state"})},
		{name: "content edited", tree: with(map[string]string{"mod/run.py": "print('ho')\n"})},
		{name: "one byte appended", tree: with(map[string]string{"mod/run.py": "print('hi')\n\n"})},
		{name: "file renamed", tree: with(map[string]string{"mod/run2.py": "print('hi')\n"}, "mod/run.py")},
		{name: "file deleted", tree: with(nil, "mod/run.py")},
		{name: "empty folder deleted", tree: with(nil, "empty/")},
		{name: "empty file added", tree: with(map[string]string{"new.txt": ""})},
		{name: "hidden file added", tree: with(map[string]string{".env": "x"})},
		{name: "exec bit set", tree: with(map[string]string{"mod/run.py*": "print('hi')\n"}, "mod/run.py"), unix: true},
		{name: "file replaced by symlink", tree: with(map[string]string{"mod/run.py": "->print('hi')\n"}), unix: true},
		{name: "path split differently", tree: with(map[string]string{"mo/drun.py": "print('hi')\n"}, "mod/run.py")},
		{name: "folder replaced by empty file", tree: with(map[string]string{"empty": ""}, "empty/")},
	}
	baseDir := t.TempDir()
	writeTree(t, baseDir, base)
	baseHash := mustTreeHash(t, baseDir)
	if !strings.HasPrefix(baseHash, "sha256:") || len(baseHash) != len("sha256:")+64 {
		t.Fatalf("TreeHash = %q, want sha256:<64 hex digits>", baseHash)
	}
	if again := mustTreeHash(t, baseDir); again != baseHash {
		t.Fatalf("TreeHash is not stable: %s then %s", baseHash, again)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.unix && runtime.GOOS == "windows" {
				t.Skip("no exec bits or easy symlinks on Windows")
			}
			dir := t.TempDir()
			writeTree(t, dir, tc.tree)
			if tc.after != nil {
				tc.after(t, dir)
			}
			got := mustTreeHash(t, dir)
			if (got == baseHash) != tc.same {
				t.Errorf("hash %s vs base %s: same = %v, want %v", got, baseHash, got == baseHash, tc.same)
			}
		})
	}
}

func TestTreeHashSymlinkTarget(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on Windows")
	}
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, map[string]string{"link": "->one"})
	writeTree(t, b, map[string]string{"link": "->two"})
	if mustTreeHash(t, a) == mustTreeHash(t, b) {
		t.Error("symlinks with different targets hash alike")
	}
}

func TestTreeHashManyFiles(t *testing.T) {
	// Enough files for the parallel path; the order they are written in
	// must not matter.
	a, b := t.TempDir(), t.TempDir()
	files := map[string]string{}
	for i := range 300 {
		files[fmt.Sprintf("d%d/f%03d.txt", i%7, i)] = strings.Repeat(fmt.Sprint(i), i)
	}
	writeTree(t, a, files)
	writeTree(t, b, files)
	ha, hb := mustTreeHash(t, a), mustTreeHash(t, b)
	if ha != hb {
		t.Fatalf("same files, different hashes: %s %s", ha, hb)
	}
	if err := os.WriteFile(filepath.Join(b, "d3", "f150.txt"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	if mustTreeHash(t, b) == ha {
		t.Error("a changed file among 300 went unnoticed")
	}
}

func TestTreeHashErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, filepath.Join(dir, "missing")} {
		if h, err := TreeHash(p); err == nil {
			t.Errorf("TreeHash(%s) = %s, want an error", p, h)
		}
	}
}
