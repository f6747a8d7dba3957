package sources_test

import (
	"errors"
	"net/url"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/fs"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/sources/web"
	"github.com/modup/modup/updater"
)

// FuzzUpdateURL fuzzes how an update_url is classified (the registry as
// updater wires it: GitHub, then any web folder, then the file system) and
// rewritten into the manifest and payload locations:
//
//	go test -run='^$' -fuzz='^FuzzUpdateURL$' -fuzztime=60s ./sources
//
// For any input nothing panics, and:
//   - an empty (or blank) update_url is ErrUnsupported;
//   - at most one kind claims it: a GitHub repository URL is a web URL
//     that GitHub claims first, web and filesystem never both match, and
//     no filesystem path is a GitHub repository; when none claims it the
//     registry says ErrUnsupported, otherwise it picks that one kind;
//   - a web update_url is only ever rewritten to http(s) URLs on the same
//     host, ending in /a2modsource.json and /<version>.zip;
//   - a GitHub update_url becomes a raw-host URL and a web-host archive
//     URL, with no "." or ".." segments and the repository's own path;
//   - a filesystem update_url resolves to an absolute, clean folder.
func FuzzUpdateURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/ewerybody/a2.modules",
		"https://github.com/a2script/a2.modlab",
		"https://github.com/lipkau/ol.modules",
		"HTTPS://WWW.GitHub.com/o/r.git/",
		"https://github.com/o/r/tree/feature/x",
		"https://github.com/o/r/tree/a/../b",
		"http://github.com/o/r",
		"https://github.com/o",
		"https://example.com/releases/pkg/",
		"http://127.0.0.1:8080",
		"http://192.168.1.5/a2",
		"https://example.com/rel?token=abc",
		"https://example.com/rel#frag",
		"https://user:pw@example.com/rel",
		"ftp://example.com/x",
		"file:///srv/releases/pkg",
		"file://localhost/srv/pkg",
		"file://otherhost/share",
		"file://",
		"../../releases/hello",
		"C:\\a2\\releases",
		"C:/a2/releases",
		"\\\\server\\share\\pkg",
		"github.com/o/r",
		"  https://github.com/o/r  ",
		"",
		" ",
	} {
		f.Add(s, "")
	}
	f.Add("https://github.com/o/r", "main")
	f.Add("https://github.com/o/r", "../../x")
	f.Add("https://github.com/o/r", "a/b")

	srcs := updater.NewSources(updater.Config{})
	reg := srcs.Registry
	gh := srcs.GitHub
	pkgDir := filepath.Join(f.TempDir(), "pkg")

	f.Fuzz(func(t *testing.T, updateURL, mainBranch string) {
		trimmed := strings.TrimSpace(updateURL)
		isGH, isWeb, isFS := gh.Match(updateURL), web.Match(updateURL), fs.Match(updateURL)
		if isGH && !isWeb {
			t.Fatalf("%q: GitHub claims it but it is no web URL", updateURL)
		}
		if isWeb && isFS {
			t.Fatalf("%q: both web and filesystem claim it", updateURL)
		}
		if isGH && isFS {
			t.Fatalf("%q: a filesystem path GitHub claims", updateURL)
		}
		want := ""
		switch {
		case trimmed == "":
		case isGH:
			want = github.Kind
		case isWeb:
			want = web.Kind
		case isFS:
			want = fs.Kind
		}
		src, err := reg.For(updateURL)
		if want == "" {
			if !errors.Is(err, sources.ErrUnsupported) {
				t.Fatalf("For(%q) = %v, %v; want ErrUnsupported", updateURL, src, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("For(%q): %v, want the %s source", updateURL, err, want)
		}
		if src.Kind() != want {
			t.Fatalf("For(%q) = %s, want %s", updateURL, src.Kind(), want)
		}

		q := sources.Query{Package: "pkg", UpdateURL: updateURL, Dir: pkgDir, MainBranch: mainBranch}
		loc, ok := src.(sources.Locator)
		if !ok {
			t.Fatalf("the %s source is no Locator", want)
		}
		const version = "1.2.0"
		manifestURL, payloadURL, err := loc.Locate(q, version)
		if err != nil {
			if want == github.Kind {
				t.Fatalf("Locate(%q) of a URL GitHub claimed: %v", updateURL, err)
			}
			return
		}
		switch want {
		case web.Kind:
			base, err := url.Parse(trimmed)
			if err != nil {
				t.Fatalf("Locate accepted %q, which does not parse: %v", updateURL, err)
			}
			checkWebURL(t, updateURL, base, manifestURL, "/"+sources.ManifestFile)
			checkWebURL(t, updateURL, base, payloadURL, "/"+version+".zip")
		case github.Kind:
			repo, ok := github.ParseRepoURL(updateURL, github.DefaultWebURL)
			if !ok {
				t.Fatalf("%q: matched, but ParseRepoURL refuses it", updateURL)
			}
			checkGitHubURL(t, updateURL, manifestURL, "raw.githubusercontent.com", repo, "/"+sources.ManifestFile)
			checkGitHubURL(t, updateURL, payloadURL, "github.com", repo, "/archive/refs/tags/"+version+".zip")
		case fs.Kind:
			dir, err := fs.Folder(updateURL, pkgDir)
			if err != nil {
				t.Fatalf("Locate accepted %q but Folder says %v", updateURL, err)
			}
			if !filepath.IsAbs(dir) && runtime.GOOS != "windows" {
				t.Fatalf("Folder(%q) = %q, not absolute", updateURL, dir)
			}
			if filepath.Clean(dir) != dir {
				t.Fatalf("Folder(%q) = %q, not clean", updateURL, dir)
			}
			if manifestURL != filepath.Join(dir, sources.ManifestFile) || payloadURL != filepath.Join(dir, version+".zip") {
				t.Fatalf("Locate(%q) = %q, %q; not in %q", updateURL, manifestURL, payloadURL, dir)
			}
		}
	})
}

// checkWebURL: u stays on base's scheme and host, and its path is the
// update_url's path with name appended.
func checkWebURL(t *testing.T, updateURL string, base *url.URL, u, name string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%q → %q, which does not parse: %v", updateURL, u, err)
	}
	if s := strings.ToLower(p.Scheme); s != "http" && s != "https" || !strings.EqualFold(p.Scheme, base.Scheme) {
		t.Fatalf("%q → %q: scheme %q", updateURL, u, p.Scheme)
	}
	if p.Host != base.Host || p.User.String() != base.User.String() {
		t.Fatalf("%q → %q: host %q, want %q", updateURL, u, p.Host, base.Host)
	}
	if p.RawQuery != "" || p.Fragment != "" || !strings.HasSuffix(p.Path, name) {
		t.Fatalf("%q → %q: path %q query %q fragment %q; want the path to end in %s", updateURL, u, p.Path, p.RawQuery, p.Fragment, name)
	}
	if want := strings.TrimRight(base.Path, "/") + name; p.Path != want {
		t.Fatalf("%q → %q: path %q, want %q", updateURL, u, p.Path, want)
	}
}

