package archive

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeTree creates files (name -> content; a trailing '/' makes a folder)
// below dir; names ending in "*" get mode 0755 and lose the star.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		mode := fs.FileMode(0o644)
		if n, ok := strings.CutSuffix(name, "*"); ok {
			name, mode = n, 0o755
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
}

var packSource = map[string]string{
	ManifestName:                `{"version": "1.0.0"}`,
	"module.ahk":                "MsgBox hi",
	"run.sh*":                   "#!/bin/sh\necho hi\n",
	"lib/util.ahk":              "util",
	"lib/deep/more.ahk":         "more",
	"empty/":                    "",
	".modupignore":              "# build output\n*.tmp\n\nbuild/\n/docs/private\ndocs/*.draft\ncache/\n",
	".git/config":               "[core]",
	".git/objects/ab/cdef":      "blob",
	".modup/state.json":         "{}",
	"lib/.git":                  "gitdir: ../.git/modules/lib",
	"notes.tmp":                 "scratch",
	"lib/deep/x.tmp":            "scratch",
	"build/out.bin":             "binary",
	"docs/private/secret.md":    "secret",
	"docs/guide.md":             "guide",
	"docs/guide.draft":          "draft",
	"docs/sub/guide.draft":      "not anchored at docs/, kept",
	"cache":                     "a file named cache is kept: the rule is for folders",
	"lib/cache/blob":            "a folder named cache at any depth is dropped",
	"lib/build/keep.txt":        "build/ has no slash but a trailing one: any depth, dropped",
	"docs/private.md":           "kept",
	"lib/docs/private/other.md": "anchored rule does not match here",
}

// wantPacked is what packSource should pack to (files only).
var wantPacked = map[string]string{
	ManifestName:                `{"version": "1.0.0"}`,
	"module.ahk":                "MsgBox hi",
	"run.sh":                    "#!/bin/sh\necho hi\n",
	"lib/util.ahk":              "util",
	"lib/deep/more.ahk":         "more",
	".modupignore":              packSource[".modupignore"],
	"docs/guide.md":             "guide",
	"docs/sub/guide.draft":      "not anchored at docs/, kept",
	"cache":                     packSource["cache"],
	"docs/private.md":           "kept",
	"lib/docs/private/other.md": "anchored rule does not match here",
}

func packBytes(t testing.TB, dir string, opt PackOptions) ([]byte, int) {
	t.Helper()
	var buf bytes.Buffer
	n, err := Pack(t.Context(), &buf, dir, opt)
	if err != nil {
		t.Fatalf("Pack: %v", err)
	}
	return buf.Bytes(), n
}

func zipContents(t testing.TB, z []byte) (names []string, files map[string]string, modes map[string]fs.FileMode) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	files, modes = map[string]string{}, map[string]fs.FileMode{}
	for _, f := range zr.File {
		names = append(names, f.Name)
		modes[f.Name] = f.Mode()
		if !f.Modified.Equal(packTime) {
			t.Errorf("%s: modified %v, want %v", f.Name, f.Modified, packTime)
		}
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if f.Method != zip.Deflate {
			t.Errorf("%s: method %d, want deflate", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rc.Close()
		files[f.Name] = b.String()
	}
	return names, files, modes
}

func TestPack(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, packSource)
	z1, n := packBytes(t, dir, PackOptions{})
	z2, _ := packBytes(t, dir, PackOptions{})
	if !bytes.Equal(z1, z2) || sha256.Sum256(z1) != sha256.Sum256(z2) {
		t.Fatal("packing the same folder twice gave different bytes")
	}
	if n != len(wantPacked) {
		t.Errorf("Pack returned %d files, want %d", n, len(wantPacked))
	}

	names, files, modes := zipContents(t, z1)
	if !slices.IsSorted(names) {
		t.Errorf("entries not sorted: %q", names)
	}
	wantNames := []string{".modupignore", ManifestName, "cache", "docs/", "docs/guide.md", "docs/private.md",
		"docs/sub/", "docs/sub/guide.draft", "empty/", "lib/", "lib/deep/", "lib/deep/more.ahk", "lib/docs/",
		"lib/docs/private/", "lib/docs/private/other.md", "lib/util.ahk", "module.ahk", "run.sh"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("entries:\n got %q\nwant %q", names, wantNames)
	}
	for name, content := range wantPacked {
		if files[name] != content {
			t.Errorf("%s = %q, want %q", name, files[name], content)
		}
	}
	for name, m := range modes {
		want := fs.FileMode(0o644)
		switch {
		case strings.HasSuffix(name, "/"):
			want = fs.ModeDir | 0o755
		case name == "run.sh" && runtime.GOOS != "windows":
			want = 0o755
		}
		if m != want {
			t.Errorf("%s: mode %v, want %v", name, m, want)
		}
	}
}

