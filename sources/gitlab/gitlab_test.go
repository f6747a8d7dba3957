package gitlab_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/gitlab"
	"github.com/modup/modup/sources/gitlab/gitlabtest"
	"github.com/modup/modup/sources/sourcetest"
)

// project is a project in nested groups, as many GitLab projects are.
const project = "acme/a2/tools.modules"

// remote is sourcetest.Remote over the fake GitLab.
type remote struct {
	srv     *gitlabtest.Server
	project string
}

func (r remote) Point(t testing.TB, version string, fields map[string]any) {
	r.srv.SetManifest(r.project, "HEAD", sourcetest.ManifestJSON(t, "tools.modules", version, fields))
}

func (r remote) PointRaw(t testing.TB, data []byte) { r.srv.SetManifest(r.project, "HEAD", data) }

func (r remote) Publish(t testing.TB, version string, zip []byte) {
	r.srv.AddRelease(r.project, gitlabtest.Release{Tag: version, Archive: zip})
}

func (r remote) Query(t testing.TB) sources.Query {
	return sources.Query{Package: "tools.modules", UpdateURL: r.srv.ProjectURL(r.project)}
}

// TestConformance runs the shared suite against a public project (API on
// its own host and on the web host, as on gitlab.com), a private one read
// with a token, and a project whose releases carry a link "<version>.zip".
func TestConformance(t *testing.T) {
	t.Run("public", func(t *testing.T) {
		sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
			srv := gitlabtest.New(t)
			return srv.Source(""), remote{srv, project}
		})
	})
	t.Run("shared-host", func(t *testing.T) {
		sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
			srv := gitlabtest.New(t)
			cfg := srv.SharedHostConfig(nil)
			cfg.Client = gitlabtest.Client(cfg, "")
			return gitlab.New(cfg), remote{srv, project}
		})
	})
	t.Run("private", func(t *testing.T) {
		sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
			srv := gitlabtest.New(t)
			srv.SetPrivate(project, "glpat-secret")
			return srv.Source("glpat-secret"), remote{srv, project}
		})
	})
	t.Run("links", func(t *testing.T) {
		sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
			srv := gitlabtest.New(t)
			return srv.Source(""), linkRemote{remote{srv, project}}
		})
	})
}

// linkRemote publishes the payload as a release link "<version>.zip" next
// to a tag archive that is something else.
type linkRemote struct{ remote }

func (r linkRemote) Publish(t testing.TB, version string, zip []byte) {
	r.srv.AddRelease(r.project, gitlabtest.Release{Tag: version, Links: map[string][]byte{version + ".zip": zip},
		Files: map[string]string{"a2modsource.json": `{"version": "0.0.0"}`}})
}

func setup(t *testing.T) (*gitlabtest.Server, *gitlab.Source, sources.Query) {
	t.Helper()
	srv := gitlabtest.New(t)
	q := sources.Query{Package: "tools.modules", UpdateURL: srv.ProjectURL(project), Cache: &sourcetest.MemCache{}}
	return srv, srv.Source(""), q
}

func manifest(t *testing.T, version string, fields map[string]any) []byte {
	return sourcetest.ManifestJSON(t, "tools.modules", version, fields)
}