// checkGitHubURL: u is https on host, under OWNER/REPO, ends in suffix,
// and holds no segment that would make it mean another path.
func checkGitHubURL(t *testing.T, updateURL, u, host string, repo github.Repo, suffix string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatalf("%q → %q, which does not parse: %v", updateURL, u, err)
	}
	if p.Scheme != "https" || p.Host != host || p.RawQuery != "" || p.Fragment != "" {
		t.Fatalf("%q → %q: want https://%s/… without query or fragment", updateURL, u, host)
	}
	if !strings.HasPrefix(p.Path, "/"+repo.Owner+"/"+repo.Name+"/") || !strings.HasSuffix(p.Path, suffix) {
		t.Fatalf("%q → %q: path %q is not under /%s/%s/ or does not end in %s", updateURL, u, p.Path, repo.Owner, repo.Name, suffix)
	}
	if path.Clean(p.Path) != p.Path {
		t.Fatalf("%q → %q: path %q is not clean (it means %q)", updateURL, u, p.Path, path.Clean(p.Path))
	}
}

// TestUpdateURLFuzzFindings keeps what FuzzUpdateURL found as plain cases.
func TestUpdateURLFuzzFindings(t *testing.T) {
	reg := updater.NewSources(updater.Config{}).Registry
	for _, tt := range []struct{ updateURL, manifest string }{
		{"https://example.com/rel?token=abc", "https://example.com/rel/a2modsource.json"},
		{"https://example.com/rel/#frag", "https://example.com/rel/a2modsource.json"},
	} {
		src, err := reg.For(tt.updateURL)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := src.(sources.Locator).Locate(sources.Query{Package: "p", UpdateURL: tt.updateURL}, "")
		if err != nil || got != tt.manifest {
			t.Errorf("Locate(%q) = %q, %v; want %q", tt.updateURL, got, err, tt.manifest)
		}
	}
	bad := []string{"file://", "file://localhost"}
	if runtime.GOOS != "windows" {
		bad = append(bad, "C:/a2/releases", `C:\a2\releases`)
	}
	for _, u := range bad {
		if dir, err := fs.Folder(u, "/pkg"); !errors.Is(err, sources.ErrUnsupported) {
			t.Errorf("Folder(%q) = %q, %v; want ErrUnsupported", u, dir, err)
		}
	}
}
