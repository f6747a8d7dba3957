package release

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// published is a package and its release folder, made by Pack.
type published struct {
	dir, out string
	res      PackResult
}

// publish makes package "hello" at version with update_url, packed into
// <tmp>/site.
func publish(t *testing.T, version, updateURL string) published {
	t.Helper()
	parent := t.TempDir()
	dir := newPackage(t, parent, version, updateURL)
	out := filepath.Join(parent, "site")
	res, err := Pack(t.Context(), dir, PackOptions{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	return published{dir: dir, out: out, res: res}
}

// editManifest changes fields of the manifest in dir.
func editManifest(t *testing.T, dir string, fields map[string]any) {
	t.Helper()
	m, err := pkgdir.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range fields {
		if err := m.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := pkgdir.WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
}

func wantOK(t *testing.T, rep Report, ok bool) {
	t.Helper()
	if rep.OK != ok {
		t.Errorf("report OK = %v, want %v\n%s", rep.OK, ok, dump(rep))
	}
}

// wantAllPass requires every step to pass, except the named ones, which
// must be skipped.
func wantAllPass(t *testing.T, rep Report, skipped ...string) {
	t.Helper()
	wantOK(t, rep, true)
	for _, s := range rep.Steps {
		want := Pass
		for _, n := range skipped {
			if n == s.Name {
				want = Skip
			}
		}
		if s.Status != want {
			t.Errorf("step %s: %s %q, want %s\n%s", s.Name, s.Status, s.Detail, want, dump(rep))
		}
	}
	if len(rep.Steps) != len(stepOrder) {
		t.Errorf("%d steps, want %d", len(rep.Steps), len(stepOrder))
	}
}

func TestCheckCleanReleaseFolder(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	t.Run("package folder", func(t *testing.T) {
		rep := check(t, CheckOptions{Sources: testSources(), Dir: p.dir})
		wantAllPass(t, rep, StepNewerRelease, StepSignature)
		wantStep(t, rep, StepLocalCopy, Pass, "as published, with the same files", "")
		wantStep(t, rep, StepChecksum, Pass, "sha256 "+p.res.SHA256[:12], "")
	})
	t.Run("release folder as update_url", func(t *testing.T) {
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantAllPass(t, rep, StepNewerRelease, StepLocalCopy, StepSignature)
	})
	t.Run("web", func(t *testing.T) {
		srv, _ := serveFolder(t, p.out)
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL})
		wantAllPass(t, rep, StepNewerRelease, StepLocalCopy, StepSignature)
		wantStep(t, rep, StepRelease, Pass, srv.URL+"/1.0.0.zip exists", "")
	})
}

func TestCheckCleanGitHubRelease(t *testing.T) {
	gh := githubtest.New(t)
	p := publish(t, "1.0.0", gh.RepoURL("me", "hello"))
	gh.SetManifest("me", "hello", "HEAD", readFile(t, p.res.ManifestPath))
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "0.9.0", Files: map[string]string{"a2modsource.json": `{"version": "0.9.0"}`}})
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": readFile(t, p.res.ZipPath)}})

	rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), Dir: p.dir})
	wantAllPass(t, rep, StepSignature)
	wantStep(t, rep, StepRelease, Pass, "release 1.0.0 is published with 1.0.0.zip attached", "")
	wantStep(t, rep, StepNewerRelease, Pass, "no published release is newer than 1.0.0 (2 release(s))", "")

	// The same by URL.
	rep = check(t, CheckOptions{Sources: testSources(gh.Env()...), UpdateURL: gh.RepoURL("me", "hello")})
	wantAllPass(t, rep, StepLocalCopy, StepSignature)
}

