package updater_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// a2Manifest is the real a2.modules manifest (BOM, a2's formatting) with
// its version, update_url and name values replaced.
func a2Manifest(t *testing.T, version, updateURL, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "a2", "a2.modules", "a2modsource.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		t.Fatal("the fixture lost its BOM")
	}
	for _, r := range [][2]string{
		{`"version": "0.7.2"`, `"version": "` + version + `"`},
		{`"update_url": "https://github.com/ewerybody/a2.modules"`, `"update_url": "` + updateURL + `"`},
		{`"name": "a2.modules"`, `"name": "` + name + `"`},
	} {
		if bytes.Count(data, []byte(r[0])) != 1 {
			t.Fatalf("the fixture has no single %s", r[0])
		}
		data = bytes.Replace(data, []byte(r[0]), []byte(r[1]), 1)
	}
	return data
}

func a2Module(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "a2", "a2.modules", "PastePlain.a2module.json"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestReleaseManifestFixed installs GitHub releases whose zipped manifest
// disagrees with the release, as real a2 releases did: the release version
// and the package's own update_url are written into the installed manifest,
// every other byte of it is kept, a warning says so, and the next check
// finds the package up to date (no update loop).
func TestReleaseManifestFixed(t *testing.T) {
	const pkg = "a2.modules"
	tests := []struct {
		name string
		// zipped builds the manifest inside the release 0.0.2's tag archive.
		zipped       func(t *testing.T, url string) []byte
		wantWarnings []string
	}{
		{
			name:         "tag 0.0.2 carries version 0.0.1",
			zipped:       func(t *testing.T, url string) []byte { return a2Manifest(t, "0.0.1", url, pkg) },
			wantWarnings: []string{`the manifest inside release 0.0.2 says version "0.0.1"; installed as 0.0.2`},
		},
		{
			name: "update_url pointing elsewhere",
			zipped: func(t *testing.T, _ string) []byte {
				return a2Manifest(t, "0.0.2", "https://github.com/elsewhere/fork", pkg)
			},
			wantWarnings: []string{`points update_url to "https://github.com/elsewhere/fork"; keeping`},
		},
		{
			name: "stale version and update_url elsewhere",
			zipped: func(t *testing.T, _ string) []byte {
				return a2Manifest(t, "0.0.1", "https://github.com/ewerybody/a2.modules", pkg)
			},
			wantWarnings: []string{`says version "0.0.1"`, `points update_url to "https://github.com/ewerybody/a2.modules"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := githubtest.New(t)
			url := s.RepoURL("ewerybody", "a2.modules")
			module := a2Module(t)
			s.SetManifest("ewerybody", "a2.modules", "HEAD", a2Manifest(t, "0.0.2", url, pkg))
			s.AddRelease("ewerybody", "a2.modules", githubtest.Release{Tag: "0.0.2", Files: map[string]string{
				"a2modsource.json":           string(tc.zipped(t, url)),
				"PastePlain/a2module.json":   module,
				"PastePlain/paste_plain.ahk": "paste 0.0.2\n",
			}})
			root := t.TempDir()
			dir := filepath.Join(root, pkg)
			testpkg.WriteTree(t, dir, map[string]string{
				"a2modsource.json":           string(a2Manifest(t, "0.0.1", url, pkg)),
				"PastePlain/a2module.json":   module,
				"PastePlain/paste_plain.ahk": "paste 0.0.1\n",
			})
			u := newUpdater(t, s.Env()...)

			r := u.CheckOne(ctx, load(t, root, pkg))
			if r.Status != updater.StatusUpdateAvailable || r.Available != "0.0.2" {
				t.Fatalf("check: %s %s (%v)", r.Status, r.Available, r.Err)
			}
			c := u.Update(ctx, load(t, root, pkg), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			if len(c.Warnings) != len(tc.wantWarnings) {
				t.Errorf("warnings %q, want %d", c.Warnings, len(tc.wantWarnings))
			}
			for _, w := range tc.wantWarnings {
				if !strings.Contains(strings.Join(c.Warnings, "\n"), w) {
					t.Errorf("no warning says %q; warnings: %q", w, c.Warnings)
				}
			}
			// Byte for byte the published manifest of 0.0.2: BOM, order,
			// indent, news with its escapes, zip_size.
			wantTree(t, dir, map[string]string{
				"a2modsource.json":           string(a2Manifest(t, "0.0.2", url, pkg)),
				"PastePlain/a2module.json":   module,
				"PastePlain/paste_plain.ahk": "paste 0.0.2\n",
			})
			checkRecord(t, root, pkg, "0.0.2", "github", url)

			// No loop: the next check and update find nothing to do.
			s.Reset()
			if r := u.CheckOne(ctx, load(t, root, pkg)); r.Status != updater.StatusUpToDate {
				t.Errorf("second check: %s %s (%v)", r.Status, r.Available, r.Err)
			}
			wantStatus(t, u.Update(ctx, load(t, root, pkg), updater.UpdateOptions{}), updater.StatusUpToDate)
			if n := s.Count("archive") + s.Count("api"); n != 0 {
				t.Errorf("%d release requests after the update", n)
			}
			checkClean(t, root)
		})
	}
}

// TestReleaseNamesAnotherPackage reports a zipped manifest naming another
// package and installs it under the folder name it has.
func TestReleaseNamesAnotherPackage(t *testing.T) {
	h := newWebHost(t)
	h.put("a2modsource.json", []byte(testpkg.Manifest("hello", "1.1.0", "")))
	zipped := pkgFiles("hello", "1.1.0", h.url())
	zipped["a2modsource.json"] = testpkg.Manifest("impostor", "1.1.0", h.url())
	h.put("1.1.0.zip", testpkg.Zip(t, "", zipped))
	root := t.TempDir()
	testpkg.WriteTree(t, filepath.Join(root, "hello"), pkgFiles("hello", "1.0.0", h.url()))

	c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusUpdated)
	if !strings.Contains(strings.Join(c.Warnings, "\n"), `names the package "impostor"; it stays installed as "hello"`) {
		t.Errorf("warnings %q", c.Warnings)
	}
	wantTree(t, filepath.Join(root, "hello"), zipped)
	if _, err := os.Lstat(filepath.Join(root, "impostor")); err == nil {
		t.Error("a folder named after the zipped manifest appeared")
	}
}

// TestCheckCostsNoAPICalls: while the installed version is the one the
// manifest names, checking and updating read only the raw manifest, even
// when newer releases are published without the manifest being bumped.
func TestCheckCostsNoAPICalls(t *testing.T) {
	tests := []struct {
		name     string
		releases []string
	}{
		{name: "installed version equals the manifest's", releases: []string{"1.0.0"}},
		{name: "a release published without bumping the manifest", releases: []string{"1.0.0", "1.1.0", "v2.0.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			for _, tag := range tc.releases {
				s.AddRelease("someone", "hello", githubtest.Release{Tag: tag, Files: pkgFiles("hello", strings.TrimPrefix(tag, "v"), url)})
			}
			s.SetManifest("someone", "hello", "HEAD", []byte(testpkg.Manifest("hello", "1.0.0", url)))
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", url))
			before := treeHash(t, dir)
			u := newUpdater(t, s.Env()...)

			for i := range 2 {
				r := u.CheckOne(ctx, load(t, root, "hello"))
				if r.Status != updater.StatusUpToDate || r.Available != "1.0.0" {
					t.Errorf("check %d: %s %s (%v)", i, r.Status, r.Available, r.Err)
				}
			}
			wantStatus(t, u.Update(ctx, load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpToDate)
			if n := s.Count("api"); n != 0 {
				t.Errorf("%d REST API calls, want none", n)
			}
			if n := s.Count("archive") + s.Count("asset"); n != 0 {
				t.Errorf("%d downloads, want none", n)
			}
			if n := s.Count("raw"); n != 3 {
				t.Errorf("%d raw manifest reads, want 3", n)
			}
			if treeHash(t, dir) != before {
				t.Error("the package changed")
			}
		})
	}
}

// TestGitHubAPIUnavailable: with the REST API rate-limited or down, an
// update still installs the release from its tag archive, which needs no
// quota, and says the notes are missing.
func TestGitHubAPIUnavailable(t *testing.T) {
	tests := []struct {
		name     string
		breakAPI func(s *githubtest.Server)
	}{
		{name: "rate limited", breakAPI: func(s *githubtest.Server) { s.RateLimit(time.Now().Add(time.Hour)) }},
		{name: "outage", breakAPI: func(s *githubtest.Server) { s.FailAPI(true) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			v2 := pkgFiles("hello", "1.1.0", url)
			s.AddRelease("someone", "hello", githubtest.Release{Tag: "v1.1.0", Body: "notes", Files: v2})
			s.SetManifest("someone", "hello", "HEAD", []byte(testpkg.Manifest("hello", "1.1.0", url)))
			tc.breakAPI(s)
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", url))

			c := newUpdater(t, s.Env()...).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			wantStatus(t, c, updater.StatusUpdated)
			if !strings.Contains(strings.Join(c.Warnings, "\n"), "release notes unavailable") {
				t.Errorf("warnings %q", c.Warnings)
			}
			wantTree(t, dir, v2)
			if n := s.Count("archive"); n < 1 {
				t.Error("the tag archive was not downloaded")
			}
			checkClean(t, root)
		})
	}
}

// TestCheckKeepsOrder checks many packages at once, at most Concurrency
// at a time, and returns each result in its package's place.
func TestCheckKeepsOrder(t *testing.T) {
	root := t.TempDir()
	var want []updater.Status
	for i := range 12 {
		r := newFSRemote(t)
		name := fmt.Sprintf("pkg%02d", i)
		installed, pointer, status := "1.0.0", "1.0.0", updater.StatusUpToDate
		switch i % 3 {
		case 1:
			pointer, status = "1.1.0", updater.StatusUpdateAvailable
			r.publish(t, "1.1.0", testpkg.Zip(t, "", pkgFiles(name, "1.1.0", r.dir)))
		case 2:
			installed, status = "2.0.0", updater.StatusRemoteOlder
		}
		r.point(t, testpkg.Manifest(name, pointer, ""))
		testpkg.WriteTree(t, filepath.Join(root, name), pkgFiles(name, installed, r.dir))
		want = append(want, status)
	}
	pkgs, err := pkgdir.ScanRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	u := newUpdater(t)
	u.Concurrency = 3
	results := u.Check(t.Context(), pkgs)
	if len(results) != len(pkgs) {
		t.Fatalf("%d results for %d packages", len(results), len(pkgs))
	}
	for i, r := range results {
		if r.Name != pkgs[i].Name || r.Status != want[i] {
			t.Errorf("result %d: %s %s (%v), want %s %s", i, r.Name, r.Status, r.Err, pkgs[i].Name, want[i])
		}
	}
}

// TestInfo describes a package: its manifest fields as written, its
// modules, its source and where the manifest and the zip are.
func TestInfo(t *testing.T) {
	r := newFSRemote(t)
	r.release(t, "1.1.0", pkgFiles("hello", "1.1.0", r.dir))
	root := t.TempDir()
	testpkg.WriteTree(t, filepath.Join(root, "hello"), pkgFiles("hello", "1.0.0", r.dir))

	in := newUpdater(t).Info(t.Context(), load(t, root, "hello"))
	fields := map[string]string{}
	for _, f := range in.Manifest {
		fields[f.Key] = f.Value
	}
	if fields["version"] != "1.0.0" || fields["update_url"] != r.dir || fields["name"] != "hello" {
		t.Errorf("manifest fields %v", fields)
	}
	if len(in.Modules) != 1 || in.Modules[0].Name != "greet" || in.Modules[0].Version != "1.0.0" || in.Modules[0].Author != "test" {
		t.Errorf("modules %+v", in.Modules)
	}
	if in.Check.Status != updater.StatusUpdateAvailable || in.Check.Available != "1.1.0" {
		t.Errorf("check %s %s (%v)", in.Check.Status, in.Check.Available, in.Check.Err)
	}
	if in.Source != "fs" || in.ManifestURL != filepath.Join(r.dir, "a2modsource.json") || in.PayloadURL != filepath.Join(r.dir, "1.1.0.zip") {
		t.Errorf("source %q manifest %q payload %q", in.Source, in.ManifestURL, in.PayloadURL)
	}
}
