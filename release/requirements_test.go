package release

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
)

// requiring is package "hello" at 1.0.0 (newPackage's) whose manifest
// declares requirements (extra is spliced into the manifest object).
func requiring(t *testing.T, parent, extra string) string {
	t.Helper()
	dir := newPackage(t, parent, "1.0.0", "../site")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), `{
  "name": "hello",
  "update_url": "../site",
  "version": "1.0.0",
`+extra+`
}
`)
	return dir
}

const requirementFields = `  "@note": "a comment",
  "manifest_version": 2,
  "requires": {"a2": ">= 0.5.0", "packages": {"a2.modules": "^0.7"}, "platform": {"os": "windows"}},
  "conflicts": {"old.tools": "*"},
  "provides": ["hotstrings"]`

const wantRequirements = "requires a2 >= 0.5.0, a2.modules ^0.7; runs on windows; conflicts with old.tools *; provides hotstrings"

// Pack carries the requirement fields into the release's manifest (so
// that checks see them without the zip) and into the zip's.
func TestPackCarriesRequirements(t *testing.T) {
	parent := t.TempDir()
	dir := requiring(t, parent, requirementFields)
	res, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := pkgdir.ReadManifest(res.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	if pub.ManifestVersion != 2 || pub.Requirements.String() != wantRequirements || pub.SHA256 != res.SHA256 {
		t.Errorf("release manifest: manifest_version %d, requirements %q", pub.ManifestVersion, pub.Requirements)
	}
	if note, _ := pub.Raw("@note"); string(note) != `"a comment"` {
		t.Errorf("the comment was not kept: %s", note)
	}
	inZip, err := manifest.Parse([]byte(zipFiles(t, readFile(t, res.ZipPath))["a2modsource.json"]), "zip")
	if err != nil || inZip.Requirements.String() != wantRequirements || inZip.ManifestVersion != 2 {
		t.Errorf("zip's manifest: %v, %v", inZip, err)
	}
}

func TestPackRefusesBadRequirements(t *testing.T) {
	tests := []struct {
		name, extra, want string
		newer             bool
	}{
		{"a constraint that does not parse", `  "requires": {"packages": {"a2.modules": "^^0.7"}}`,
			`a2modsource.json:5:43: hello: requires.packages.a2.modules: "^^0.7": "^0.7" is not a version`, false},
		{"a newer manifest_version", `  "manifest_version": 3`,
			`a2modsource.json: manifest_version 3 needs a newer modup (this one reads up to 2): update modup`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := requiring(t, parent, tt.extra)
			_, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")})
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, manifest.ErrNewerManifest) != tt.newer {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			if _, err := os.Stat(filepath.Join(parent, "site")); err == nil {
				t.Error("a refused pack wrote the release folder")
			}
		})
	}
}

func TestCheckRequirements(t *testing.T) {
	t.Run("declared and valid", func(t *testing.T) {
		parent := t.TempDir()
		dir := requiring(t, parent, requirementFields)
		if _, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")}); err != nil {
			t.Fatal(err)
		}
		rep := check(t, CheckOptions{Sources: testSources(), Dir: dir})
		wantAllPass(t, rep, StepNewerRelease, StepSignature)
		wantStep(t, rep, StepRequirements, Pass, wantRequirements, "")
	})
	t.Run("none declared", func(t *testing.T) {
		p := publish(t, "1.0.0", "../site")
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantStep(t, rep, StepRequirements, Pass, "declares no requirements (any host version, any platform)", "")
	})
	t.Run("without manifest_version 2", func(t *testing.T) {
		parent := t.TempDir()
		dir := requiring(t, parent, `  "requires": {"a2": ">= 0.5"}`)
		if _, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")}); err != nil {
			t.Fatal(err)
		}
		rep := check(t, CheckOptions{Sources: testSources(), Dir: dir})
		wantOK(t, rep, true)
		wantStep(t, rep, StepRequirements, Warn, `requires a2 >= 0.5, without "manifest_version": 2`, `add "manifest_version": 2`)
	})
	t.Run("naming itself", func(t *testing.T) {
		parent := t.TempDir()
		dir := requiring(t, parent, `  "manifest_version": 2, "requires": {"packages": {"hello": "*", "x": "^1"}}, "conflicts": {"x": "<1"}, "provides": ["hello"]`)
		if _, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")}); err != nil {
			t.Fatal(err)
		}
		rep := check(t, CheckOptions{Sources: testSources(), Dir: dir})
		wantStep(t, rep, StepRequirements, Warn, "it requires itself; it provides its own name; it both requires and conflicts with x", "drop the entries")
	})
	t.Run("a newer manifest_version", func(t *testing.T) {
		site := t.TempDir()
		testpkg.WriteTree(t, site, map[string]string{"a2modsource.json": `{"name": "hello", "version": "1.0.0", "manifest_version": 3, "requires": "something new"}`})
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: site})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRequirements, Fail, "manifest_version 3 needs a newer modup (this one reads up to 2)", `users' modup refuses to install it; write "manifest_version": 2`)
	})
	t.Run("constraints that do not parse, all of them", func(t *testing.T) {
		site := t.TempDir()
		testpkg.WriteTree(t, site, map[string]string{"a2modsource.json": "{\n  \"name\": \"hello\",\n  \"version\": \"1.0.0\",\n  \"requires\": {\"a2\": \"=>0.5\", \"packages\": {\"x\": \"^^1\"}},\n  \"breaks\": {\"y\": \"1.2.3.4\"}\n}\n"})
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: site})
		wantOK(t, rep, false)
		wantStep(t, rep, StepManifest, Fail, `a2modsource.json:4:22: hello: requires.a2: "=>0.5": unknown operator "=>" (write ">=") (and 2 more)`, "fix requires.a2 at line 4, column 22 (see the requirements step)")
		wantStep(t, rep, StepRequirements, Fail, `a2modsource.json:4:49: hello: requires.packages.x: "^^1"`, `fix each of them: constraints use Composer's syntax: ">= 1.2", "^1.2"`)
		wantStep(t, rep, StepRequirements, Fail, `a2modsource.json:5:19: hello: breaks.y: "1.2.3.4": has four parts`, "")
		wantStep(t, rep, StepRelease, Skip, "the remote manifest could not be read", "")
	})
	t.Run("the zip's manifest declares other requirements", func(t *testing.T) {
		parent := t.TempDir()
		dir := requiring(t, parent, requirementFields)
		res, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")})
		if err != nil {
			t.Fatal(err)
		}
		editManifest(t, res.OutDir, map[string]any{"requires": map[string]any{"a2": ">= 0.6.0"}})
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: res.OutDir})
		wantStep(t, rep, StepZipManifest, Warn, "the zip's a2modsource.json declares other requirements ("+wantRequirements+") than the remote manifest (requires a2 >= 0.6.0; conflicts with old.tools *; provides hotstrings)", "upload the a2modsource.json and the zip")
	})
}