// Scenario: the manifest is bumped, the release is not published yet.
func TestCheckManifestBumpedWithoutRelease(t *testing.T) {
	bump := func(t *testing.T) published {
		p := publish(t, "1.0.0", "../site")
		editManifest(t, p.out, map[string]any{"version": "1.1.0"})
		return p
	}
	t.Run("fs", func(t *testing.T) {
		p := bump(t)
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRelease, Fail, "no 1.1.0.zip next to the manifest", "upload 1.1.0.zip next to a2modsource.json")
		wantStep(t, rep, StepDownload, Skip, "no release to download", "")
	})
	t.Run("web", func(t *testing.T) {
		p := bump(t)
		srv, _ := serveFolder(t, p.out)
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRelease, Fail, srv.URL+"/1.1.0.zip is not there yet", "upload the zip first, then the manifest")
	})
	t.Run("github", func(t *testing.T) {
		gh := githubtest.New(t)
		p := publish(t, "1.0.0", gh.RepoURL("me", "hello"))
		gh.AddRelease("me", "hello", githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": readFile(t, p.res.ZipPath)}})
		// 1.1.0 exists only as a draft: it does not count.
		gh.AddRelease("me", "hello", githubtest.Release{Tag: "1.1.0", Draft: true, Files: map[string]string{"a2modsource.json": `{"version": "1.1.0"}`}})
		editManifest(t, p.dir, map[string]any{"version": "1.1.0"})
		gh.SetManifest("me", "hello", "HEAD", readFile(t, filepath.Join(p.dir, "a2modsource.json")))

		rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), Dir: p.dir})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRelease, Fail, "the manifest names 1.1.0 but no release is published for tag 1.1.0 or v1.1.0", "publish a release tagged 1.1.0 (a draft does not count)")
		wantStep(t, rep, StepNewerRelease, Pass, "", "")
	})
}

// Scenario: the zip carries a stale manifest (real a2 releases did).
func TestCheckStaleManifestInZip(t *testing.T) {
	t.Run("web folder", func(t *testing.T) {
		p := publish(t, "0.6.0", "../site")
		// Release "0.6.1" by copying the 0.6.0 zip under the new name.
		if err := os.WriteFile(filepath.Join(p.out, "0.6.1.zip"), readFile(t, p.res.ZipPath), 0o644); err != nil {
			t.Fatal(err)
		}
		editManifest(t, p.out, map[string]any{"version": "0.6.1"})
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantOK(t, rep, false)
		wantStep(t, rep, StepZipManifest, Fail, "the zip's a2modsource.json says 0.6.0 but the release is 0.6.1", "run `modup pack DIR --version 0.6.1` and re-upload")
		wantStep(t, rep, StepChecksum, Pass, "", "") // the bytes are the declared ones; only their content is stale
	})
	t.Run("github tag archive", func(t *testing.T) {
		gh := githubtest.New(t)
		url := gh.RepoURL("ewerybody", "a2.modules")
		pointer := `{"name": "a2.modules", "version": "0.6.1", "update_url": "` + url + `"}`
		gh.SetManifest("ewerybody", "a2.modules", "HEAD", []byte(pointer))
		gh.AddRelease("ewerybody", "a2.modules", githubtest.Release{Tag: "0.6.1", Files: map[string]string{
			"a2modsource.json":         `{"name": "a2.modules", "version": "0.6.0", "update_url": "` + url + `"}`,
			"PastePlain/a2module.json": greetModule,
		}})
		rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), UpdateURL: url})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRelease, Pass, "payload: the tag archive (no 0.6.1.zip attached)", "")
		wantStep(t, rep, StepArchive, Pass, "(package in folder a2.modules-0.6.1/)", "")
		wantStep(t, rep, StepZipManifest, Fail, "the zip's a2modsource.json says 0.6.0 but the release is 0.6.1",
			"run `modup pack DIR --version 0.6.1` and attach 0.6.1.zip to release 0.6.1")
		wantStep(t, rep, StepChecksum, Skip, "tag archive", "")
	})
}

