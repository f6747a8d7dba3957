package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
)

func TestPackWritesReleaseFolder(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "https://example.com/hello")
	before := readFile(t, filepath.Join(dir, "a2modsource.json"))

	res, err := Pack(t.Context(), dir, PackOptions{Version: "1.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	wantOut := filepath.Join(parent, "hello-release")
	if res.OutDir != wantOut || res.ZipPath != filepath.Join(wantOut, "1.2.0.zip") || res.Version != "1.2.0" || res.Bumped || res.Reused {
		t.Errorf("result %+v", res)
	}
	// --version leaves the package folder alone.
	if got := readFile(t, filepath.Join(dir, "a2modsource.json")); !bytes.Equal(got, before) {
		t.Errorf("package manifest changed without --bump:\n%s", got)
	}

	data := readFile(t, res.ZipPath)
	sum := sha256.Sum256(data)
	if res.SHA256 != hex.EncodeToString(sum[:]) || res.Size != int64(len(data)) {
		t.Errorf("result sha256 %s size %d, zip has %x, %d", res.SHA256, res.Size, sum, len(data))
	}
	files := zipFiles(t, data)
	inZip, err := manifest.Parse([]byte(files["a2modsource.json"]), "zip")
	if err != nil {
		t.Fatal(err)
	}
	if inZip.Version != "1.2.0" || inZip.News != "Greets." || inZip.SHA256 != "" {
		t.Errorf("zip's manifest: version %q news %q sha256 %q", inZip.Version, inZip.News, inZip.SHA256)
	}
	if _, ok := inZip.Raw("zip_size"); ok {
		t.Error("zip's manifest declares a zip_size: it cannot describe the zip holding it")
	}
	if files["greet/greet.ahk"] != "MsgBox hello 1.0.0\n" {
		t.Errorf("zip lacks the module: %v", files)
	}

	pub, err := pkgdir.ReadManifest(wantOut)
	if err != nil {
		t.Fatal(err)
	}
	if pub.Version != "1.2.0" || pub.SHA256 != res.SHA256 || pub.ZipSize != res.Size || pub.News != "Greets." || pub.UpdateURL != "https://example.com/hello" {
		t.Errorf("release manifest: %+v", pub)
	}

	// Whatever Pack writes, Extract accepts.
	dest := t.TempDir()
	if _, err := archive.ExtractFile(t.Context(), res.ZipPath, dest, archive.Options{}); err != nil {
		t.Fatalf("extract the packed zip: %v", err)
	}
}

func TestPackIsReproducible(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "")
	a, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "a")})
	if err != nil {
		t.Fatal(err)
	}
	// Other timestamps on disk do not change the bytes.
	later := filepath.Join(dir, "greet", "greet.ahk")
	hourLater := time.Now().Add(time.Hour)
	if err := os.Chtimes(later, hourLater, hourLater); err != nil {
		t.Fatal(err)
	}
	b, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "b")})
	if err != nil {
		t.Fatal(err)
	}
	if a.SHA256 != b.SHA256 || !bytes.Equal(readFile(t, a.ZipPath), readFile(t, b.ZipPath)) {
		t.Errorf("two packs of one folder differ: %s vs %s", a.SHA256, b.SHA256)
	}
	// Packing into the same folder again keeps the zip.
	c, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Reused || c.SHA256 != a.SHA256 {
		t.Errorf("repack: %+v", c)
	}
}

func TestPackBumpKeepsUnknownFieldsAndBOM(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "a2.modules")
	original := readFile(t, filepath.Join("..", "testdata", "a2", "a2.modules", "a2modsource.json"))
	if !bytes.HasPrefix(original, []byte("\xEF\xBB\xBF")) {
		t.Fatal("fixture lost its BOM")
	}
	testpkg.WriteTree(t, dir, map[string]string{
		"a2modsource.json":         string(original),
		"PastePlain/a2module.json": string(readFile(t, filepath.Join("..", "testdata", "a2", "a2.modules", "PastePlain.a2module.json"))),
	})

	res, err := Pack(t.Context(), dir, PackOptions{Bump: BumpPatch})
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != "0.7.3" || res.Previous != "0.7.2" || !res.Bumped || res.OutDir != filepath.Join(parent, "a2.modules-release") {
		t.Fatalf("result %+v", res)
	}

	got := readFile(t, filepath.Join(dir, "a2modsource.json"))
	if !bytes.HasPrefix(got, []byte("\xEF\xBB\xBF")) {
		t.Error("--bump dropped the BOM")
	}
	before, err := manifest.Parse(original, "before")
	if err != nil {
		t.Fatal(err)
	}
	after, err := manifest.Parse(got, "after")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before.Keys(), after.Keys()) {
		t.Errorf("keys changed: %v -> %v", before.Keys(), after.Keys())
	}
	for _, k := range before.Keys() {
		old, _ := before.Raw(k)
		now, _ := after.Raw(k)
		switch k {
		case "version":
			if string(now) != `"0.7.3"` {
				t.Errorf("version = %s", now)
			}
		case "zip_size": // declared before, so kept true
			if after.ZipSize != res.Size {
				t.Errorf("zip_size = %s, the zip is %d bytes", now, res.Size)
			}
		default:
			if !bytes.Equal(old, now) {
				t.Errorf("field %s changed: %s -> %s", k, old, now)
			}
		}
	}
	// The published manifest keeps them too, and the BOM.
	pub := readFile(t, res.ManifestPath)
	if !bytes.HasPrefix(pub, []byte("\xEF\xBB\xBF")) || !bytes.Contains(pub, []byte(`"maintainer_at": "gmail.com"`)) || !bytes.Contains(pub, []byte(`"news": "* HotStrings: 0.3.2`)) {
		t.Errorf("release manifest lost fields or the BOM:\n%s", pub)
	}
	// The zip's manifest says the bumped version.
	zm, err := manifest.Parse([]byte(zipFiles(t, readFile(t, res.ZipPath))["a2modsource.json"]), "zip")
	if err != nil || zm.Version != "0.7.3" || !zm.HasBOM() {
		t.Errorf("zip's manifest: %+v, %v", zm, err)
	}

	// Bumping again releases the next version and keeps the first.
	res2, err := Pack(t.Context(), dir, PackOptions{Bump: BumpMinor})
	if err != nil {
		t.Fatal(err)
	}
	if res2.Version != "0.8.0" || !slices.Equal(res2.Kept, []string{"0.7.3.zip"}) {
		t.Errorf("second bump: %+v", res2)
	}
	if _, err := os.Stat(res.ZipPath); err != nil {
		t.Errorf("earlier release gone: %v", err)
	}
}