func TestParseProjectURL(t *testing.T) {
	const web = "https://gitlab.com/"
	for _, tc := range []struct {
		url        string
		wantOK     bool
		path, name string
		branch     string
	}{
		{url: "https://gitlab.com/group/project", wantOK: true, path: "group/project", name: "project"},
		{url: "https://GitLab.com/Group/Sub/Deeper/Project", wantOK: true, path: "Group/Sub/Deeper/Project", name: "Project"},
		{url: "https://gitlab.com/group/project.git", wantOK: true, path: "group/project", name: "project"},
		{url: "https://gitlab.com/group/project/", wantOK: true, path: "group/project", name: "project"},
		{url: "http://www.gitlab.com/group/project", wantOK: true, path: "group/project", name: "project"},
		{url: "https://gitlab.com/group/sub/project/-/tree/feature/x", wantOK: true, path: "group/sub/project", name: "project", branch: "feature/x"},
		{url: "https://gitlab.com/group/project/-/tree/main/", wantOK: true, path: "group/project", name: "project", branch: "main"},
		{url: "https://gitlab.com/a.b_c-d/e.f", wantOK: true, path: "a.b_c-d/e.f", name: "e.f"},
		{url: "https://gitlab.com/project", wantOK: false},
		{url: "https://gitlab.com/group/project/-/releases", wantOK: false},
		{url: "https://gitlab.com/group/project/-/tree", wantOK: false},
		{url: "https://gitlab.com/group/project/-/tree/bad..branch", wantOK: false},
		{url: "https://gitlab.com/group/-project", wantOK: false},
		{url: "https://gitlab.com/group/project.", wantOK: false},
		{url: "https://gitlab.com/group/project.atom", wantOK: false},
		{url: "https://gitlab.com/group/pro ject", wantOK: false},
		{url: "https://gitlab.com/group/project?x=1", wantOK: false},
		{url: "https://gitlab.example.com/group/project", wantOK: false},
		{url: "https://github.com/group/project", wantOK: false},
		{url: "ftp://gitlab.com/group/project", wantOK: false},
		{url: "https://user@gitlab.com/group/project", wantOK: false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			p, ok := gitlab.ParseProjectURL(tc.url, web)
			if ok != tc.wantOK {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tc.wantOK, p)
			}
			if ok && (p.Path != tc.path || p.Name() != tc.name || p.Branch != tc.branch) {
				t.Errorf("= %+v (name %q), want path %q name %q branch %q", p, p.Name(), tc.path, tc.name, tc.branch)
			}
		})
	}
	// A self-hosted instance below a folder.
	if p, ok := gitlab.ParseProjectURL("https://example.com/gitlab/g/p", "https://example.com/gitlab/"); !ok || p.Path != "g/p" {
		t.Errorf("instance under a folder: %+v, %v", p, ok)
	}
	if _, ok := gitlab.ParseProjectURL("https://example.com/other/g/p", "https://example.com/gitlab/"); ok {
		t.Error("a path outside the instance's folder matched")
	}
}

func TestConfigFromEnvAndClientOptions(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name          string
		env           map[string]string
		web, api      string
		tokenHost     string
		tokenPath     string
		authorized    string
		notAuthorized string
	}{
		{
			name: "gitlab.com", web: "https://gitlab.com/", api: "https://gitlab.com/api/v4/",
			tokenHost: "gitlab.com", tokenPath: "/api/v4/",
			authorized: "https://gitlab.com/api/v4/projects/x", notAuthorized: "https://gitlab.com/g/p/-/raw/HEAD/a2modsource.json",
		},
		{
			name: "web moved, API follows", env: map[string]string{gitlab.EnvWebURL: "https://git.example.com"},
			web: "https://git.example.com/", api: "https://git.example.com/api/v4/",
			tokenHost: "git.example.com", tokenPath: "/api/v4/",
			authorized: "https://git.example.com/api/v4/projects/x", notAuthorized: "https://gitlab.com/api/v4/projects/x",
		},
		{
			name: "both moved", env: map[string]string{gitlab.EnvWebURL: "http://127.0.0.1:8080/", gitlab.EnvAPIURL: "http://127.0.0.1:9090/api/v4"},
			web: "http://127.0.0.1:8080/", api: "http://127.0.0.1:9090/api/v4/",
			tokenHost: "127.0.0.1:9090", tokenPath: "/api/v4/",
			authorized: "http://127.0.0.1:9090/api/v4/projects/x", notAuthorized: "http://127.0.0.1:8080/api/v4/projects/x",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := gitlab.ConfigFromEnv(env(tc.env))
			if cfg.WebURL != tc.web || cfg.APIURL != tc.api || cfg.TokenEnv != gitlab.EnvToken {
				t.Errorf("ConfigFromEnv = %+v", cfg)
			}
			// gitlab.com's update_urls stay gitlab.com's, wherever its
			// endpoints are.
			cfg.Client = httpx.New(httpx.Options{})
			if !gitlab.New(cfg).Match("https://gitlab.com/g/p") {
				t.Error("https://gitlab.com/g/p does not match")
			}
			o := gitlab.ClientOptions(cfg, httpx.Options{UserAgent: "x"}, " tok ")
			if o.Token != "tok" || o.TokenHost != tc.tokenHost || o.TokenPath != tc.tokenPath || o.TokenHeader != gitlab.TokenHeader || o.UserAgent != "x" {
				t.Errorf("ClientOptions = %+v", o)
			}
			c := httpx.New(o)
			if !c.Authorized(tc.authorized) || c.Authorized(tc.notAuthorized) {
				t.Errorf("Authorized(%s) = %v, Authorized(%s) = %v", tc.authorized, c.Authorized(tc.authorized), tc.notAuthorized, c.Authorized(tc.notAuthorized))
			}
		})
	}
}

