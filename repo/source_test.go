package repo

import (
	"context"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
)

func readAll(t *testing.T, p *sources.Payload) []byte {
	t.Helper()
	defer p.Body.Close()
	data, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Latest answers from the package list, Resolve and Versions from the
// package's document: digest, size, news, requirements and where the zip
// is.
func TestSourceAnswersFromTheIndex(t *testing.T) {
	f := newFixture(t)
	z2, z1 := f.zip("alpha", "2.0.0"), f.zip("alpha", "1.0.0")
	f.publish(pkg{name: "alpha", versions: []ver{
		{version: "2.0.0", zip: z2, news: "* two", requires: map[string]string{"beta": "^1.0"}},
		{version: "1.5.0", zip: f.zip("alpha", "1.5.0"), blocking: "zip slip"},
		{version: "1.0.0", zip: z1, mirrored: true},
	}})
	src := f.client.Source(f.repo)
	q := f.query("alpha")
	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != "2.0.0" || latest.SHA256 != sha(z2) || latest.Size != int64(len(z2)) || latest.Repository != "main" || latest.Kind != Kind {
		t.Errorf("latest %+v", latest)
	}
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil {
		t.Fatal(err)
	}
	if rel.PayloadURL != f.web.URL+"/authors/alpha/2.0.0.zip" || rel.News != "* two" || !rel.Resolved || !rel.RequirementsKnown ||
		rel.Requirements.Packages["beta"].String() != "^1.0" || rel.SignatureURL != rel.PayloadURL+sources.SignatureSuffix {
		t.Errorf("resolved %+v (requires %v)", rel, rel.Requirements.Packages)
	}
	if data := readAll(t, must(src.Open(t.Context(), rel))); string(data) != string(z2) {
		t.Error("Open did not stream the author's zip")
	}
	// A mirrored version comes from the mirror; "v1.0.0" finds 1.0.0.
	old, err := src.Resolve(t.Context(), q, sources.Release{Version: "v1.0.0", Origin: "request"})
	if err != nil {
		t.Fatal(err)
	}
	if old.PayloadURL != f.repo.URL+"mirror/alpha/1.0.0.zip" || old.Origin != "request" {
		t.Errorf("mirrored: %+v", old)
	}
	f.web.Reset()
	readAll(t, must(src.Open(t.Context(), old)))
	if got := f.web.Counts(); got["GET /idx/mirror/alpha/1.0.0.zip 200"] != 1 || got["GET /authors/alpha/1.0.0.zip 200"] != 0 {
		t.Errorf("requests %v, want the mirror's zip", got)
	}
	// A version with a blocking problem, or one not listed, is not offered.
	if _, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.5.0"}); err == nil || !strings.Contains(err.Error(), "zip slip") {
		t.Errorf("blocked version: %v", err)
	}
	if _, err := src.Resolve(t.Context(), q, sources.Release{Version: "3.0.0"}); !errors.Is(err, sources.ErrUnreleased) {
		t.Errorf("unknown version: %v", err)
	}
	vs, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, v := range vs {
		names = append(names, v.Version)
	}
	if !slices.Equal(names, []string{"2.0.0", "1.0.0"}) {
		t.Errorf("versions %v, want the installable ones newest first", names)
	}
	if _, err := src.Latest(t.Context(), f.query("nothere")); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("a package the index does not list: %v", err)
	}
}

func must(p *sources.Payload, err error) *sources.Payload {
	if err != nil {
		panic(err)
	}
	return p
}

func sha(b []byte) string { return indextest.SHA256(b) }

// With --mirror every zip comes from the mirror, never from the author;
// without it a mirror that lacks the zip hands over to the author.
func TestMirror(t *testing.T) {
	f := newFixture(t)
	z := f.zip("alpha", "1.0.0")
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: z, mirrored: true}}})
	strict := f.repo
	strict.Mirror = true

	rel, err := f.client.Source(strict).Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	f.web.Remove("/idx/mirror/alpha/1.0.0.zip")
	f.web.Reset()
	if _, err := f.client.Source(strict).Open(t.Context(), rel); err == nil || !strings.Contains(err.Error(), "--mirror") {
		t.Errorf("strict mirror without the zip: %v", err)
	}
	if got := f.web.Counts(); got["GET /authors/alpha/1.0.0.zip 200"] != 0 {
		t.Errorf("the author's host was asked: %v", got)
	}
	rel, err = f.client.Source(f.repo).Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if data := readAll(t, must(f.client.Source(f.repo).Open(t.Context(), rel))); string(data) != string(z) {
		t.Error("no hand-over to the author's zip")
	}
}

