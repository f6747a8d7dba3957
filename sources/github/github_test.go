package github_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/sources/sourcetest"
)

const (
	owner = "acme"
	repo  = "tools.modules"
)

// remote is sourcetest.Remote over the fake GitHub. Releases are
// published as tag archives; a signed one gets its zip and signature
// attached as assets, as `modup pack --sign` users publish them.
type remote struct{ srv *githubtest.Server }

func (r remote) Point(t testing.TB, version string, fields map[string]any) {
	r.srv.SetManifest(owner, repo, "HEAD", sourcetest.ManifestJSON(t, repo, version, fields))
}

func (r remote) PointRaw(t testing.TB, data []byte) {
	r.srv.SetManifest(owner, repo, "HEAD", data)
}

func (r remote) Publish(t testing.TB, version string, zip []byte) {
	r.srv.AddRelease(owner, repo, githubtest.Release{Tag: version, Archive: zip})
}

func (r remote) PublishSignature(t testing.TB, version string, sig []byte) {
	zip := sourcetest.Zip(t, map[string]string{"a2modsource.json": `{"version": "` + version + `"}`})
	r.srv.AddAsset(owner, repo, version, version+".zip", zip)
	r.srv.AddAsset(owner, repo, version, version+".zip.minisig", sig)
}

func (r remote) Query(t testing.TB) sources.Query {
	return sources.Query{Package: repo, UpdateURL: r.srv.RepoURL(owner, repo)}
}

func TestConformance(t *testing.T) {
	factory := func(t *testing.T) (sources.Source, sourcetest.Remote) {
		srv := githubtest.New(t)
		return srv.Source(""), remote{srv}
	}
	sourcetest.Run(t, factory) // with the Lister cases: the source lists its releases
}

// TestVersionsConditional: an unchanged release list costs one conditional
// request answered 304 per page, and a new release is seen at once.
func TestVersionsConditional(t *testing.T) {
	srv, src, q := setup(t)
	for i := range 150 {
		srv.AddRelease(owner, repo, githubtest.Release{Tag: fmt.Sprintf("v1.%d.0", i)})
	}
	first, err := src.Versions(t.Context(), q)
	if err != nil || len(first) != 150 {
		t.Fatalf("Versions = %d releases, %v; want 150", len(first), err)
	}
	srv.Reset()
	again, err := src.Versions(t.Context(), q)
	if err != nil || len(again) != 150 || again[0].Tag != "v1.149.0" {
		t.Fatalf("unchanged Versions = %d releases, %v", len(again), err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests for an unchanged list of two pages, want 2: %+v", len(reqs), reqs)
	}
	for _, r := range reqs {
		if !r.Conditional || r.Status != http.StatusNotModified {
			t.Errorf("request %s?%s: conditional %v, status %d; want a conditional request answered 304", r.Path, r.Query, r.Conditional, r.Status)
		}
	}
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v2.0.0", Body: "new"})
	srv.Reset()
	moved, err := src.Versions(t.Context(), q)
	if err != nil || len(moved) != 151 || moved[0].Tag != "v2.0.0" || moved[0].ReleaseNotes != "new" || moved[0].Published.IsZero() {
		t.Fatalf("Versions after a release = %d, first %+v, %v", len(moved), moved[0], err)
	}
	if n := srv.Count("api"); n != 2 {
		t.Errorf("%d API requests after a release, want 2 (both pages changed)", n)
	}
}

// setup is a fake GitHub with a source and a query of owner/repo.
func setup(t *testing.T) (*githubtest.Server, *github.Source, sources.Query) {
	t.Helper()
	srv := githubtest.New(t)
	q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}
	return srv, srv.Source(""), q
}