func TestCheckDeclaredChecksumMismatch(t *testing.T) {
	other := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name   string
		fields map[string]any
		detail string
	}{
		{name: "sha256", fields: map[string]any{"sha256": other}, detail: "a2modsource.json declares sha256 abababababab but the zip's is "},
		{name: "zip_size", fields: map[string]any{"zip_size": 12345}, detail: "a2modsource.json declares zip_size 12345 but the zip is "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := publish(t, "1.0.0", "../site")
			editManifest(t, p.out, tc.fields)
			srv, _ := serveFolder(t, p.out)
			rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL})
			wantOK(t, rep, false)
			wantStep(t, rep, StepChecksum, Fail, tc.detail, "upload the a2modsource.json and the zip `modup pack` wrote together")
			// The rest of the release is still inspected.
			wantStep(t, rep, StepModules, Pass, "greet", "")
		})
	}
	t.Run("github asset digest", func(t *testing.T) {
		gh := githubtest.New(t)
		p := publish(t, "1.0.0", gh.RepoURL("me", "hello"))
		editManifest(t, p.out, map[string]any{"sha256": other})
		gh.SetManifest("me", "hello", "HEAD", readFile(t, p.res.ManifestPath))
		gh.AddRelease("me", "hello", githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": readFile(t, p.res.ZipPath)}})
		rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), UpdateURL: gh.RepoURL("me", "hello")})
		wantOK(t, rep, false)
		wantStep(t, rep, StepRelease, Pass, "", "")
		wantStep(t, rep, StepChecksum, Fail, "declares sha256 ababababab", "")
	})
	t.Run("nothing declared", func(t *testing.T) {
		p := publish(t, "1.0.0", "../site")
		m, err := pkgdir.ReadManifest(p.out)
		if err != nil {
			t.Fatal(err)
		}
		m.Delete("sha256")
		m.Delete("zip_size")
		if err := pkgdir.WriteManifest(p.out, m); err != nil {
			t.Fatal(err)
		}
		rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
		wantOK(t, rep, true)
		wantStep(t, rep, StepChecksum, Warn, "declares neither sha256 nor zip_size", "`modup pack` writes both")
	})
}

// Scenario: a release was published on GitHub without bumping the
// manifest on the default branch; users never see it.
func TestCheckGitHubReleaseNewerThanManifest(t *testing.T) {
	gh := githubtest.New(t)
	p := publish(t, "0.7.2", gh.RepoURL("me", "hello"))
	gh.SetManifest("me", "hello", "HEAD", readFile(t, p.res.ManifestPath))
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "0.7.2", Assets: map[string][]byte{"0.7.2.zip": readFile(t, p.res.ZipPath)}})
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "v0.8.0", Files: map[string]string{"a2modsource.json": `{"version": "0.8.0"}`}})
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "0.9.0-beta", Prerelease: true, Files: map[string]string{"a2modsource.json": `{"version": "0.9.0-beta"}`}})

	rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), UpdateURL: gh.RepoURL("me", "hello")})
	wantOK(t, rep, false)
	wantStep(t, rep, StepNewerRelease, Fail,
		"release 0.8.0 is published but a2modsource.json on the default branch says 0.7.2",
		"bump the manifest: set version to 0.8.0")
	wantStep(t, rep, StepZipManifest, Pass, "", "") // 0.7.2 itself is fine
}

// Scenario: the author's local copy is ahead of what users get.
func TestCheckLocalCopyNewerThanPublished(t *testing.T) {
	p := publish(t, "0.7.2", "../site")
	editManifest(t, p.dir, map[string]any{"version": "0.8.0"})
	rep := check(t, CheckOptions{Sources: testSources(), Dir: p.dir})
	wantOK(t, rep, true)
	wantStep(t, rep, StepLocalCopy, Warn, "the local copy says 0.8.0, newer than the published 0.7.2: users get 0.7.2", "publish 0.8.0")

	// Same version, other files: a change hiding under an old version.
	editManifest(t, p.dir, map[string]any{"version": "0.7.2"})
	testpkg.WriteTree(t, p.dir, map[string]string{"greet/greet.ahk": "MsgBox changed\n", "greet/new.ahk": "new"})
	rep = check(t, CheckOptions{Sources: testSources(), Dir: p.dir})
	wantStep(t, rep, StepLocalCopy, Warn, "as published, but its files differ: greet/greet.ahk (changed), greet/new.ahk (only local)", "--bump patch")

	// Behind the release.
	editManifest(t, p.dir, map[string]any{"version": "0.7.0"})
	rep = check(t, CheckOptions{Sources: testSources(), Dir: p.dir})
	wantStep(t, rep, StepLocalCopy, Warn, "older than the published 0.7.2", "")
}