// TestLatestCostsNoAPI: routine checks read the raw manifest, conditionally,
// and never ask the API of a public project.
func TestLatestCostsNoAPI(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(project, "HEAD", manifest(t, "1.0.0", nil))
	for range 3 {
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.0.0" {
			t.Fatalf("Latest = %+v, %v", rel, err)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 3 || srv.Count("api") != 0 {
		t.Fatalf("requests:\n%s", srv.Describe())
	}
	for i, r := range reqs {
		if r.Kind != "raw" || r.Path != "/acme/a2/tools.modules/-/raw/HEAD/a2modsource.json" {
			t.Errorf("request %d: %+v", i, r)
		}
		if i > 0 && (!r.Conditional || r.Status != 304) {
			t.Errorf("request %d is not a conditional 304: %+v", i, r)
		}
	}
}

func TestBranches(t *testing.T) {
	for _, tc := range []struct {
		name, suffix, mainBranch, wantPath string
	}{
		{name: "default", wantPath: "/-/raw/HEAD/"},
		{name: "main_branch", mainBranch: "release", wantPath: "/-/raw/release/"},
		{name: "tree in update_url wins", suffix: "/-/tree/dev/x", mainBranch: "release", wantPath: "/-/raw/dev/x/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, src, q := setup(t)
			q.UpdateURL += tc.suffix
			q.MainBranch = tc.mainBranch
			srv.SetManifest(project, strings.TrimSuffix(strings.TrimPrefix(tc.wantPath, "/-/raw/"), "/"), manifest(t, "2.0.0", nil))
			rel, err := src.Latest(t.Context(), q)
			if err != nil || rel.Version != "2.0.0" || !strings.Contains(rel.ManifestURL, tc.wantPath) {
				t.Fatalf("Latest = %+v, %v", rel, err)
			}
		})
	}
	srv, src, q := setup(t)
	q.MainBranch = "gone"
	srv.SetManifest(project, "HEAD", manifest(t, "1.0.0", nil))
	_, err := src.Latest(t.Context(), q)
	if !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), `main_branch ("gone")`) || !strings.Contains(err.Error(), "GITLAB_TOKEN") {
		t.Errorf("missing branch: %v", err)
	}
}

// TestResolve: notes from the release description, the link named after
// the version or the tag, else the tag archive; the API only for Resolve.
func TestResolve(t *testing.T) {
	for _, tc := range []struct {
		name        string
		release     gitlabtest.Release
		wantTag     string
		wantPayload string // "link" or "archive"
		wantNotes   string // the release description
	}{
		{
			name:    "tag archive",
			release: gitlabtest.Release{Tag: "v1.2.0", Description: "## Fixed\n- things", Files: map[string]string{"a2modsource.json": `{"version":"1.2.0"}`}},
			wantTag: "v1.2.0", wantPayload: "archive", wantNotes: "## Fixed\n- things",
		},
		{
			name:    "link named after the version",
			release: gitlabtest.Release{Tag: "v1.2.0", Links: map[string][]byte{"1.2.0.zip": []byte("LINK"), "other.zip": []byte("x")}},
			wantTag: "v1.2.0", wantPayload: "link",
		},
		{
			name:    "link named after the tag",
			release: gitlabtest.Release{Tag: "v1.2.0", Links: map[string][]byte{"v1.2.0.zip": []byte("LINK")}},
			wantTag: "v1.2.0", wantPayload: "link",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, src, q := setup(t)
			srv.SetManifest(project, "HEAD", manifest(t, "1.2.0", map[string]any{"news": "manifest news"}))
			srv.AddRelease(project, tc.release)
			rel := sourcetest.LatestResolved(t, src, q)
			if rel.Tag != tc.wantTag || rel.News != "manifest news" || rel.ReleaseNotes != tc.wantNotes || rel.Origin != gitlab.OriginManifest || rel.NotesUnavailable {
				t.Errorf("Resolve = %+v", rel)
			}
			got := sourcetest.OpenBytes(t, src, rel)
			switch tc.wantPayload {
			case "link":
				// The permanent link redirects to the package registry.
				if string(got) != "LINK" || srv.Count("asset") != 2 {
					t.Errorf("payload %q, %d link requests, want the permanent link and its target", got, srv.Count("asset"))
				}
			case "archive":
				if !strings.HasSuffix(rel.PayloadURL, "/acme/a2/tools.modules/-/archive/v1.2.0/tools.modules-v1.2.0.zip") || srv.Count("archive") != 1 {
					t.Errorf("PayloadURL %s, %d archive downloads", rel.PayloadURL, srv.Count("archive"))
				}
			}
		})
	}
}