func manifest(t *testing.T, version string, fields map[string]any) []byte {
	return sourcetest.ManifestJSON(t, repo, version, fields)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func open(t *testing.T, src *github.Source, rel sources.Release) []byte {
	t.Helper()
	p, err := src.Open(t.Context(), rel)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Body.Close()
	b, err := io.ReadAll(p.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMatch(t *testing.T) {
	srv := githubtest.New(t)
	src := srv.Source("")
	if !src.Match(srv.RepoURL(owner, repo)) || !src.Match(srv.RepoURL(owner, repo)+"/tree/dev") {
		t.Error("the fake's repository URLs do not match")
	}
	if src.Match("https://github.com/o/r") {
		t.Error("github.com matched a source configured for another host")
	}
	def := github.New(github.Config{Client: srv.Client("")})
	if !def.Match("https://github.com/ewerybody/a2.modules") || def.Match("https://example.com/a2.modules") {
		t.Error("default config matches wrongly")
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	got := github.ConfigFromEnv(env(nil))
	if got.APIURL != github.DefaultAPIURL || got.RawURL != github.DefaultRawURL || got.WebURL != github.DefaultWebURL {
		t.Errorf("defaults: %+v", got)
	}
	got = github.ConfigFromEnv(env(map[string]string{
		"MODUP_GITHUB_API_URL": "https://ghe.example.com/api/v3",
		"MODUP_GITHUB_RAW_URL": "https://ghe.example.com/raw//",
		"MODUP_GITHUB_URL":     " https://ghe.example.com ",
	}))
	// Moving github.com's endpoints keeps github.com's update_urls as an alias.
	want := github.Config{APIURL: "https://ghe.example.com/api/v3/", RawURL: "https://ghe.example.com/raw/", WebURL: "https://ghe.example.com/",
		Aliases: []string{github.DefaultWebURL}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigFromEnv = %+v, want %+v", got, want)
	}

	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"GH_TOKEN": "gh"}, "gh"},
		{map[string]string{"GITHUB_TOKEN": "github", "GH_TOKEN": "gh"}, "github"},
		{map[string]string{"GITHUB_TOKEN": " ", "GH_TOKEN": "gh"}, "gh"},
	} {
		if got := github.TokenFromEnv(env(tt.env)); got != tt.want {
			t.Errorf("TokenFromEnv(%v) = %q, want %q", tt.env, got, tt.want)
		}
	}

	for api, want := range map[string]string{
		"":                                "api.github.com",
		"https://api.github.com/":         "api.github.com",
		"https://GHE.example.com/api/v3/": "ghe.example.com",
		"http://127.0.0.1:5000/":          "127.0.0.1:5000",
		"http://localhost/api/v3/":        "localhost:80",
	} {
		if got := github.TokenHost(github.Config{APIURL: api}); got != want {
			t.Errorf("TokenHost(%q) = %q, want %q", api, got, want)
		}
	}
}

func TestLatestBranchChoice(t *testing.T) {
	tests := []struct {
		name       string
		urlSuffix  string
		mainBranch string
		want       string
		wantPath   string
	}{
		{name: "default branch", want: "1.0.0", wantPath: "/HEAD/"},
		{name: "main_branch", mainBranch: "stable", want: "2.0.0", wantPath: "/stable/"},
		{name: "tree beats main_branch", urlSuffix: "/tree/feature/x", mainBranch: "stable", want: "3.0.0", wantPath: "/feature/x/"},
		{name: "tree", urlSuffix: "/tree/feature/x", want: "3.0.0", wantPath: "/feature/x/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, src, q := setup(t)
			srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
			srv.SetManifest(owner, repo, "stable", manifest(t, "2.0.0", nil))
			srv.SetManifest(owner, repo, "feature/x", manifest(t, "3.0.0", nil))
			q.UpdateURL += tt.urlSuffix
			q.MainBranch = tt.mainBranch
			rel, err := src.Latest(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Version != tt.want || !strings.Contains(rel.ManifestURL, tt.wantPath) {
				t.Errorf("Latest = %s from %s, want %s from a URL with %s", rel.Version, rel.ManifestURL, tt.want, tt.wantPath)
			}
			if rel.Origin != "manifest" || rel.Kind != "github" {
				t.Errorf("Origin, Kind = %q, %q", rel.Origin, rel.Kind)
			}
		})
	}
}

func TestLatestManifestFields(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "0.7.2", map[string]any{
		"news": "fixed things", "zip_size": 1234, "sha256": strings.ToUpper(strings.Repeat("ab", 32)),
	}))
	rel, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	want := sources.Release{
		Version: "0.7.2", Name: repo, News: "fixed things", ManifestURL: srv.Raw.URL + "/acme/tools.modules/HEAD/a2modsource.json",
		Size: 1234, SizeFrom: "zip_size in a2modsource.json", SHA256: strings.Repeat("ab", 32), Origin: "manifest", Kind: "github",
		RequirementsKnown: true,
	}
	if !bytes.Equal(rel.Pointer, manifest(t, "0.7.2", map[string]any{
		"news": "fixed things", "zip_size": 1234, "sha256": strings.ToUpper(strings.Repeat("ab", 32)),
	})) {
		t.Errorf("Pointer = %q, want the manifest as served", rel.Pointer)
	}
	rel.Pointer = nil
	if fmt.Sprint(rel) != fmt.Sprint(want) {
		t.Errorf("Latest =\n%+v\nwant\n%+v", rel, want)
	}
}

func TestLatestWithBOMFixture(t *testing.T) {
	srv, src, q := setup(t)
	data := append([]byte{0xEF, 0xBB, 0xBF}, "{\n  \"name\": \"a2.modlab\",\n  \"main_branch\": \"main\",\n  \"version\": \"0.4.1\",\n  \"zip_size\": 0\n}"...)
	srv.SetManifest(owner, repo, "main", data)
	q.MainBranch = "main"
	rel, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Version != "0.4.1" || rel.Size != 0 {
		t.Errorf("Latest = %+v", rel)
	}
}

func TestLatestNeverCallsTheAPI(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0", Body: "notes"})
	for i := range 20 {
		rel, err := src.Latest(t.Context(), q)
		if err != nil || rel.Version != "1.0.0" {
			t.Fatalf("Latest #%d = %+v, %v", i, rel, err)
		}
	}
	if n := srv.Count("api"); n != 0 {
		t.Errorf("%d API requests, want 0", n)
	}
	reqs := srv.Requests()
	if len(reqs) != 20 {
		t.Fatalf("%d requests, want 20", len(reqs))
	}
	if reqs[0].Status != http.StatusOK || reqs[0].Conditional {
		t.Errorf("first request: %+v, want an unconditional 200", reqs[0])
	}
	for _, r := range reqs[1:] {
		if r.Kind != "raw" || !r.Conditional || r.Status != http.StatusNotModified || r.Auth {
			t.Errorf("later request: %+v, want a conditional raw 304 without Authorization", r)
		}
	}
}

func TestLatestErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*githubtest.Server)
		q         func(*sources.Query)
		is        error
		wantInMsg []string
	}{
		{
			name: "missing, default branch", is: sources.ErrNotFound,
			wantInMsg: []string{"a2modsource.json", "/HEAD/", "main_branch", "repository name"},
		},
		{
			name: "missing on main_branch", is: sources.ErrNotFound,
			setup:     func(s *githubtest.Server) { s.SetManifest(owner, repo, "HEAD", []byte(`{"version":"1"}`)) },
			q:         func(q *sources.Query) { q.MainBranch = "master" },
			wantInMsg: []string{"/master/a2modsource.json", `main_branch ("master")`},
		},
		{
			name: "missing on tree branch", is: sources.ErrNotFound,
			q:         func(q *sources.Query) { q.UpdateURL += "/tree/dev" },
			wantInMsg: []string{"/dev/a2modsource.json", `branch "dev"`},
		},
		{
			name: "HTML", is: sources.ErrInvalid,
			setup: func(s *githubtest.Server) {
				s.SetManifest(owner, repo, "HEAD", []byte("<html><body>Sign in</body></html>"))
			},
			wantInMsg: []string{"HTML page", "instead of a2modsource.json"},
		},
		{
			name: "no version", is: sources.ErrInvalid,
			setup: func(s *githubtest.Server) {
				s.SetManifest(owner, repo, "HEAD", []byte(`{"name": "x", "version": " "}`))
			},
			wantInMsg: []string{"no version"},
		},
		{
			name: "trailing comma", is: sources.ErrInvalid,
			setup:     func(s *githubtest.Server) { s.SetManifest(owner, repo, "HEAD", []byte("{\"version\": \"1\",\n}")) },
			wantInMsg: []string{"a2modsource.json:2:1"},
		},
		{
			name: "not github", is: sources.ErrUnsupported,
			q: func(q *sources.Query) { q.UpdateURL = "https://example.com/o/r" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, src, q := setup(t)
			if tt.setup != nil {
				tt.setup(srv)
			}
			if tt.q != nil {
				tt.q(&q)
			}
			_, err := src.Latest(t.Context(), q)
			if !errors.Is(err, tt.is) {
				t.Fatalf("err = %v, want %v", err, tt.is)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	archiveZip := sourcetest.Zip(t, map[string]string{"a/a2modsource.json": `{"version":"1.2.0"}`})
	assetZip := sourcetest.Zip(t, map[string]string{"a2modsource.json": `{"version":"1.2.0"}`})
	tests := []struct {
		name     string
		releases []githubtest.Release
		want     sources.Release // from the manifest (Latest) unless Origin says otherwise
		check    func(t *testing.T, rel sources.Release, src *github.Source)
		is       error
	}{
		{
			name:     "plain tag, tag archive",
			releases: []githubtest.Release{{Tag: "1.2.0", Body: "release notes", Archive: archiveZip}},
			want:     sources.Release{Version: "1.2.0", News: "manifest news", Origin: "manifest", Size: 999, SHA256: strings.Repeat("0", 64)},
			check: func(t *testing.T, rel sources.Release, src *github.Source) {
				if rel.Tag != "1.2.0" || !strings.HasSuffix(rel.PayloadURL, "/acme/tools.modules/archive/refs/tags/1.2.0.zip") {
					t.Errorf("tag, payload = %q, %q", rel.Tag, rel.PayloadURL)
				}
				if rel.ReleaseNotes != "release notes" || rel.News != "manifest news" || rel.NotesUnavailable {
					t.Errorf("ReleaseNotes = %q, News = %q (unavailable %v), want the release body and the manifest's news", rel.ReleaseNotes, rel.News, rel.NotesUnavailable)
				}
				if rel.Size != 0 || rel.SHA256 != "" {
					t.Errorf("Size, SHA256 = %d, %q: the manifest's describe its zip, not GitHub's tag archive", rel.Size, rel.SHA256)
				}
				if rel.Origin != "manifest" || !rel.Resolved || rel.Kind != "github" {
					t.Errorf("Origin, Resolved, Kind = %q, %v, %q", rel.Origin, rel.Resolved, rel.Kind)
				}
				if got := open(t, src, rel); !bytes.Equal(got, archiveZip) {
					t.Error("Open did not stream the tag archive")
				}
			},
		},
		{
			name:     "v-prefixed tag",
			releases: []githubtest.Release{{Tag: "v1.2.0", Archive: archiveZip}},
			want:     sources.Release{Version: "1.2.0", News: "manifest news", Origin: "manifest"},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if rel.Tag != "v1.2.0" || !strings.HasSuffix(rel.PayloadURL, "/archive/refs/tags/v1.2.0.zip") || rel.Version != "1.2.0" {
					t.Errorf("Resolve = %+v", rel)
				}
				if rel.News != "manifest news" {
					t.Errorf("News = %q, want the manifest's when the release body is empty", rel.News)
				}
			},
		},
		{
			name:     "v-prefixed version, plain tag",
			releases: []githubtest.Release{{Tag: "1.2.0", Archive: archiveZip}},
			want:     sources.Release{Version: "v1.2.0", Origin: "manifest"},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if rel.Tag != "1.2.0" || rel.Version != "v1.2.0" {
					t.Errorf("Resolve = %+v", rel)
				}
			},
		},
		{
			name: "asset preferred, digest verified",
			releases: []githubtest.Release{{Tag: "v1.2.0", Archive: archiveZip, Assets: map[string][]byte{
				"1.2.0.zip": assetZip, "other.zip": []byte("x"),
			}}},
			want: sources.Release{Version: "1.2.0", Origin: "manifest", Size: 5},
			check: func(t *testing.T, rel sources.Release, src *github.Source) {
				if !strings.HasSuffix(rel.PayloadURL, "/releases/download/v1.2.0/1.2.0.zip") {
					t.Errorf("PayloadURL = %q, want the asset", rel.PayloadURL)
				}
				if rel.SHA256 != sum(assetZip) || rel.Size != int64(len(assetZip)) {
					t.Errorf("SHA256, Size = %q, %d; want the asset's", rel.SHA256, rel.Size)
				}
				if got := open(t, src, rel); !bytes.Equal(got, assetZip) {
					t.Error("Open did not stream the asset")
				}
			},
		},
		{
			name: "asset named after the tag",
			releases: []githubtest.Release{{Tag: "v1.2.0", Archive: archiveZip, Assets: map[string][]byte{
				"v1.2.0.zip": assetZip,
			}}},
			want: sources.Release{Version: "1.2.0", Origin: "manifest"},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if !strings.HasSuffix(rel.PayloadURL, "/releases/download/v1.2.0/v1.2.0.zip") {
					t.Errorf("PayloadURL = %q, want the asset", rel.PayloadURL)
				}
			},
		},
		{
			name: "asset without digest keeps the manifest's sha256",
			releases: []githubtest.Release{{Tag: "1.2.0", OmitDigest: true, Assets: map[string][]byte{
				"1.2.0.zip": assetZip,
			}}},
			want: sources.Release{Version: "1.2.0", Origin: "manifest", SHA256: sum(assetZip)},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if rel.SHA256 != sum(assetZip) || !strings.Contains(rel.PayloadURL, "/releases/download/") {
					t.Errorf("Resolve = %+v", rel)
				}
			},
		},
		{
			name: "asset digest contradicts the manifest",
			releases: []githubtest.Release{{Tag: "1.2.0", Assets: map[string][]byte{
				"1.2.0.zip": assetZip,
			}}},
			want: sources.Release{Version: "1.2.0", Origin: "manifest", SHA256: strings.Repeat("1", 64)},
			is:   sources.ErrInvalid,
		},
		{
			name:     "draft is unreleased",
			releases: []githubtest.Release{{Tag: "1.2.0", Draft: true, Archive: archiveZip}},
			want:     sources.Release{Version: "1.2.0", Origin: "manifest"},
			is:       sources.ErrUnreleased,
		},
		{
			name:     "prerelease flagged",
			releases: []githubtest.Release{{Tag: "1.2.0-beta.1", Prerelease: true, Body: "beta"}},
			want:     sources.Release{Version: "1.2.0-beta.1", Origin: "manifest"},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if !rel.Prerelease || rel.Tag != "1.2.0-beta.1" || rel.ReleaseNotes != "beta" {
					t.Errorf("Resolve = %+v", rel)
				}
			},
		},
		{
			name:     "other version released only",
			releases: []githubtest.Release{{Tag: "1.1.0"}},
			want:     sources.Release{Version: "1.2.0", Origin: "manifest"},
			is:       sources.ErrUnreleased,
		},
		{
			name:     "request matched as semver",
			releases: []githubtest.Release{{Tag: "1.0.0"}, {Tag: "v1.2.0", Body: "one two"}, {Tag: "1.3.0"}},
			want:     sources.Release{Version: "1.2", Origin: "request"},
			check: func(t *testing.T, rel sources.Release, _ *github.Source) {
				if rel.Tag != "v1.2.0" || rel.ReleaseNotes != "one two" || rel.Version != "1.2" || rel.Origin != "request" {
					t.Errorf("Resolve = %+v", rel)
				}
			},
		},
		{
			name:     "manifest version not matched as semver",
			releases: []githubtest.Release{{Tag: "v1.2.0"}},
			want:     sources.Release{Version: "1.2", Origin: "manifest"},
			is:       sources.ErrUnreleased,
		},
		{
			name:     "request for an absent version",
			releases: []githubtest.Release{{Tag: "1.0.0"}},
			want:     sources.Release{Version: "2.0.0", Origin: "request"},
			is:       sources.ErrUnreleased,
		},
		{
			name:     "version that cannot be a tag",
			releases: []githubtest.Release{{Tag: "1.0.0"}},
			want:     sources.Release{Version: "../../x", Origin: "manifest"},
			is:       sources.ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, src, q := setup(t)
			for _, r := range tt.releases {
				srv.AddRelease(owner, repo, r)
			}
			rel, err := src.Resolve(t.Context(), q, tt.want)
			if tt.is != nil {
				if !errors.Is(err, tt.is) {
					t.Fatalf("err = %v, want %v", err, tt.is)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, rel, src)
		})
	}
}