// TestPackIndependentOfMetadata: the bytes depend on names, contents and the
// exec bit only, not on timestamps, other permission bits or creation order.
func TestPackIndependentOfMetadata(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	writeTree(t, a, packSource)
	// b is written in another order, with other times and modes.
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range packSource {
			if !yield(k) {
				return
			}
		}
	})
	slices.Reverse(keys)
	for _, k := range keys {
		writeTree(t, b, map[string]string{k: packSource[k]})
	}
	old := time.Date(2011, 3, 4, 5, 6, 7, 0, time.Local)
	filepath.WalkDir(b, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			os.Chtimes(p, old, old)
			if !strings.HasSuffix(p, "run.sh") {
				os.Chmod(p, 0o600)
			}
		}
		return nil
	})
	za, _ := packBytes(t, a, PackOptions{Prefix: "pkg-1.0.0"})
	zb, _ := packBytes(t, b, PackOptions{Prefix: "pkg-1.0.0"})
	if !bytes.Equal(za, zb) {
		t.Error("same content with other metadata packed to other bytes")
	}
}

func TestPackRoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, packSource)
	newManifest := []byte(`{"version": "1.1.0"}`)
	opt := PackOptions{
		Prefix:  "mypkg-1.1.0",
		Exclude: func(rel string, isDir bool) bool { return rel == "docs/private.md" },
		Replace: map[string][]byte{ManifestName: newManifest, "gen/info.txt": []byte("generated")},
	}
	z, n := packBytes(t, dir, opt)
	if want := len(wantPacked) + 1 - 1; n != want { // +gen/info.txt, -docs/private.md
		t.Errorf("Pack returned %d files, want %d", n, want)
	}
	parent, dest := newDest(t)
	res, err := extractBytes(t, t.Context(), z, dest, Options{})
	if err != nil {
		t.Fatalf("Extract(Pack()) = %v", err)
	}
	checkContained(t, parent)
	if res.Root != filepath.Join(dest, "mypkg-1.1.0") {
		t.Errorf("Root = %s", res.Root)
	}

	want := map[string]string{}
	for name, content := range wantPacked {
		want[name] = content
	}
	delete(want, "docs/private.md")
	want[ManifestName] = string(newManifest)
	want["gen/info.txt"] = "generated"
	got := snapshot(t, res.Root)
	for name, content := range want {
		if got[name] != content {
			t.Errorf("%s = %q, want %q", name, got[name], content)
		}
	}
	for _, d := range []string{"empty/", "lib/", "lib/deep/", "gen/", "docs/sub/"} {
		if _, ok := got[d]; !ok {
			t.Errorf("folder %s missing after the round trip", d)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && !strings.HasSuffix(name, "/") {
			t.Errorf("unexpected %s", name)
		}
	}
	if runtime.GOOS != "windows" {
		for name, wantMode := range map[string]fs.FileMode{"run.sh": 0o755, "module.ahk": 0o644, ManifestName: 0o644} {
			fi, err := os.Stat(filepath.Join(res.Root, name))
			if err != nil || fi.Mode() != wantMode {
				t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, wantMode)
			}
		}
	}
	// The source folder is untouched by Replace.
	if b, _ := os.ReadFile(filepath.Join(dir, ManifestName)); string(b) != packSource[ManifestName] {
		t.Errorf("Replace changed the file on disk: %q", b)
	}
}

func TestPackRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		opt   PackOptions
		want  string
	}{
		{
			name: "symlink",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("module.ahk", filepath.Join(dir, "lib", "link.ahk")); err != nil {
					t.Skip("no symlinks:", err)
				}
			},
			want: "lib/link.ahk: is a symbolic link",
		},
		{
			name: "symlink to a folder",
			setup: func(t *testing.T, dir string) {
				if err := os.Symlink("lib", filepath.Join(dir, "lib2")); err != nil {
					t.Skip("no symlinks:", err)
				}
			},
			want: "lib2: is a symbolic link",
		},
		{
			name: "bad ignore pattern",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("ok\n# c\n[x\n"), 0o644)
			},
			want: ".modupignore:3: bad pattern",
		},
		{
			name: "negation",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, IgnoreFile), []byte("*.tmp\n!keep.tmp\n"), 0o644)
			},
			want: ".modupignore:2: negation (!) is not supported",
		},
		{
			name: "name Extract rejects",
			setup: func(t *testing.T, dir string) {
				if runtime.GOOS == "windows" {
					t.Skip("cannot create the name on Windows")
				}
				os.WriteFile(filepath.Join(dir, "lib", "aux.ahk"), nil, 0o644)
			},
			want: "lib/aux.ahk: name would be rejected on extraction: reserved Windows device name",
		},
		{
			name: "case collision",
			setup: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "Module.ahk"), nil, 0o644)
				if b, _ := os.ReadFile(filepath.Join(dir, "module.ahk")); len(b) == 0 {
					t.Skip("case-insensitive file system")
				}
			},
			want: `"Module.ahk" and "module.ahk" collide on case-insensitive file systems`,
		},
		{
			name: "normalization collision",
			setup: func(t *testing.T, dir string) {
				// "café" with a precomposed é, and again with an e and a
				// combining accent.
				os.WriteFile(filepath.Join(dir, "caf\u00e9.ahk"), []byte("nfc"), 0o644)
				os.WriteFile(filepath.Join(dir, "cafe\u0301.ahk"), []byte("nfd"), 0o644)
				if b, _ := os.ReadFile(filepath.Join(dir, "caf\u00e9.ahk")); string(b) != "nfc" {
					t.Skip("file system ignores the normalization form")
				}
			},
			want: "are the same name on macOS",
		},
		{
			name: "replace a folder",
			opt:  PackOptions{Replace: map[string][]byte{"lib": nil}},
			want: "replace lib: is a folder",
		},
		{
			name: "replace with a bad name",
			opt:  PackOptions{Replace: map[string][]byte{"../x": nil}},
			want: `replace "../x": not a valid file name`,
		},
		{
			name: "replace below a file",
			opt:  PackOptions{Replace: map[string][]byte{"module.ahk/x": nil}},
			want: `"module.ahk" is both a file and a folder`,
		},
		{
			name: "bad prefix",
			opt:  PackOptions{Prefix: "../up"},
			want: `prefix "../up"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{ManifestName: "{}", "module.ahk": "x", "lib/a.ahk": "a"})
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			var buf bytes.Buffer
			_, err := Pack(t.Context(), &buf, dir, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Pack = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestPackIgnoredSymlink(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{ManifestName: "{}", IgnoreFile: "*.lnk\nnode_modules/\n"})
	if err := os.Symlink(ManifestName, filepath.Join(dir, "x.lnk")); err != nil {
		t.Skip("no symlinks:", err)
	}
	os.Mkdir(filepath.Join(dir, "node_modules"), 0o755)
	os.Symlink("/", filepath.Join(dir, "node_modules", "root"))
	os.Symlink("/", filepath.Join(dir, ".git"))
	z, n := packBytes(t, dir, PackOptions{})
	names, _, _ := zipContents(t, z)
	if n != 2 || !slices.Equal(names, []string{IgnoreFile, ManifestName}) {
		t.Errorf("packed %d files: %q", n, names)
	}
}

func TestPackCancel(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, packSource)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var buf bytes.Buffer
	if _, err := Pack(ctx, &buf, dir, PackOptions{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Pack = %v, want context.Canceled", err)
	}
}

func TestParseIgnore(t *testing.T) {
	rules, err := parseIgnore([]byte("# comment\n\n  *.log  \r\nbuild/\n/top.txt\ndocs/*.md\n//lead/\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{"x.log", false, true},
		{"a/b/x.log", false, true},
		{"x.log", true, true}, // no trailing slash: files and folders
		{"build", true, true},
		{"a/build", true, true},
		{"build", false, false}, // folders only
		{"top.txt", false, true},
		{"a/top.txt", false, false}, // anchored
		{"docs/a.md", false, true},
		{"docs/sub/a.md", false, false}, // '*' does not cross '/'
		{"a/docs/a.md", false, false},
		{"lead", true, true},
		{"lead", false, false},
		{"# comment", false, false},
		{"readme.md", false, false},
	}
	for _, tt := range tests {
		got := false
		for _, r := range rules {
			got = got || r.match(tt.rel, tt.isDir)
		}
		if got != tt.want {
			t.Errorf("match(%q, dir=%v) = %v, want %v", tt.rel, tt.isDir, got, tt.want)
		}
	}
	for _, bad := range []string{"[", "a/[b", "!x", "/"} {
		if _, err := parseIgnore([]byte(bad)); err == nil {
			t.Errorf("parseIgnore(%q) accepted", bad)
		}
	}
}