func TestPackLeavesOut(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "")
	testpkg.WriteTree(t, dir, map[string]string{
		".modupignore":       "*.bak\nnotes/\n",
		"greet/old.bak":      "backup",
		"notes/todo.md":      "todo",
		".git/config":        "[core]",
		".modup/state":       "x",
		"greet/.git":         "gitdir: elsewhere",
		"release/1.0.0.zip":  "an earlier release inside the package",
		"greet/keep.ahk.txt": "kept",
	})
	res, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(dir, "release"), Version: "1.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range zipFiles(t, readFile(t, res.ZipPath)) {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{".modupignore", "a2modsource.json", "greet/", "greet/a2module.json", "greet/greet.ahk", "greet/keep.ahk.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("zip holds %v\nwant %v", names, want)
	}
}

func TestPackRefuses(t *testing.T) {
	for _, tc := range []struct {
		name    string
		version string // package manifest's version
		opt     PackOptions
		want    string
	}{
		{name: "two digits", version: "1.0.0", opt: PackOptions{Version: "1.2"}, want: `"1.2" is not semver: write it as 1.2.0`},
		{name: "leading v", version: "1.0.0", opt: PackOptions{Version: "v1.2.0"}, want: "write it as 1.2.0"},
		{name: "letter", version: "1.0.0", opt: PackOptions{Version: "0.3.1a"}, want: "want MAJOR.MINOR.PATCH"},
		{name: "path", version: "1.0.0", opt: PackOptions{Version: "../1.0.0"}, want: "not semver"},
		{name: "own version not semver", version: "0.1", want: `"0.1" is not semver`},
		{name: "no version", version: "", want: "has no version: pass --version"},
		{name: "both", version: "1.0.0", opt: PackOptions{Version: "1.0.0", Bump: BumpMinor}, want: "exclude each other"},
		{name: "bad bump", version: "1.0.0", opt: PackOptions{Bump: "huge"}, want: `--bump "huge"`},
		{name: "bump from nonsense", version: "x.y", opt: PackOptions{Bump: BumpPatch}, want: "not a comparable version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := newPackage(t, parent, tc.version, "")
			_, err := Pack(t.Context(), dir, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(parent, "hello-release")); err == nil {
				t.Error("a refused pack created the release folder")
			}
		})
	}
}

func TestPackNeverChangesAPublishedVersion(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "")
	first, err := Pack(t.Context(), dir, PackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	published := readFile(t, first.ZipPath)
	testpkg.WriteTree(t, dir, map[string]string{"greet/greet.ahk": "MsgBox changed\n"})

	_, err = Pack(t.Context(), dir, PackOptions{})
	if !errors.Is(err, ErrReleased) || !strings.Contains(err.Error(), "bump the version") {
		t.Fatalf("err = %v, want ErrReleased saying to bump the version", err)
	}
	if !bytes.Equal(readFile(t, first.ZipPath), published) {
		t.Error("the published zip changed")
	}
	// --bump checks before it writes: the package's manifest is untouched
	// when the bumped version is taken too.
	testpkg.WriteTree(t, filepath.Join(parent, "hello-release"), map[string]string{"1.0.1.zip": "taken"})
	if _, err := Pack(t.Context(), dir, PackOptions{Bump: BumpPatch}); !errors.Is(err, ErrReleased) {
		t.Fatalf("bump onto a taken version: %v", err)
	}
	if m, _ := pkgdir.ReadManifest(dir); m.Version != "1.0.0" {
		t.Errorf("failed bump changed the package's version to %s", m.Version)
	}
	entries, _ := os.ReadDir(filepath.Join(parent, "hello-release"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	// An older version would move users back.
	if _, err := Pack(t.Context(), dir, PackOptions{Bump: BumpMinor}); err != nil {
		t.Fatal(err)
	}
	if _, err := Pack(t.Context(), dir, PackOptions{Version: "1.0.5"}); !errors.Is(err, ErrOlder) {
		t.Errorf("packing below the release folder's version: %v", err)
	}
}

func TestPackRefusesReleaseFolderAroundPackage(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "")
	for _, out := range []string{dir, parent} {
		if _, err := Pack(context.Background(), dir, PackOptions{OutDir: out}); err == nil || !strings.Contains(err.Error(), "would hold the package folder") {
			t.Errorf("-o %s: err = %v", out, err)
		}
	}
}