// TestResolveRequestBySemver: --to 1.2 finds the release tagged v1.2.0.
func TestResolveRequestBySemver(t *testing.T) {
	srv, src, q := setup(t)
	srv.AddRelease(project, gitlabtest.Release{Tag: "v1.2.0", Files: map[string]string{"a2modsource.json": "{}"}})
	rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.2", Origin: gitlab.OriginRequest})
	if err != nil || rel.Tag != "v1.2.0" {
		t.Fatalf("Resolve(1.2) = %+v, %v", rel, err)
	}
}

func TestUpcomingReleaseIsUnreleased(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(project, "HEAD", manifest(t, "2.0.0", nil))
	srv.AddRelease(project, gitlabtest.Release{Tag: "2.0.0", Upcoming: true, Files: map[string]string{"a2modsource.json": "{}"}})
	latest, err := src.Latest(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Resolve(t.Context(), q, latest); !errors.Is(err, sources.ErrUnreleased) {
		t.Errorf("Resolve of an upcoming release: %v, want ErrUnreleased", err)
	}
	list, err := src.Versions(t.Context(), q)
	if err != nil || len(list) != 0 {
		t.Errorf("Versions = %+v, %v; want none", list, err)
	}
}

// TestRateLimitFallsBackToTagArchive: a 429 with GitLab's headers blocks
// the API until the reset; Resolve uses the tag archive meanwhile, and
// Versions says when to come back.
func TestRateLimitFallsBackToTagArchive(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(project, "HEAD", manifest(t, "1.2.0", map[string]any{"news": "from the manifest"}))
	srv.AddRelease(project, gitlabtest.Release{Tag: "v1.2.0", Description: "notes", Files: map[string]string{"a2modsource.json": "{}"}})
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	srv.RateLimit(reset)
	rel := sourcetest.LatestResolved(t, src, q)
	if rel.Origin != gitlab.OriginTagArchive || !rel.NotesUnavailable || rel.News != "from the manifest" || rel.Tag != "v1.2.0" {
		t.Errorf("Resolve under a rate limit = %+v", rel)
	}
	if until := src.APIBlockedUntil(q.UpdateURL); !until.Equal(reset) {
		t.Errorf("APIBlockedUntil = %v, want %v", until, reset)
	}
	apiCalls := srv.Count("api")
	sourcetest.LatestResolved(t, src, q)
	if srv.Count("api") != apiCalls {
		t.Error("the API was asked again before its reset")
	}
	_, err := src.Versions(t.Context(), q)
	var rl *sources.RateLimitError
	if !errors.As(err, &rl) || !rl.Reset.Equal(reset) {
		t.Errorf("Versions under a rate limit: %v", err)
	}
}

func TestAPIOutageFallsBackToTagArchive(t *testing.T) {
	srv, src, q := setup(t)
	srv.SetManifest(project, "HEAD", manifest(t, "1.2.0", nil))
	srv.AddRelease(project, gitlabtest.Release{Tag: "1.2.0", Files: map[string]string{"a2modsource.json": "{}"}})
	srv.FailAPI(true)
	latest, _ := src.Latest(t.Context(), q)
	rel, err := src.Resolve(t.Context(), q, latest)
	if err != nil || rel.Origin != gitlab.OriginTagArchive || len(sourcetest.OpenBytes(t, src, rel)) == 0 {
		t.Fatalf("Resolve during an outage = %+v, %v", rel, err)
	}
}

// TestPrivateProject: without a token the sign-in page is explained; with
// one the manifest comes from the files API and the archive through the
// API, and the token reaches nothing but the API, on its own host or on a
// host shared with the web site.
func TestPrivateProject(t *testing.T) {
	for _, shared := range []bool{false, true} {
		name := map[bool]string{false: "api-host", true: "shared-host"}[shared]
		t.Run(name, func(t *testing.T) {
			srv := gitlabtest.New(t)
			srv.SetPrivate(project, "glpat-1")
			srv.SetManifest(project, "HEAD", manifest(t, "1.0.0", nil))
			srv.AddRelease(project, gitlabtest.Release{Tag: "v1.0.0", Files: map[string]string{"a2modsource.json": `{"version":"1.0.0"}`}})
			newSrc := func(token string) *gitlab.Source {
				cfg := srv.Config(nil)
				if shared {
					cfg = srv.SharedHostConfig(nil)
				}
				cfg.Client = gitlabtest.Client(cfg, token)
				return gitlab.New(cfg)
			}
			q := sources.Query{UpdateURL: srv.ProjectURL(project), Cache: &sourcetest.MemCache{}}

			_, err := newSrc("").Latest(t.Context(), q)
			if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), "set GITLAB_TOKEN") {
				t.Errorf("without a token: %v", err)
			}
			src := newSrc("glpat-1")
			srv.Reset()
			for range 2 {
				if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != "1.0.0" {
					t.Fatalf("Latest with the token = %+v, %v", rel, err)
				}
			}
			rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: gitlab.OriginManifest})
			if err != nil {
				t.Fatal(err)
			}
			if b := sourcetest.OpenBytes(t, src, rel); len(b) == 0 {
				t.Error("empty archive")
			}
			reqs := srv.Requests()
			if last := reqs[len(reqs)-1]; last.Kind != "api" || !strings.HasSuffix(last.Path, "/repository/archive.zip") {
				t.Errorf("the archive of a private project came from %+v", last)
			}
			for _, r := range reqs {
				if r.Token != strings.HasPrefix(r.Path, "/api/v4/") || r.Auth {
					t.Errorf("%s %s on %s (%s): PRIVATE-TOKEN %v, Authorization %v", r.Method, r.Path, r.Host, r.Kind, r.Token, r.Auth)
				}
			}
			// The second check went straight to the files API, conditionally.
			files := 0
			for _, r := range reqs {
				if strings.Contains(r.Path, "/repository/files/") {
					files++
					if files == 2 && r.Status != 304 {
						t.Errorf("second manifest read: %+v, want a 304", r)
					}
				}
			}
			if files != 2 || srv.Count("raw") != 1 {
				t.Errorf("%d files API reads and %d raw reads, want 2 and 1:\n%s", files, srv.Count("raw"), srv.Describe())
			}
		})
	}
}

