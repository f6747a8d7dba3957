package crawl_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/crawl"
	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/indextest"
	"github.com/modup/modup/sources/github/githubtest"
)

// fixture is an index database and a crawler over the test registry.
type fixture struct {
	t  *testing.T
	st *store.Store
	c  *crawl.Crawler
}

func newFixture(t *testing.T, env ...string) *fixture {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{t: t, st: st, c: &crawl.Crawler{Registry: indextest.Registry(t, env...), Store: st, TempDir: t.TempDir()}}
}

// crawl sets the sources and crawls them once.
func (f *fixture) crawl(urls ...string) crawl.Report {
	f.t.Helper()
	if _, _, err := f.st.SetSources(f.t.Context(), urls); err != nil {
		f.t.Fatal(err)
	}
	rep, err := f.c.Run(f.t.Context(), urls)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

// info is a package's info document as the index would serve it now.
func (f *fixture) info(name string) *doc.PackageInfo {
	f.t.Helper()
	d, _, ok := f.site().Document(doc.PackageInfoPath(name))
	if !ok {
		f.t.Fatalf("no info document of %s", name)
	}
	return d.(*doc.PackageInfo)
}

func (f *fixture) site() *publish.Site {
	f.t.Helper()
	snap, err := f.st.Snapshot(f.t.Context())
	if err != nil {
		f.t.Fatal(err)
	}
	return publish.Build(snap, publish.Options{Mirror: f.c.Mirror != ""})
}

func versions(info *doc.PackageInfo) string {
	var v []string
	for _, x := range info.Versions {
		v = append(v, x.Version)
	}
	return strings.Join(v, " ")
}

func problem(v doc.Version, check string) *doc.Problem {
	for i := range v.Problems {
		if v.Problems[i].Check == check {
			return &v.Problems[i]
		}
	}
	return nil
}

// TestWebBuildRefreshAccumulate: a web folder's versions accumulate from
// its pointer; an unchanged refresh costs one conditional request answered
// 304 and downloads nothing; a moved pointer costs the new zip only.
func TestWebBuildRefreshAccumulate(t *testing.T) {
	web := indextest.NewWeb(t)
	z1 := web.Publish(t, "/hello", "hello", "1.0.0", []indextest.Module{{Name: "greet", DisplayName: "Greet",
		Description: "Says <b>hello</b> &amp; waves.<br>Twice.", Version: "1.0", Tags: []string{"example"}}})
	f := newFixture(t)
	url := web.URL + "/hello"

	rep := f.crawl(url)
	if rep.Failed() != 0 || !rep.Changed || rep.Results[0].Added != 1 || rep.Results[0].Downloads != 1 {
		t.Fatalf("build = %+v", rep.Results)
	}
	info := f.info("hello")
	if versions(info) != "1.0.0" || info.Latest != "1.0.0" || info.Description != "The hello package." || info.UpdateURL != url {
		t.Fatalf("info = %+v", info)
	}
	v := info.Versions[0]
	if v.SHA256 != indextest.SHA256(z1) || v.Size != int64(len(z1)) || v.PayloadURL != url+"/1.0.0.zip" || len(v.Problems) != 0 {
		t.Errorf("version = %+v", v)
	}
	if len(v.Modules) != 1 || v.Modules[0].Description != "Says hello & waves. Twice." || v.Modules[0].DisplayName != "Greet" ||
		strings.Join(v.Modules[0].Tags, ",") != "example" || v.Modules[0].Author != "tester" {
		t.Errorf("modules = %+v, want the description as plain text", v.Modules)
	}
	if !strings.Contains(string(v.Manifest), `"version": "1.0.0"`) {
		t.Errorf("manifest = %s, want the zip's a2modsource.json", v.Manifest)
	}

	web.Reset()
	rep = f.crawl(url)
	if rep.Changed || rep.Failed() != 0 || rep.Results[0].Downloads != 0 {
		t.Fatalf("unchanged refresh = %+v", rep.Results)
	}
	if got := web.Counts(); len(got) != 1 || got["GET /hello/a2modsource.json 304"] != 1 {
		t.Errorf("unchanged refresh asked %v, want one conditional GET answered 304", got)
	}

	web.Reset()
	z2 := web.Publish(t, "/hello", "hello", "1.1.0", nil)
	rep = f.crawl(url)
	if !rep.Changed || rep.Results[0].Added != 1 || rep.Results[0].Versions != 2 {
		t.Fatalf("refresh after a release = %+v", rep.Results)
	}
	if got := web.Counts(); got["GET /hello/1.1.0.zip 200"] != 1 || got["GET /hello/1.0.0.zip 200"] != 0 {
		t.Errorf("refresh after a release asked %v, want the new zip once and the old one never", got)
	}
	info = f.info("hello")
	if versions(info) != "1.1.0 1.0.0" || info.Latest != "1.1.0" || info.Versions[0].SHA256 != indextest.SHA256(z2) {
		t.Errorf("versions %q, latest %q; want both, 1.1.0 first", versions(info), info.Latest)
	}
}

// TestFailingSourceKeepsItsData: HTML, a broken manifest, an unreleased
// version or a timeout is the source's error, worded as check words it;
// its versions stay, and the other sources are crawled.
func TestFailingSourceKeepsItsData(t *testing.T) {
	web := indextest.NewWeb(t)
	web.Publish(t, "/a", "alpha", "1.0.0", nil)
	web.Publish(t, "/b", "beta", "2.0.0", nil)
	f := newFixture(t)
	f.c.Timeout = 2 * time.Second
	a, b := web.URL+"/a", web.URL+"/b"
	if rep := f.crawl(a, b); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	cases := []struct {
		name   string
		break_ func()
		want   string
	}{
		{"html", func() { web.Put("/a/a2modsource.json", []byte("<!DOCTYPE html><html>Sign in</html>")) }, "got an HTML page instead of a2modsource.json"},
		{"broken manifest", func() { web.Put("/a/a2modsource.json", []byte("{\n  \"version\": \"1.1.0\",\n}\n")) }, "a2modsource.json:3:1"},
		{"unreleased", func() { web.Put("/a/a2modsource.json", indextest.Manifest(t, "alpha", "1.2.0", nil)) }, "1.2.0.zip is not there yet"},
		{"server error", func() {
			web.Handle("/a/a2modsource.json", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
		}, "HTTP 503"},
		{"timeout", func() {
			web.Handle("/a/a2modsource.json", func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-r.Context().Done():
				case <-time.After(10 * time.Second):
				}
			})
		}, "took longer than its timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			web.Handle("/a/a2modsource.json", nil)
			tc.break_()
			rep := f.crawl(a, b)
			if rep.Results[1].Err != "" {
				t.Errorf("the other source failed too: %s", rep.Results[1].Err)
			}
			if !strings.Contains(rep.Results[0].Err, tc.want) {
				t.Fatalf("error %q, want it to say %q", rep.Results[0].Err, tc.want)
			}
			root := f.site().Root()
			if root.Sources[0].LastError != rep.Results[0].Err || root.Sources[0].LastOK.IsZero() {
				t.Errorf("/ says %+v, want the error and the last good read", root.Sources[0])
			}
			if info := f.info("alpha"); versions(info) != "1.0.0" || info.Latest != "1.0.0" {
				t.Errorf("alpha after the failure: versions %q latest %q, want its last good data", versions(info), info.Latest)
			}
		})
	}
	web.Handle("/a/a2modsource.json", nil)
}