func TestUnreleasedMessage(t *testing.T) {
	srv, src, q := setup(t)
	q.Package = "a2.modules"
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "0.7.2"})
	_, err := src.Resolve(t.Context(), q, sources.Release{Version: "0.8.0", Origin: "manifest"})
	const want = "a2.modules 0.8.0: the manifest names 0.8.0 but no release is published for tag 0.8.0 or v0.8.0"
	if !errors.Is(err, sources.ErrUnreleased) || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
	if n := srv.Count("api"); n != 2 {
		t.Errorf("%d API requests, want 2 (one per tag, no listing for a manifest version)", n)
	}
}

func TestResolveRateLimitedFallsBackToTagArchive(t *testing.T) {
	srv, src, q := setup(t)
	archive := sourcetest.Zip(t, map[string]string{"x/a2modsource.json": `{"version":"1.2.0"}`})
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.2.0", map[string]any{"news": "from the manifest", "sha256": strings.Repeat("a", 64)}))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v1.2.0", Body: "from the release", Archive: archive})
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	srv.RateLimit(reset)

	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Origin != "tag-archive" || !rel.NotesUnavailable || rel.News != "from the manifest" || !rel.Resolved {
		t.Errorf("Resolve = %+v, want a tag-archive release with the manifest's news", rel)
	}
	if rel.Tag != "v1.2.0" || !strings.HasSuffix(rel.PayloadURL, "/archive/refs/tags/v1.2.0.zip") || rel.SHA256 != "" {
		t.Errorf("Resolve = %+v", rel)
	}
	if got := open(t, src, rel); !bytes.Equal(got, archive) {
		t.Error("Open did not stream the tag archive")
	}
	if n := srv.Count("api"); n != 1 {
		t.Errorf("%d API requests, want 1 (the rate limit answer)", n)
	}
	if got := src.APIBlockedUntil(); !got.Equal(reset) {
		t.Errorf("APIBlockedUntil = %v, want %v", got, reset)
	}

	// Until the reset, Resolve and Versions leave the API alone.
	for range 3 {
		if _, err := src.Resolve(t.Context(), q, latest); err != nil {
			t.Fatal(err)
		}
	}
	_, err = src.Versions(t.Context(), q)
	var rle *sources.RateLimitError
	if !errors.As(err, &rle) || !rle.Reset.Equal(reset) {
		t.Errorf("Versions err = %v, want a RateLimitError until %v", err, reset)
	}
	if n := srv.Count("api"); n != 1 {
		t.Errorf("%d API requests, want still 1", n)
	}
	// Raw checks go on.
	if _, err := src.Latest(t.Context(), q); err != nil {
		t.Errorf("Latest while the API is blocked: %v", err)
	}
}

func TestResolveRateLimitedWithoutArchiveIsUnreleased(t *testing.T) {
	srv, src, q := setup(t)
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0"})
	srv.RateLimit(time.Now().Add(time.Hour))
	_, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.2.0", Origin: "manifest"})
	if !errors.Is(err, sources.ErrUnreleased) {
		t.Fatalf("err = %v, want ErrUnreleased", err)
	}
	if !strings.Contains(err.Error(), "rate limit") {
		t.Errorf("error %q does not say the API was rate-limited", err)
	}
	if got := srv.Count("archive"); got != 2 {
		t.Errorf("%d archive requests, want 2 (1.2.0 and v1.2.0)", got)
	}
}