func TestCheckMalformedRemoteManifest(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/a2modsource.json" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("{\n  \"name\": \"hello\",\n  \"version\": \"1.0.0\",\n}\n"))
	}))
	t.Cleanup(srv.Close)
	rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL})
	wantOK(t, rep, false)
	wantStep(t, rep, StepManifest, Fail, srv.URL+"/a2modsource.json:4:1: invalid character '}'", "fix the JSON at line 4, column 1")
	for _, name := range stepOrder[1:] {
		wantStep(t, rep, name, Skip, "the remote manifest could not be read", "")
	}

	// The real debug.module manifest, as published (a trailing comma).
	dir := t.TempDir()
	testpkg.WriteTree(t, dir, map[string]string{"a2modsource.json": string(readFile(t, filepath.Join("..", "testdata", "a2", "debug.module", "a2modsource.json")))})
	rep = check(t, CheckOptions{Sources: testSources(), UpdateURL: dir})
	wantStep(t, rep, StepManifest, Fail, "a2modsource.json:", "fix the JSON at line")

	// A missing manifest and an HTML page say what they are.
	rep = check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL + "/nothing"})
	wantStep(t, rep, StepManifest, Fail, "no a2modsource.json at", "publish a2modsource.json at the update_url")
}

func TestCheckHostileZip(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	evil := buildZip(t, [][2]string{
		{"a2modsource.json", `{"name": "hello", "version": "1.0.0"}`},
		{"../evil.ahk", "escape"},
	})
	if err := os.WriteFile(p.res.ZipPath, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(evil)
	editManifest(t, p.out, map[string]any{"sha256": hex.EncodeToString(sum[:]), "zip_size": len(evil)})
	srv, _ := serveFolder(t, p.out)

	rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL})
	wantOK(t, rep, false)
	wantStep(t, rep, StepDownload, Pass, "", "")
	wantStep(t, rep, StepChecksum, Pass, "", "")
	wantStep(t, rep, StepArchive, Fail, `entry "../evil.ahk"`, "every modup refuses this zip")
	wantStep(t, rep, StepZipManifest, Skip, "could not be extracted", "")
	if _, err := os.Stat(filepath.Join(filepath.Dir(p.out), "evil.ahk")); err == nil {
		t.Error("the hostile entry was written")
	}

	// A zip without a manifest, and bytes that are no zip at all.
	for _, tc := range []struct {
		name, detail, hint string
		data               []byte
	}{
		{"no manifest", "no a2modsource.json", "a2modsource.json included", buildZip(t, [][2]string{{"greet/greet.ahk", "x"}})},
		{"not a zip", "corrupt archive", "upload it again", []byte("<html>not found</html>")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p.res.ZipPath, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			editManifest(t, p.out, map[string]any{"zip_size": len(tc.data)})
			m, _ := pkgdir.ReadManifest(p.out)
			m.Delete("sha256")
			pkgdir.WriteManifest(p.out, m)
			rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
			wantOK(t, rep, false)
			wantStep(t, rep, StepArchive, Fail, tc.detail, tc.hint)
		})
	}
}

func TestCheckBrokenModule(t *testing.T) {
	parent := t.TempDir()
	dir := newPackage(t, parent, "1.0.0", "../site")
	testpkg.WriteTree(t, dir, map[string]string{
		"broken/a2module.json": "[\n  {\"typ\": \"nfo\", \"version\": \"1.0\"},\n]\n",
		"nonfo/a2module.json":  `[{"typ": "include", "file": "x.ahk"}]`,
	})
	if _, err := Pack(t.Context(), dir, PackOptions{OutDir: filepath.Join(parent, "site")}); err != nil {
		t.Fatal(err)
	}
	rep := check(t, CheckOptions{Sources: testSources(), Dir: dir})
	wantOK(t, rep, false)
	// Paths are the system's (broken\a2module.json on Windows).
	wantStep(t, rep, StepModules, Fail, filepath.FromSlash("broken/a2module.json")+":3:1: invalid character ']'", "fix the JSON of those a2module.json files")
	wantStep(t, rep, StepModules, Fail, filepath.FromSlash("nonfo/a2module.json")+`: no element with "typ": "nfo"`, "")
}

func TestCheckLimits(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	srv, _ := serveFolder(t, p.out)
	rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: srv.URL, MaxSize: 100})
	wantOK(t, rep, false)
	wantStep(t, rep, StepDownload, Fail, "more than the cap of 100", "--max-size")
}

func TestCheckPackageWithoutUpdateURL(t *testing.T) {
	dir := newPackage(t, t.TempDir(), "1.0.0", "")
	rep := check(t, CheckOptions{Sources: testSources(), Dir: dir})
	wantOK(t, rep, false)
	wantStep(t, rep, StepManifest, Fail, "has no update_url", "set update_url")
	wantStep(t, rep, StepLocalCopy, Skip, "", "")
}