// TestGitHubListsConditionallyAndChecksEachVersion: every release is
// recorded from the release list; an unchanged refresh costs a 304 for the
// manifest and one for the list, and no download; a stale manifest is
// recorded under the tag's version and stays installable; an unsafe zip is
// recorded with its blocking problem and never offered; a draft is never
// seen.
func TestGitHubListsConditionallyAndChecksEachVersion(t *testing.T) {
	gh := githubtest.New(t)
	const owner, repo = "acme", "tools"
	good := indextest.Zip(t, "tools", "1.0.0", []indextest.Module{{Name: "m", Description: "M."}}, nil)
	stale := indextest.Zip(t, "tools", "1.0.0", nil, nil) // tagged 1.1.0
	evil := indextest.ZipFiles(t, map[string]string{"a2modsource.json": `{"name":"tools","version":"1.2.0"}`, "../evil.ahk": "x"})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "v1.0.0", Body: "first", Assets: map[string][]byte{"1.0.0.zip": good}})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "v1.1.0", Assets: map[string][]byte{"1.1.0.zip": stale}})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "v1.2.0", Assets: map[string][]byte{"1.2.0.zip": evil}})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "v2.0.0", Draft: true})
	gh.SetManifest(owner, repo, "HEAD", indextest.Manifest(t, "tools", "1.2.0", nil))
	f := newFixture(t, gh.Env()...)
	url := gh.RepoURL(owner, repo)

	rep := f.crawl(url)
	if rep.Failed() != 0 || rep.Results[0].Added != 3 || rep.Results[0].Downloads != 3 {
		t.Fatalf("build = %+v", rep.Results)
	}
	info := f.info("tools")
	if versions(info) != "1.2.0 1.1.0 1.0.0" {
		t.Fatalf("versions %q, want 1.2.0 1.1.0 1.0.0 (the draft left out)", versions(info))
	}
	v12, v11, v10 := info.Versions[0], info.Versions[1], info.Versions[2]
	if p := problem(v12, "archive"); p == nil || !p.Blocking || !strings.Contains(p.Detail, "../evil.ahk") || v12.Installable() {
		t.Errorf("1.2.0 problems = %+v, want a blocking archive problem naming the entry", v12.Problems)
	}
	if p := problem(v11, "zip-manifest"); p == nil || p.Blocking || !strings.Contains(p.Detail, "says 1.0.0 but the release is 1.1.0") || v11.Tag != "v1.1.0" {
		t.Errorf("1.1.0 = %+v, want a non-blocking stale-manifest problem under the tag's version", v11)
	}
	if info.Latest != "1.1.0" {
		t.Errorf("latest = %q, want 1.1.0 (1.2.0, which the pointer names, is unsafe)", info.Latest)
	}
	if v10.Tag != "v1.0.0" || v10.Published.IsZero() || len(v10.Problems) != 0 || len(v10.Modules) != 1 || !strings.Contains(v10.PayloadURL, "/releases/download/v1.0.0/1.0.0.zip") {
		t.Errorf("1.0.0 = %+v", v10)
	}

	gh.Reset()
	rep = f.crawl(url)
	if rep.Changed || rep.Failed() != 0 || rep.Results[0].Downloads != 0 {
		t.Fatalf("unchanged refresh = %+v", rep.Results)
	}
	for _, r := range gh.Requests() {
		if !r.Conditional || r.Status != http.StatusNotModified {
			t.Errorf("unchanged refresh asked %s %s?%s (%s): status %d; want only conditional requests answered 304", r.Method, r.Path, r.Query, r.Kind, r.Status)
		}
	}
	if n := len(gh.Requests()); n != 2 {
		t.Errorf("%d requests, want 2 (manifest and release list)", n)
	}

	// The pointer names a version with no release: said as check says it,
	// from the list alone (no API request beyond the conditional list).
	gh.SetManifest(owner, repo, "HEAD", indextest.Manifest(t, "tools", "9.0.0", nil))
	gh.Reset()
	rep = f.crawl(url)
	if !strings.Contains(rep.Results[0].Err, "the manifest names 9.0.0 but no release is published for tag 9.0.0 or v9.0.0") {
		t.Errorf("unreleased pointer: error %q", rep.Results[0].Err)
	}
	for _, r := range gh.Requests() {
		if r.Host == "api" && (!r.Conditional || r.Status != http.StatusNotModified) {
			t.Errorf("unreleased pointer asked the API %s?%s: status %d", r.Path, r.Query, r.Status)
		}
	}
	if info := f.info("tools"); info.Latest != "1.1.0" || len(info.Versions) != 3 {
		t.Errorf("unreleased pointer: latest %q, %d versions; want 1.1.0 and the 3 recorded", info.Latest, len(info.Versions))
	}

	// A rate-limited API: the error is recorded, the data kept.
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "v1.3.0", Assets: map[string][]byte{"1.3.0.zip": indextest.Zip(t, "tools", "1.3.0", nil, nil)}})
	gh.RateLimit(time.Now().Add(time.Hour))
	rep = f.crawl(url)
	if !strings.Contains(rep.Results[0].Err, "rate limit") {
		t.Errorf("rate-limited refresh error = %q", rep.Results[0].Err)
	}
	if versions(f.info("tools")) != "1.2.0 1.1.0 1.0.0" {
		t.Errorf("versions after a rate limit: %q", versions(f.info("tools")))
	}
}