func TestResolveAPIDown(t *testing.T) {
	archive := sourcetest.Zip(t, map[string]string{"x/a2modsource.json": `{}`})
	t.Run("500", func(t *testing.T) {
		srv, src, q := setup(t)
		srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.2.0", Body: "notes", Archive: archive})
		srv.FailAPI(true)
		rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.2.0", News: "manifest", Origin: "manifest"})
		if err != nil {
			t.Fatal(err)
		}
		if rel.Origin != "tag-archive" || !rel.NotesUnavailable || rel.News != "manifest" {
			t.Errorf("Resolve = %+v", rel)
		}
		if !src.APIBlockedUntil().IsZero() {
			t.Error("an outage blocked the API like a rate limit")
		}
		// Back up: the next Resolve asks the API again.
		srv.FailAPI(false)
		rel, err = src.Resolve(t.Context(), q, sources.Release{Version: "1.2.0", News: "manifest", Origin: "manifest"})
		if err != nil || rel.ReleaseNotes != "notes" || rel.News != "manifest" || rel.NotesUnavailable {
			t.Errorf("after the outage: %+v, %v", rel, err)
		}
	})
	t.Run("connection refused", func(t *testing.T) {
		srv := githubtest.New(t)
		srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.2.0", Archive: archive})
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		dead := "http://" + l.Addr().String() + "/"
		l.Close()
		cfg := srv.Config(srv.Client(""))
		cfg.APIURL = dead
		src := github.New(cfg)
		q := sources.Query{UpdateURL: srv.RepoURL(owner, repo)}
		rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.2.0", Origin: "manifest"})
		if err != nil {
			t.Fatal(err)
		}
		if rel.Origin != "tag-archive" || !rel.NotesUnavailable {
			t.Errorf("Resolve = %+v", rel)
		}
	})
}

func TestResolveCancelled(t *testing.T) {
	srv, src, q := setup(t)
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0"})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := src.Resolve(ctx, q, sources.Release{Version: "1.0.0"}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if _, err := src.Versions(ctx, q); !errors.Is(err, context.Canceled) {
		t.Errorf("Versions err = %v, want context.Canceled", err)
	}
}

// authLog records whether requests to a server carried Authorization.
type authLog struct {
	mu   sync.Mutex
	auth []bool
}

func (l *authLog) add(r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.auth = append(l.auth, r.Header.Get("Authorization") != "")
}

func TestTokenGoesToTheAPIHostOnly(t *testing.T) {
	const token = "ghp_secret"
	srv := githubtest.New(t)
	asset := sourcetest.Zip(t, map[string]string{"a2modsource.json": `{}`})
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": asset}})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "0.9.0"})
	src := srv.Source(token)
	q := sources.Query{UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}

	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil {
		t.Fatal(err)
	}
	open(t, src, rel)
	old, err := src.Resolve(t.Context(), q, sources.Release{Version: "0.9.0", Origin: "request"})
	if err != nil {
		t.Fatal(err)
	}
	open(t, src, old)
	srv.RateLimit(time.Now().Add(time.Hour))
	if _, err := src.Resolve(t.Context(), q, sources.Release{Version: "0.9.0", Origin: "request"}); err != nil {
		t.Fatal(err)
	}

	kinds := map[string]int{}
	for _, r := range srv.Requests() {
		kinds[r.Kind]++
		if r.Auth != (r.Host == "api") {
			t.Errorf("%s %s on %s: Authorization present = %v", r.Method, r.Path, r.Host, r.Auth)
		}
	}
	for _, k := range []string{"raw", "api", "asset", "archive"} {
		if kinds[k] == 0 {
			t.Errorf("no %s request was checked (%v)", k, kinds)
		}
	}

	t.Run("redirect to another host", func(t *testing.T) {
		var front authLog
		redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			front.add(r)
			http.Redirect(w, r, srv.API.URL+r.URL.RequestURI(), http.StatusMovedPermanently)
		}))
		defer redirector.Close()
		srv.RateLimit(time.Time{})
		srv.Reset()
		cfg := srv.Config(nil)
		cfg.APIURL = redirector.URL + "/"
		cfg.Client = githubtestClient(srv, token, cfg)
		src := github.New(cfg)
		rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: "manifest"})
		if err != nil {
			t.Fatal(err)
		}
		if rel.Origin == "tag-archive" {
			t.Fatalf("the redirected API was not reached: %+v", rel)
		}
		if len(front.auth) == 0 || !front.auth[0] {
			t.Errorf("the API host got no token: %v", front.auth)
		}
		for _, r := range srv.Requests() {
			if r.Auth {
				t.Errorf("%s %s on %s after a redirect carried Authorization", r.Method, r.Path, r.Host)
			}
		}
		if srv.Count("api") == 0 {
			t.Error("no request reached the redirect target")
		}
	})
}

func TestEnterpriseAPIPrefix(t *testing.T) {
	srv := githubtest.New(t)
	cfg := srv.Config(nil)
	cfg.APIURL = srv.API.URL + "/api/v3" // no trailing slash: normalised
	cfg.Client = githubtestClient(srv, "tok", cfg)
	src := github.New(cfg)
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v2.0.0", Body: "enterprise notes"})
	for i := range 3 {
		srv.AddRelease(owner, repo, githubtest.Release{Tag: fmt.Sprintf("1.%d.0", i)})
	}
	q := sources.Query{UpdateURL: srv.RepoURL(owner, repo)}
	rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "2.0.0", Origin: "manifest"})
	if err != nil {
		t.Fatal(err)
	}
	if rel.ReleaseNotes != "enterprise notes" || rel.Tag != "v2.0.0" {
		t.Errorf("Resolve = %+v", rel)
	}
	if _, err := src.Versions(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Host == "api" && (!strings.HasPrefix(r.Path, "/api/v3/repos/acme/tools.modules/releases") || !r.Auth) {
			t.Errorf("API request %s (auth %v), want one under /api/v3/ with the token", r.Path, r.Auth)
		}
	}
}