func TestRefusedToken(t *testing.T) {
	srv := gitlabtest.New(t)
	srv.RefuseToken("glpat-old")
	srv.SetManifest(project, "HEAD", manifest(t, "1.0.0", nil))
	srv.AddRelease(project, gitlabtest.Release{Tag: "1.0.0", Files: map[string]string{"a2modsource.json": "{}"}})
	src := srv.Source("glpat-old")
	q := sources.Query{UpdateURL: srv.ProjectURL(project)}
	_, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.0.0", Origin: gitlab.OriginManifest})
	if err == nil || !strings.Contains(err.Error(), "GitLab refused the token from GITLAB_TOKEN") {
		t.Errorf("Resolve with a refused token: %v", err)
	}
}

// TestVersionsPaginates: releases beyond the first page of 100 are listed.
func TestVersionsPaginates(t *testing.T) {
	srv, src, q := setup(t)
	for i := range 105 {
		srv.AddRelease(project, gitlabtest.Release{Tag: "v1.0." + strconv.Itoa(i), Files: map[string]string{"a2modsource.json": "{}"}})
	}
	srv.AddRelease(project, gitlabtest.Release{Tag: "v2.0.0-rc.1", Files: map[string]string{"a2modsource.json": "{}"}})
	list, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 106 || list[0].Version != "2.0.0-rc.1" || !list[0].Prerelease || list[105].Version != "1.0.0" || list[105].Prerelease {
		t.Fatalf("Versions: %d entries, first %+v, last %+v", len(list), list[0], list[len(list)-1])
	}
	pages := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/releases") {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("%d pages asked, want 2", pages)
	}
}