// TestFolderSourceAndMirror: a folder source through a sources file with
// a relative path; --mirror keeps each installable zip once; mirroring
// turned on later copies what was recorded before.
func TestFolderSourceAndMirror(t *testing.T) {
	dir := t.TempDir()
	rel := filepath.Join(dir, "releases", "hello")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	z := indextest.Zip(t, "hello", "1.0.0", nil, nil)
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(rel, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("1.0.0.zip", z)
	write("a2modsource.json", indextest.Pointer(t, "hello", "1.0.0", z))
	list := filepath.Join(dir, "sources.txt")
	if err := os.WriteFile(list, []byte("# mine\n\n./releases/hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	urls, err := crawl.ReadSources(list)
	if err != nil || len(urls) != 1 || urls[0] != rel {
		t.Fatalf("ReadSources = %v, %v; want [%s]", urls, err, rel)
	}
	f := newFixture(t)
	if rep := f.crawl(urls...); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	v := f.info("hello").Versions[0]
	if v.MirrorURL != "" || !strings.HasPrefix(v.PayloadURL, "file:///") || !strings.HasSuffix(v.PayloadURL, "/releases/hello/1.0.0.zip") {
		t.Errorf("version = %+v, want a file:// payload and no mirror", v)
	}

	// Mirroring asked for later: the recorded version is copied once.
	f.c.Mirror = filepath.Join(dir, "mirror")
	rep := f.crawl(urls...)
	if rep.Failed() != 0 || rep.Results[0].Downloads != 1 || !rep.Changed {
		t.Fatalf("refresh with a mirror = %+v", rep.Results)
	}
	got, err := os.ReadFile(filepath.Join(dir, "mirror", "hello", "1.0.0.zip"))
	if err != nil || indextest.SHA256(got) != indextest.SHA256(z) {
		t.Fatalf("mirror copy: %v", err)
	}
	if v := f.info("hello").Versions[0]; v.MirrorURL != "mirror/hello/1.0.0.zip" {
		t.Errorf("mirror_url = %q", v.MirrorURL)
	}
	// A new version goes straight into the mirror; nothing is fetched twice.
	z2 := indextest.Zip(t, "hello", "1.1.0", nil, nil)
	write("1.1.0.zip", z2)
	write("a2modsource.json", indextest.Pointer(t, "hello", "1.1.0", z2))
	rep = f.crawl(urls...)
	if rep.Results[0].Downloads != 1 {
		t.Errorf("downloads = %d, want 1 (the new version)", rep.Results[0].Downloads)
	}
	if _, err := os.Stat(filepath.Join(dir, "mirror", "hello", "1.1.0.zip")); err != nil {
		t.Error(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(dir, "mirror", ".tmp")); len(ents) != 0 {
		t.Errorf("left in the mirror's temporary folder: %v", ents)
	}
}

// TestChecksumMismatchBlocks: a zip that does not match the pointer's
// sha256 is recorded with a blocking problem, and the package offers no
// version.
func TestChecksumMismatchBlocks(t *testing.T) {
	web := indextest.NewWeb(t)
	z := indextest.Zip(t, "sum", "1.0.0", nil, nil)
	web.Put("/s/1.0.0.zip", z)
	web.Put("/s/a2modsource.json", indextest.Manifest(t, "sum", "1.0.0", map[string]any{"sha256": strings.Repeat("0", 64)}))
	f := newFixture(t)
	f.crawl(web.URL + "/s")
	info := f.info("sum")
	if len(info.Versions) != 1 || info.Latest != "" {
		t.Fatalf("info = %+v, want one blocked version and no latest", info)
	}
	if p := problem(info.Versions[0], "checksum"); p == nil || !p.Blocking || !strings.Contains(p.Detail, "declares sha256") {
		t.Errorf("problems = %+v", info.Versions[0].Problems)
	}
	for _, p := range f.site().Infos(nil).Packages {
		if p.Name == "sum" && p.Latest != "" {
			t.Error("a blocked version is offered")
		}
	}
	d, _, _ := f.site().Document(doc.PackageListPath)
	if n := len(d.(*doc.PackageList).Packages); n != 0 {
		t.Errorf("/list/packages lists %d packages, want none installable", n)
	}
}

// TestNameTaken: two sources publishing one name (ignoring case): the
// one recorded first keeps it, the other records the error, and it stays
// so on the next refresh.
func TestNameTaken(t *testing.T) {
	web := indextest.NewWeb(t)
	web.Publish(t, "/one", "Same", "1.0.0", nil)
	web.Publish(t, "/two", "same", "1.0.0", nil)
	f := newFixture(t)
	first := f.crawl(web.URL+"/one", web.URL+"/two")
	loser := 1
	if first.Results[0].Err != "" {
		loser = 0
	}
	for range 2 {
		rep := f.crawl(web.URL+"/one", web.URL+"/two")
		if rep.Results[1-loser].Err != "" || !strings.Contains(rep.Results[loser].Err, "already publishes") || rep.Results[loser].Downloads != 0 {
			t.Fatalf("results = %+v", rep.Results)
		}
	}
	if got := f.site().Root().Packages; got != 1 {
		t.Errorf("%d packages, want 1", got)
	}
}

func TestReadSourcesErrors(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, line, want string
	}{
		{"ftp", "ftp://example.com/x", "https, http and file URLs only"},
		{"no scheme", "github.com/owner/repo", "must start with ./ or ../"},
		{"no host", "https://", "names no host"},
		{"space in url", "https://example.com/a b", "holds no spaces"},
		{"credentials", "https://me:s3cret@example.com/a", "https://me:xxxxx@example.com/a holds credentials"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name+".txt")
			content := "# header\nhttps://example.com/ok\n\n" + tc.line + "\n"
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := crawl.ReadSources(p)
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%s:4:", p)) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "s3cret") {
				t.Errorf("err = %v, want one naming %s:4 and saying %q", err, p, tc.want)
			}
		})
	}
}