func TestVersionsPages(t *testing.T) {
	srv, src, q := setup(t)
	const n = 250
	for i := range n {
		srv.AddRelease(owner, repo, githubtest.Release{Tag: fmt.Sprintf("v0.%d.0", i), Body: fmt.Sprintf("notes %d", i), Prerelease: i%10 == 0})
	}
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v9.9.9", Draft: true})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "latest", Assets: map[string][]byte{"latest.zip": []byte("zip")}})
	rels, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(rels) != n+1 {
		t.Fatalf("%d releases, want %d (drafts left out)", len(rels), n+1)
	}
	if got := srv.Count("api"); got != 3 {
		t.Errorf("%d API requests, want 3 pages", got)
	}
	first, last := rels[0], rels[len(rels)-1]
	if first.Tag != "latest" || first.Version != "latest" || !strings.HasSuffix(first.PayloadURL, "/releases/download/latest/latest.zip") || first.Size != 3 {
		t.Errorf("newest release = %+v", first)
	}
	if last.Tag != "v0.0.0" || last.Version != "0.0.0" || last.ReleaseNotes != "notes 0" || !last.Prerelease ||
		last.Origin != "release" || !last.Resolved || !strings.HasSuffix(last.PayloadURL, "/archive/refs/tags/v0.0.0.zip") {
		t.Errorf("oldest release = %+v", last)
	}
	for _, r := range rels {
		if r.Tag == "v9.9.9" {
			t.Error("a draft was listed")
		}
	}
}

func TestVersionsOfMissingRepo(t *testing.T) {
	srv, src, q := setup(t)
	if _, err := src.Versions(t.Context(), q); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("Versions of a missing repository: err = %v, want ErrNotFound", err)
	}
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
	rels, err := src.Versions(t.Context(), q)
	if err != nil || len(rels) != 0 {
		t.Errorf("Versions of a repository without releases = %v, %v; want none", rels, err)
	}
	_, err = src.Resolve(t.Context(), sources.Query{UpdateURL: srv.RepoURL(owner, "nope")}, sources.Release{Version: "1.0.0", Origin: "request"})
	if !errors.Is(err, sources.ErrUnreleased) {
		t.Errorf("Resolve in a missing repository: err = %v, want ErrUnreleased", err)
	}
}

func TestLocate(t *testing.T) {
	srv, src, q := setup(t)
	q.MainBranch = "main"
	m, p, err := src.Locate(q, "1.0.0")
	if err != nil {
		t.Fatal(err)
	}
	if m != srv.Raw.URL+"/acme/tools.modules/main/a2modsource.json" || p != srv.Web.URL+"/acme/tools.modules/archive/refs/tags/1.0.0.zip" {
		t.Errorf("Locate = %s, %s", m, p)
	}
	if _, p, err := src.Locate(q, ""); err != nil || p != "" {
		t.Errorf("Locate without version = %q, %v", p, err)
	}
	if srv.Count("api")+srv.Count("raw") != 0 {
		t.Error("Locate made requests")
	}
	q.UpdateURL = "https://example.com/x"
	if _, _, err := src.Locate(q, ""); !errors.Is(err, sources.ErrUnsupported) {
		t.Errorf("err = %v, want ErrUnsupported", err)
	}
}

func TestOpenUnresolved(t *testing.T) {
	_, src, _ := setup(t)
	if _, err := src.Open(t.Context(), sources.Release{Version: "1.0.0"}); err == nil {
		t.Error("Open of an unresolved release succeeded")
	}
}

func TestTagArchiveLayout(t *testing.T) {
	srv, src, q := setup(t)
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "v1.0.0", Files: map[string]string{"a2modsource.json": `{"version":"1.0.0"}`, "mod/a2module.json": "[]"}})
	rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: "manifest"})
	if err != nil {
		t.Fatal(err)
	}
	files := unzipNames(t, open(t, src, rel))
	want := []string{"tools.modules-1.0.0/", "tools.modules-1.0.0/a2modsource.json", "tools.modules-1.0.0/mod/a2module.json"}
	if strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("archive holds %v, want %v", files, want)
	}
}

// githubtestClient is a test client with the token scoped to cfg's API host.
func githubtestClient(_ *githubtest.Server, token string, cfg github.Config) *httpx.Client {
	return httpx.New(httpx.Options{
		Token:        token,
		TokenHost:    github.TokenHost(cfg),
		RetryMax:     1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	})
}

func unzipNames(t *testing.T, b []byte) []string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	return names
}

// TestConformancePrivate runs the whole conformance suite against a private
// repository read with a token: manifest through the contents API, tag
// archives through the zipball API.
func TestConformancePrivate(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
		srv := githubtest.New(t)
		srv.SetPrivate(owner, repo, "ghp_private")
		return srv.Source("ghp_private"), remote{srv}
	})
}