// A cancelled context stops the source, whatever is cached.
func TestSourceCancelled(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	src := f.client.Source(f.repo)
	if _, err := src.Latest(t.Context(), f.query("alpha")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := src.Latest(ctx, f.query("alpha")); !errors.Is(err, context.Canceled) {
		t.Errorf("Latest: %v", err)
	}
	if _, err := src.Resolve(ctx, f.query("alpha"), sources.Release{Version: "1.0.0"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Resolve: %v", err)
	}
	if _, err := src.Versions(ctx, f.query("alpha")); !errors.Is(err, context.Canceled) {
		t.Errorf("Versions: %v", err)
	}
}

// Search ranks the exact name, a name prefix, a module's name, then any
// text; every word must match, whatever the case.
func TestSearch(t *testing.T) {
	f := newFixture(t)
	f.publish(
		pkg{name: "clip", description: "The clipboard.", versions: []ver{{version: "1.0.0", zip: f.zip("clip", "1.0.0")}}},
		pkg{name: "clipper", description: "Cuts things.", versions: []ver{{version: "1.0.0", zip: f.zip("clipper", "1.0.0")}}},
		pkg{name: "tools", description: "Assorted tools.", modules: []doc.Module{{Name: "ClipHistory", Description: "Keeps what you copied."}},
			versions: []ver{{version: "2.0.0", zip: f.zip("tools", "2.0.0")}}},
		pkg{name: "notes", description: "Write things down.", modules: []doc.Module{{Name: "jot", Description: "Quick notes from the CLIP board.", Tags: []string{"writing"}}},
			versions: []ver{{version: "0.3.0", zip: f.zip("notes", "0.3.0")}}},
		pkg{name: "other", description: "Nothing to see.", versions: []ver{{version: "1.0.0", zip: f.zip("other", "1.0.0")}}},
	)
	tests := []struct {
		query string
		want  []string // name[:module]
	}{
		{query: "clip", want: []string{"clip", "clipper", "tools:ClipHistory", "notes:jot"}},
		{query: "CLIP", want: []string{"clip", "clipper", "tools:ClipHistory", "notes:jot"}},
		{query: "clip board", want: []string{"clip", "notes:jot"}},
		{query: "writing", want: []string{"notes:jot"}},
		{query: "tools copied", want: []string{"tools:ClipHistory"}},
		{query: "nothing here", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			res := f.client.Search(t.Context(), []Repo{f.repo}, tc.query)
			if len(res.Problems) > 0 {
				t.Fatal(res.Problems)
			}
			var got []string
			for _, h := range res.Hits {
				s := h.Name
				if h.Module != "" {
					s += ":" + h.Module
				}
				if h.Repo != "main" {
					t.Errorf("%s: repo %q", h.Name, h.Repo)
				}
				got = append(got, s)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("search %q = %v, want %v", tc.query, got, tc.want)
			}
		})
	}
}

// installed writes an installed package to root with an install record
// naming repo ("" for none).
func installed(t *testing.T, root, name, version, updateURL, repoName string) pkgdir.Package {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := `{"name": "` + name + `", "version": "` + version + `", "update_url": "` + updateURL + `"}`
	if err := os.WriteFile(filepath.Join(dir, pkgdir.ManifestFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := (pkgdir.Layout{Root: root}).WriteRecord(name, pkgdir.Record{Version: version, Repo: repoName}); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse([]byte(data), "x")
	if err != nil {
		t.Fatal(err)
	}
	return pkgdir.Package{Name: name, Root: root, Dir: dir, Manifest: m}
}

// The router sends a package installed from a repository to its index,
// and falls back to the package's own source, saying why, when it must.
func TestRouter(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(f *fixture, l *List)
		repo   string // the record's
		url    string // the installed manifest's update_url ("": the index's)
		routed bool
		warn   string
	}{
		{name: "installed from the repository", repo: "main", routed: true},
		{name: "installed from its URL", repo: "", routed: false},
		{name: "repository removed", repo: "gone", warn: "repository gone, which packages were installed from, is not configured any more"},
		{name: "repository disabled", repo: "main", setup: func(f *fixture, l *List) { l.Repos[0].Enabled = false },
			warn: "repository main is disabled"},
		{name: "no longer listed", repo: "main", setup: func(f *fixture, l *List) {
			f.publish(pkg{name: "beta", versions: []ver{{version: "1.0.0", zip: f.zip("beta", "1.0.0")}}})
		}, warn: "alpha: repository main does not list it any more"},
		{name: "another update_url", repo: "main", url: "https://example.com/fork/", warn: "but its manifest says update_url https://example.com/fork/"},
		{name: "unreachable, young copy", repo: "main", routed: true, setup: func(f *fixture, _ *List) {
			f.client.Packages(context.Background(), f.repo)
			f.web.Close()
			f.now = f.now.Add(2 * time.Hour)
		}, warn: "its copy from 2h ago is used"},
		{name: "unreachable, old copy", repo: "main", setup: func(f *fixture, _ *List) {
			f.client.Packages(context.Background(), f.repo)
			f.web.Close()
			f.now = f.now.Add(25 * time.Hour)
		}, warn: "its copy is 25h old, more than 24 × repo_max_age (24h): the packages installed from it are checked at their authors' sources"},
		{name: "unreachable, no copy", repo: "main", setup: func(f *fixture, _ *List) { f.web.Close() },
			warn: "nothing of it is cached: the packages installed from it are checked at their authors' sources"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
			l := &List{Repos: []Repo{f.repo}}
			url := tc.url
			if url == "" {
				url = f.query("alpha").UpdateURL
			}
			if tc.setup != nil {
				tc.setup(f, l)
			}
			p := installed(t, t.TempDir(), "alpha", "1.0.0", url, tc.repo)
			var warnings []string
			r := &Router{Client: f.client, Repos: l, Warn: func(m string) { warnings = append(warnings, m) }}
			src, ok := r.Route(t.Context(), p)
			if ok != tc.routed {
				t.Fatalf("routed %v, want %v (warnings %q)", ok, tc.routed, warnings)
			}
			if ok && src.Kind() != Kind {
				t.Errorf("routed to %s", src.Kind())
			}
			switch {
			case tc.warn == "" && len(warnings) > 0:
				t.Errorf("warnings %q", warnings)
			case tc.warn != "" && (len(warnings) != 1 || !strings.Contains(warnings[0], tc.warn)):
				t.Errorf("warnings %q, want one saying %q", warnings, tc.warn)
			}
			// Told once: a second package of the same cause says nothing new.
			r.Route(t.Context(), p)
			if tc.warn != "" && len(warnings) != 1 {
				t.Errorf("warned again: %q", warnings)
			}
		})
	}
}

// A repository on the web that names a file of this machine (a zip that
// happens to be there, with the digest it declares) is refused: a remote
// index never makes modup read local files. A folder repository may.
func TestWebRepositoryNamesNoFiles(t *testing.T) {
	f := newFixture(t)
	z := f.zip("alpha", "1.0.0")
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: z}}})
	local := filepath.Join(t.TempDir(), "1.0.0.zip")
	if err := os.WriteFile(local, z, 0o644); err != nil {
		t.Fatal(err)
	}
	fileURL := (&url.URL{Scheme: "file", Path: filepath.ToSlash(local)}).String()
	info := strings.ReplaceAll(string(f.published(infoDoc("alpha"))), f.web.URL+"/authors/alpha/1.0.0.zip", fileURL)
	f.web.Put("/idx/"+infoDoc("alpha"), []byte(info))

	rel, err := f.client.Source(f.repo).Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.Source(f.repo).Open(t.Context(), rel)
	if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), "repository main is on the web, and names a file of this machine") {
		t.Fatalf("web index naming a file: %v", err)
	}
	if _, err := f.client.Source(f.repo).Signature(t.Context(), rel); !errors.Is(err, sources.ErrInvalid) {
		t.Errorf("its signature beside the file: %v", err)
	}

	share := Repo{Name: "share", URL: f.export(rootDoc, packagesDoc, infoDoc("alpha")), Enabled: true}
	rel, err = f.client.Source(share).Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if data := readAll(t, must(f.client.Source(share).Open(t.Context(), rel))); string(data) != string(z) {
		t.Error("a folder repository's file was not read")
	}
}