func TestCheckVersionNotSemver(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	if err := os.Rename(p.res.ZipPath, filepath.Join(p.out, "0.3.1a.zip")); err != nil {
		t.Fatal(err)
	}
	editManifest(t, p.out, map[string]any{"version": "0.3.1a"})
	rep := check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
	wantOK(t, rep, false)
	wantStep(t, rep, StepVersion, Fail, `"0.3.1a" is not a comparable version`, "MAJOR.MINOR.PATCH")

	// Coerced versions work, with a warning.
	editManifest(t, p.out, map[string]any{"version": "1.0"})
	if err := os.Rename(filepath.Join(p.out, "0.3.1a.zip"), filepath.Join(p.out, "1.0.zip")); err != nil {
		t.Fatal(err)
	}
	rep = check(t, CheckOptions{Sources: testSources(), UpdateURL: p.out})
	wantStep(t, rep, StepVersion, Warn, `"1.0" is read as 1.0.0`, "write it as 1.0.0")
	wantStep(t, rep, StepZipManifest, Pass, "", "")
}

func TestTarget(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	for _, tc := range []struct {
		arg, dir, url string
	}{
		{arg: "https://github.com/me/hello", url: "https://github.com/me/hello"},
		{arg: "file:///srv/hello", url: "file:///srv/hello"},
		{arg: p.dir, dir: p.dir},
		{arg: p.out, url: p.out},
	} {
		dir, url, err := Target(tc.arg)
		if err != nil || dir != tc.dir || url != tc.url {
			t.Errorf("Target(%q) = %q, %q, %v; want %q, %q", tc.arg, dir, url, err, tc.dir, tc.url)
		}
	}
	if _, _, err := Target(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no a2modsource.json") {
		t.Errorf("empty folder: %v", err)
	}
	if _, _, err := Target(p.res.ZipPath); err == nil || !strings.Contains(err.Error(), "is not a folder") {
		t.Errorf("a file: %v", err)
	}
}

func TestCheckGitHubRateLimited(t *testing.T) {
	gh := githubtest.New(t)
	url := gh.RepoURL("me", "hello")
	gh.SetManifest("me", "hello", "HEAD", []byte(`{"name": "hello", "version": "1.0.0", "update_url": "`+url+`"}`))
	gh.AddRelease("me", "hello", githubtest.Release{Tag: "1.0.0", Files: map[string]string{
		"a2modsource.json":    `{"name": "hello", "version": "1.0.0"}`,
		"greet/a2module.json": greetModule,
	}})
	gh.RateLimit(time.Now().Add(time.Hour))
	rep := check(t, CheckOptions{Sources: testSources(gh.Env()...), UpdateURL: url})
	wantOK(t, rep, true)
	wantStep(t, rep, StepRelease, Warn, "tag 1.0.0 exists, but the release could not be confirmed", "GITHUB_TOKEN")
	wantStep(t, rep, StepNewerRelease, Warn, "could not list the releases", "GITHUB_TOKEN")
	wantStep(t, rep, StepZipManifest, Pass, "", "")
	wantStep(t, rep, StepChecksum, Skip, "tag archive", "")
}

func TestCheckStalledDownload(t *testing.T) {
	p := publish(t, "1.0.0", "../site")
	zipData := readFile(t, p.res.ZipPath)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a2modsource.json":
			w.Write(readFile(t, p.res.ManifestPath))
		case "/1.0.0.zip":
			w.Header().Set("Content-Length", strconv.Itoa(len(zipData)))
			if r.Method == http.MethodHead {
				return
			}
			w.Write(zipData[:len(zipData)/2])
			http.NewResponseController(w).Flush()
			<-r.Context().Done() // and nothing more
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	src := updater.NewSources(updater.Config{
		Getenv: func(string) string { return "" },
		HTTP:   &httpx.Options{RetryMax: -1, StallTimeout: 100 * time.Millisecond},
	})
	rep := check(t, CheckOptions{Sources: src, UpdateURL: srv.URL})
	wantOK(t, rep, false)
	wantStep(t, rep, StepDownload, Fail, "stalled", "the server stopped sending data")
	wantStep(t, rep, StepArchive, Skip, "nothing downloaded", "")
}