// TestPrivateRepository: with a token, a repository the raw and web hosts
// do not show is read through the API: the manifest (conditionally), the
// release and its payload, asset or zipball. The token goes to the API host
// alone; the one-time download URLs get none.
func TestPrivateRepository(t *testing.T) {
	const token = "ghp_private"
	srv := githubtest.New(t)
	srv.SetPrivate(owner, repo, token)
	asset := sourcetest.Zip(t, map[string]string{"a2modsource.json": `{"version": "1.1.0"}`})
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.1.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.1.0", Assets: map[string][]byte{"1.1.0.zip": asset}})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0", Files: map[string]string{"a2modsource.json": `{"version": "1.0.0"}`}})
	src := srv.Source(token)
	q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}

	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if latest.Version != "1.1.0" || !strings.HasPrefix(latest.ManifestURL, srv.API.URL+"/repos/"+owner+"/"+repo+"/contents/") {
		t.Fatalf("Latest = %+v, want 1.1.0 read through the contents API", latest)
	}
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rel.PayloadURL, srv.API.URL+"/") || rel.SHA256 != sum(asset) {
		t.Errorf("Resolve = %+v, want the asset's API URL and digest", rel)
	}
	if got := open(t, src, rel); !bytes.Equal(got, asset) {
		t.Errorf("asset download: %d bytes, want the %d uploaded", len(got), len(asset))
	}
	old, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: github.OriginRequest})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(old.PayloadURL, "/zipball/1.0.0") {
		t.Errorf("release without an asset: payload %s, want the zipball API", old.PayloadURL)
	}
	if names := unzipNames(t, open(t, src, old)); !slices.Contains(names, repo+"-1.0.0/a2modsource.json") {
		t.Errorf("zipball holds %v", names)
	}

	// The second check goes straight to the API, conditionally, and is
	// answered 304.
	srv.Reset()
	if again, err := src.Latest(t.Context(), q); err != nil || again.Version != "1.1.0" {
		t.Fatalf("second Latest = %+v, %v", again, err)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Host != "api" || !reqs[0].Conditional || reqs[0].Status != http.StatusNotModified {
		t.Errorf("second Latest sent %+v, want one conditional API request answered 304", reqs)
	}

	srv.Reset()
	fresh := srv.Source(token) // has not seen the repository: starts on the raw host
	if _, err := fresh.Latest(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Auth != (r.Host == "api") {
			t.Errorf("%s %s on %s: Authorization present = %v", r.Method, r.Path, r.Host, r.Auth)
		}
	}
	if n := srv.Count("raw"); n != 1 {
		t.Errorf("a new source asked the raw host %d times, want once (then the API)", n)
	}
}

// TestPrivateOpenFallsBackToAPI: a release resolved before the source knew
// the repository was private names the web host's URL; Open, refused
// there, downloads through the API.
func TestPrivateOpenFallsBackToAPI(t *testing.T) {
	const token = "ghp_private"
	srv := githubtest.New(t)
	srv.SetPrivate(owner, repo, token)
	asset := sourcetest.Zip(t, map[string]string{"a2modsource.json": `{}`})
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "2.0.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "2.0.0", Assets: map[string][]byte{"2.0.0.zip": asset}})
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0", Files: map[string]string{"a2modsource.json": `{}`}})
	q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}

	for _, version := range []string{"2.0.0", "1.0.0"} {
		src := srv.Source(token)
		rel, err := src.Resolve(t.Context(), q, sources.Release{Version: version, Origin: github.OriginRequest})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(rel.PayloadURL, srv.Web.URL+"/") {
			t.Fatalf("%s: payload %s, want the web host's (the source has not seen the repository is private)", version, rel.PayloadURL)
		}
		p, err := src.Open(t.Context(), rel)
		if err != nil {
			t.Fatalf("%s: %v", version, err)
		}
		b, err := io.ReadAll(p.Body)
		p.Body.Close()
		if err != nil || len(b) == 0 {
			t.Fatalf("%s: read %d bytes, %v", version, len(b), err)
		}
	}
	if srv.Count("asset") != 2 || srv.Count("archive") != 2 {
		t.Errorf("downloads: %d asset and %d archive requests, want a refused and a signed one each", srv.Count("asset"), srv.Count("archive"))
	}
}

// TestPrivateWithoutAccess: without a token the error says to set one; with
// a token that cannot read the repository it says so. Neither damages
// anything or reaches the API more than once.
func TestPrivateWithoutAccess(t *testing.T) {
	tests := []struct {
		token, want string
		api         int
	}{
		{"", "set GITHUB_TOKEN or GH_TOKEN", 0},
		{"ghp_wrong", "did not find it with the token either", 1},
	}
	for _, tt := range tests {
		srv := githubtest.New(t)
		srv.SetPrivate(owner, repo, "ghp_right")
		srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
		q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo)}
		_, err := srv.Source(tt.token).Latest(t.Context(), q)
		if !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("token %q: err = %v, want ErrNotFound saying %q", tt.token, err, tt.want)
		}
		if n := srv.Count("api"); n != tt.api {
			t.Errorf("token %q: %d API requests, want %d", tt.token, n, tt.api)
		}
	}
}

// TestPrivateRateLimited: when the API is rate-limited, checking a private
// repository says so (the daemon reschedules on it) instead of "not found".
func TestPrivateRateLimited(t *testing.T) {
	const token = "ghp_private"
	srv := githubtest.New(t)
	srv.SetPrivate(owner, repo, token)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
	src := srv.Source(token)
	q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo), Cache: &sourcetest.MemCache{}}
	if _, err := src.Latest(t.Context(), q); err != nil {
		t.Fatal(err)
	}
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	srv.RateLimit(reset)
	for i := range 2 {
		_, err := src.Latest(t.Context(), q)
		var rl *sources.RateLimitError
		if !errors.As(err, &rl) || !rl.Reset.Equal(reset) {
			t.Fatalf("Latest %d while limited: err = %v, want a RateLimitError until %v", i, err, reset)
		}
	}
	if n := srv.Count("api"); n != 2 {
		t.Errorf("%d API requests, want 2 (the second check while limited waits for the reset)", n)
	}
}

// TestTokenRefused: a wrong, expired or revoked token gets 401 from the API
// even for a public repository; every API error says to renew or unset it.
func TestTokenRefused(t *testing.T) {
	const bad = "ghp_expired"
	srv := githubtest.New(t)
	srv.RefuseToken(bad)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.0.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0"})
	srv.SetManifest(owner, "secret", "HEAD", manifest(t, "1.0.0", nil))
	srv.SetPrivate(owner, "secret", "ghp_right")
	src := srv.Source(bad)
	public := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo)}
	private := sources.Query{Package: "secret", UpdateURL: srv.RepoURL(owner, "secret")}

	latest, err := src.Latest(t.Context(), public)
	if err != nil {
		t.Fatalf("Latest of a public repository needs no token: %v", err)
	}
	_, errResolve := src.Resolve(t.Context(), public, latest)
	_, errReleases := src.Versions(t.Context(), public)
	_, errPrivate := src.Latest(t.Context(), private)
	for what, err := range map[string]error{"Resolve": errResolve, "Versions": errReleases, "Latest (private)": errPrivate} {
		var se *httpx.StatusError
		if err == nil || !strings.Contains(err.Error(), "refused the token from GITHUB_TOKEN or GH_TOKEN") {
			t.Errorf("%s: err = %v, want it to say the token was refused", what, err)
		} else if what == "Latest (private)" && (!errors.As(err, &se) || se.Code != http.StatusUnauthorized) {
			t.Errorf("%s: err = %v, want a *httpx.StatusError 401 inside", what, err)
		}
	}
}