// TestSeveralInstances: one source serves gitlab.com's fake and a
// self-hosted one, each with its own token.
func TestSeveralInstances(t *testing.T) {
	a, b := gitlabtest.New(t), gitlabtest.New(t)
	ca, cb := a.Config(nil), b.Config(nil)
	ca.Client = gitlabtest.Client(ca, "token-a")
	cb.TokenEnv = "CORP_GITLAB_TOKEN"
	cb.Client = gitlabtest.Client(cb, "token-b")
	src := gitlab.New(ca, cb)
	a.SetPrivate(project, "token-a")
	b.SetPrivate(project, "token-b")
	a.SetManifest(project, "HEAD", manifest(t, "1.0.0", nil))
	b.SetManifest(project, "HEAD", manifest(t, "2.0.0", nil))
	for srv, want := range map[*gitlabtest.Server]string{a: "1.0.0", b: "2.0.0"} {
		q := sources.Query{UpdateURL: srv.ProjectURL(project)}
		if !src.Match(q.UpdateURL) {
			t.Fatalf("%s does not match", q.UpdateURL)
		}
		if rel, err := src.Latest(t.Context(), q); err != nil || rel.Version != want {
			t.Errorf("Latest(%s) = %+v, %v", q.UpdateURL, rel, err)
		}
	}
	if src.Match("https://gitlab.com/g/p") {
		t.Error("gitlab.com matched a source configured for two other instances")
	}
	b.RemoveManifest(project, "HEAD")
	_, err := src.Latest(t.Context(), sources.Query{UpdateURL: b.ProjectURL(project)})
	if !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), "a token that can read it") {
		t.Errorf("missing manifest on the second instance: %v", err)
	}
}

// ReleaseManifest reads what an older release requires from the manifest
// at its tag (either spelling of the version), from the web host, or
// through the files API for a private project; it downloads no archive.
func TestReleaseManifest(t *testing.T) {
	requires := func(c string) map[string]any {
		return map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"lib": c}}}
	}
	for _, private := range []bool{false, true} {
		t.Run(map[bool]string{false: "public", true: "private"}[private], func(t *testing.T) {
			srv := gitlabtest.New(t)
			token := ""
			if private {
				token = "glpat-1"
				srv.SetPrivate(project, token)
			}
			srv.SetManifest(project, "HEAD", manifest(t, "2.0.0", requires("^2.0")))
			srv.SetManifest(project, "v1.0.0", manifest(t, "1.0.0", requires("^1.0")))
			src := srv.Source(token)
			q := sources.Query{Package: "tools.modules", UpdateURL: srv.ProjectURL(project), Cache: &sourcetest.MemCache{}}
			if _, err := src.Latest(t.Context(), q); err != nil {
				t.Fatal(err)
			}
			srv.Reset()
			rel, err := src.ReleaseManifest(t.Context(), q, sources.Release{Version: "1.0.0"})
			if err != nil || !rel.RequirementsKnown || rel.Requirements.Packages["lib"].String() != "^1.0" {
				t.Fatalf("ReleaseManifest(1.0.0) = %+v, %v", rel.Requirements, err)
			}
			if srv.Count("archive") != 0 || srv.Count("asset") != 0 {
				t.Errorf("a payload was downloaded:\n%s", srv.Describe())
			}
			for _, r := range srv.Requests() {
				viaAPI := strings.Contains(r.Path, "/repository/files/")
				if viaAPI != private && r.Status == 200 {
					t.Errorf("read %s (%s) for a %s project", r.Path, r.Kind, map[bool]string{false: "public", true: "private"}[private])
				}
			}
			_, err = src.ReleaseManifest(t.Context(), q, sources.Release{Version: "0.9.0"})
			if !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), "no a2modsource.json at tag 0.9.0") {
				t.Errorf("ReleaseManifest(0.9.0) = %v", err)
			}
		})
	}
}