func TestNextRefresh(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		last time.Time
		rnd  float64
		want time.Duration
	}{
		{"due later, no jitter", now.Add(-30 * time.Minute), 0.5, 30 * time.Minute},
		{"due later, earliest", now.Add(-30 * time.Minute), 0, 24 * time.Minute},
		{"due later, latest", now.Add(-30 * time.Minute), 0.999999, 36 * time.Minute},
		{"never refreshed", time.Time{}, 0.5, 30 * time.Second},
		{"overdue", now.Add(-5 * time.Hour), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := crawl.NextRefresh(tc.last, time.Hour, now, func() float64 { return tc.rnd })
			if got.Round(time.Second) != tc.want {
				t.Errorf("NextRefresh = %s, want %s", got, tc.want)
			}
		})
	}
}

// TestFromRoot: a root's packages with an update_url, a relative folder
// path made absolute against the package folder, even for a relative root.
func TestFromRoot(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for name, manifest := range map[string]string{
		"hello": `{"name": "hello", "version": "1.0.0", "update_url": "../../releases/hello"}`,
		"web":   `{"name": "web", "version": "1.0.0", "update_url": "https://example.com/web/"}`,
		"local": `{"name": "local", "version": "1.0.0"}`,
		"bad":   `{"name": "bad", "version": `,
	} {
		if err := os.MkdirAll(filepath.Join("root", name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("root", name, "a2modsource.json"), []byte(manifest), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	urls, bad, err := crawl.FromRoot("root")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "releases", "hello") // root/hello/../../releases/hello
	if strings.Join(urls, " ") != "https://example.com/web/ "+want && strings.Join(urls, " ") != want+" https://example.com/web/" {
		t.Errorf("FromRoot = %v, want the web URL and %s", urls, want)
	}
	if len(bad) != 1 || !strings.Contains(bad[0].Error(), "bad") {
		t.Errorf("bad = %v, want the broken manifest", bad)
	}
}

// TestTooLargeIsRecordedOnce: a zip over the size cap is recorded with a
// blocking download problem and no digest, and never asked for again.
func TestTooLargeIsRecordedOnce(t *testing.T) {
	web := indextest.NewWeb(t)
	web.Publish(t, "/big", "big", "1.0.0", []indextest.Module{{Name: "m"}})
	f := newFixture(t)
	f.c.MaxSize = 100
	if rep := f.crawl(web.URL + "/big"); rep.Failed() != 0 || rep.Results[0].Added != 1 {
		t.Fatalf("build = %+v", rep.Results)
	}
	info := f.info("big")
	v := info.Versions[0]
	if p := problem(v, "download"); p == nil || !p.Blocking || v.SHA256 != "" || info.Latest != "" {
		t.Fatalf("version = %+v, latest %q; want a blocking download problem, no digest, nothing offered", v, info.Latest)
	}
	body, err := publish.Encode(info)
	if err != nil {
		t.Fatal(err)
	}
	var back doc.PackageInfo
	if err := doc.Decode(body, "big.json", &back); err != nil {
		t.Errorf("a client refuses the document: %v", err)
	}
	web.Reset()
	f.crawl(web.URL + "/big")
	for k := range web.Counts() {
		if strings.Contains(k, ".zip") {
			t.Errorf("the refresh asked %s again", k)
		}
	}
}

// TestRequirementsRecorded: a version's requirements travel in its
// manifest and in /list/packages; an older release's own requirements are
// not compared with the pointer's (they may differ, and rightly).
func TestRequirementsRecorded(t *testing.T) {
	gh := githubtest.New(t)
	const owner, repo = "acme", "req"
	m1 := indextest.Manifest(t, "req", "1.0.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"a2": ">= 0.4"}})
	m2 := indextest.Manifest(t, "req", "2.0.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"a2": ">= 0.5"}})
	z1 := indextest.ZipFiles(t, map[string]string{"a2modsource.json": string(m1)})
	z2 := indextest.ZipFiles(t, map[string]string{"a2modsource.json": string(m2)})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": z1}})
	gh.AddRelease(owner, repo, githubtest.Release{Tag: "2.0.0", Assets: map[string][]byte{"2.0.0.zip": z2}})
	gh.SetManifest(owner, repo, "HEAD", m2)
	f := newFixture(t, gh.Env()...)
	if rep := f.crawl(gh.RepoURL(owner, repo)); rep.Failed() != 0 {
		t.Fatalf("build: %+v", rep.Results)
	}
	info := f.info("req")
	for _, v := range info.Versions {
		if p := problem(v, "zip-manifest"); p != nil {
			t.Errorf("%s: %+v, want no zip-manifest problem", v.Version, p)
		}
	}
	d, _, _ := f.site().Document(doc.PackageListPath)
	l := d.(*doc.PackageList)
	var req map[string]string
	if len(l.Packages) != 1 || json.Unmarshal(l.Packages[0].Requires, &req) != nil || req["a2"] != ">= 0.5" {
		t.Errorf("/list/packages requires = %s", l.Packages[0].Requires)
	}
}