// TestSlowServers: a GitHub host that drips its answers far slower than
// any stall timer, or never sends headers, costs one fetch timeout (or,
// for a download, the minimum rate's window) and says which limit was
// hit. An API that does not answer in time is an outage: Resolve falls
// back to the tag archive; what needs the API fails.
func TestSlowServers(t *testing.T) {
	const token = "ghp_slow"
	archive := sourcetest.Zip(t, map[string]string{"x/a2modsource.json": `{"version": "1.2.0"}`})
	tests := []struct {
		name  string
		token string
		slow  func(srv *githubtest.Server)
		run   func(ctx context.Context, src *github.Source, q sources.Query) error
		want  error  // the limit hit; nil when the call must succeed
		cause string // in the message
	}{
		{name: "raw manifest dripping", slow: func(s *githubtest.Server) { s.Drip("raw", 50*time.Millisecond) },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				_, err := src.Latest(ctx, q)
				return err
			},
			want: httpx.ErrFetchTimeout, cause: "/a2modsource.json: took longer than --fetch-timeout 300ms"},
		{name: "private manifest dripping from the contents API", token: token,
			slow: func(s *githubtest.Server) { s.SetPrivate(owner, repo, token); s.Drip("api", 50*time.Millisecond) },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				_, err := src.Latest(ctx, q)
				return err
			},
			want: httpx.ErrFetchTimeout, cause: "/contents/a2modsource.json: took longer than --fetch-timeout 300ms"},
		{name: "release list from an API that never answers", slow: func(s *githubtest.Server) { s.Hang("api") },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				_, err := src.Versions(ctx, q)
				return err
			},
			want: httpx.ErrFetchTimeout, cause: "/releases?per_page=100&page=1: took longer than --fetch-timeout 300ms"},
		{name: "release look-up dripping: the tag archive stands in", slow: func(s *githubtest.Server) { s.Drip("api", 50*time.Millisecond) },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				rel, err := src.Resolve(ctx, q, sources.Release{Version: "1.2.0", Origin: "manifest"})
				if err == nil && (rel.Origin != github.OriginTagArchive || !rel.NotesUnavailable) {
					return fmt.Errorf("resolved %+v, want the tag archive without notes", rel)
				}
				return err
			}},
		{name: "tag archive whose host never answers", slow: func(s *githubtest.Server) { s.Hang("web") },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				_, err := src.Open(ctx, sources.Release{Version: "1.2.0", PayloadURL: q.UpdateURL + "/archive/refs/tags/1.2.0.zip"})
				return err
			},
			want: httpx.ErrFetchTimeout, cause: "/archive/refs/tags/1.2.0.zip: took longer than --fetch-timeout 300ms"},
		{name: "tag archive dripping", slow: func(s *githubtest.Server) { s.Drip("web", 50*time.Millisecond) },
			run: func(ctx context.Context, src *github.Source, q sources.Query) error {
				p, err := src.Open(ctx, sources.Release{Version: "1.2.0", PayloadURL: q.UpdateURL + "/archive/refs/tags/1.2.0.zip"})
				if err != nil {
					return err
				}
				defer p.Body.Close()
				_, err = io.Copy(io.Discard, p.Body)
				return err
			},
			want: httpx.ErrTooSlow, cause: "/archive/refs/tags/1.2.0.zip: averaged "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := githubtest.New(t)
			srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.2.0", nil))
			srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.2.0", Body: "notes", Archive: archive})
			tt.slow(srv)
			client := httpx.New(httpx.Options{
				UserAgent: "modup-test", Token: tt.token, TokenHost: github.TokenHost(srv.Config(nil)),
				RetryMax: 1, RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond,
				StallTimeout: 5 * time.Second, FetchTimeout: 300 * time.Millisecond, MinRateWindow: 200 * time.Millisecond,
			})
			src := github.New(srv.Config(client))
			q := sources.Query{Package: repo, UpdateURL: srv.RepoURL(owner, repo)}
			err := tt.run(t.Context(), src, q)
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.cause) {
				t.Errorf("error %q does not say %q", err, tt.cause)
			}
		})
	}
}

// RateLimit reports the quota the API's last answer stated, and while a
// spent quota blocks the API, until when.
func TestRateLimitState(t *testing.T) {
	srv, src, q := setup(t)
	if rl := src.RateLimit(); rl.Known || !rl.BlockedUntil.IsZero() || rl.Host == "" {
		t.Fatalf("before any API answer: %+v, want unknown, not blocked, with the host", rl)
	}
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.2.0", nil))
	srv.AddRelease(owner, repo, githubtest.Release{Tag: "1.2.0", Files: map[string]string{"a2modsource.json": `{"version":"1.2.0"}`}})
	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Resolve(t.Context(), q, latest); err != nil {
		t.Fatal(err)
	}
	rl := src.RateLimit()
	if !rl.Known || rl.Limit != 60 || rl.Remaining != 59 || rl.Reset.IsZero() || !rl.BlockedUntil.IsZero() {
		t.Errorf("after an API answer: %+v, want 59 of 60 remaining, not blocked", rl)
	}

	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	srv.RateLimit(reset)
	srv.SetManifest(owner, repo, "HEAD", manifest(t, "1.3.0", nil))
	latest, err = src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	src.Resolve(t.Context(), q, latest) // falls back to the tag archive
	rl = src.RateLimit()
	if rl.Remaining != 0 || !rl.Reset.Equal(reset) || !rl.BlockedUntil.Equal(reset) {
		t.Errorf("after a rate limit: %+v, want 0 remaining, blocked until %v", rl, reset)
	}
}
