package gist_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/gist"
	"github.com/modup/modup/sources/gist/gisttest"
	"github.com/modup/modup/sources/sourcetest"
)

const (
	user = "someone"
	id   = "aa5a315d61ae9438b18d"
)

// remote is sourcetest.Remote over the fake: pointing commits a revision
// with the manifest; publishing a version makes the zip the archive of the
// revision that first names it, committing one when none does.
type remote struct{ srv *gisttest.Server }

func (r remote) PointerPublishes() {}

func (r remote) Point(t testing.TB, version string, fields map[string]any) {
	r.PointRaw(t, sourcetest.ManifestJSON(t, "hello", version, fields))
}

func (r remote) PointRaw(t testing.TB, data []byte) {
	files := r.srv.Files(id)
	if files == nil {
		files = map[string]string{"a2module.json": "{}"}
	}
	files["a2modsource.json"] = string(data)
	r.srv.Commit(user, id, files)
}

func (r remote) Publish(t testing.TB, version string, zip []byte) {
	src := r.srv.Source("")
	if rel, err := src.Resolve(t.Context(), r.Query(t), sources.Release{Version: version}); err == nil {
		r.srv.SetArchive(id, rel.Tag, zip)
		return
	}
	sha := r.srv.Commit(user, id, map[string]string{"a2modsource.json": `{"version": "` + version + `"}`})
	r.srv.SetArchive(id, sha, zip)
}

func (r remote) Query(t testing.TB) sources.Query {
	return sources.Query{Package: "hello", UpdateURL: r.srv.GistURL(user, id)}
}

func TestConformance(t *testing.T) {
	sourcetest.Run(t, func(t *testing.T) (sources.Source, sourcetest.Remote) {
		srv := gisttest.New(t)
		return srv.Source(""), remote{srv}
	})
}

func TestParseGistURL(t *testing.T) {
	const web = "https://gist.github.com/"
	for _, tc := range []struct {
		url      string
		wantOK   bool
		user, id string
	}{
		{"https://gist.github.com/someone/aa5a315d61ae9438b18d", true, "someone", "aa5a315d61ae9438b18d"},
		{"https://Gist.GitHub.com/Some-One/AA5A315D/", true, "Some-One", "AA5A315D"},
		{"https://gist.github.com/someone/aa5a315d.git", true, "someone", "aa5a315d"},
		{"https://gist.github.com/someone/1234567", true, "someone", "1234567"},
		{"https://gist.github.com/aa5a315d61ae9438b18d", false, "", ""},
		{"https://gist.github.com/someone/not-hex", false, "", ""},
		{"https://gist.github.com/someone/aa5a/revisions", false, "", ""},
		{"https://gist.github.com/-someone/aa5a", false, "", ""},
		{"https://github.com/someone/aa5a", false, "", ""},
		{"https://gist.github.com/someone/aa5a?x=1", false, "", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			r, ok := gist.ParseGistURL(tc.url, web)
			if ok != tc.wantOK || (ok && (r.User != tc.user || r.ID != tc.id)) {
				t.Errorf("= %+v, %v; want %q %q, %v", r, ok, tc.user, tc.id, tc.wantOK)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if c := gist.ConfigFromEnv(getenv); c.WebURL != gist.DefaultWebURL || c.RawURL != gist.DefaultRawURL || c.APIURL != "https://api.github.com/" {
		t.Errorf("defaults: %+v", c)
	}
	env = map[string]string{"MODUP_GIST_URL": "https://g.example", "MODUP_GIST_RAW_URL": "https://r.example/x", "MODUP_GITHUB_API_URL": "https://ghe.example/api/v3"}
	c := gist.ConfigFromEnv(getenv)
	if c.WebURL != "https://g.example/" || c.RawURL != "https://r.example/x/" || c.APIURL != "https://ghe.example/api/v3/" {
		t.Errorf("moved: %+v", c)
	}
	c.Client = gisttest.New(t).Client("")
	if src := gist.New(c); !src.Match("https://gist.github.com/u/abc123") || !src.Match("https://g.example/u/abc123") {
		t.Error("moving the gist site dropped gist.github.com's update_urls, or does not match its own")
	}
}

func manifest(version string, extra map[string]any) string {
	m := map[string]any{"name": "hello", "version": version}
	maps.Copy(m, extra)
	b, _ := json.Marshal(m)
	return string(b)
}

// TestReleasesAreVersionChanges: only revisions that change the version
// are releases, each version once at its first revision, and a later edit
// that keeps the version does not change what that version installs.
func TestReleasesAreVersionChanges(t *testing.T) {
	srv := gisttest.New(t)
	src := srv.Source("")
	q := sources.Query{Package: "hello", UpdateURL: srv.GistURL(user, id), Cache: &sourcetest.MemCache{}}
	files := map[string]string{"a2module.json": "{}", "hello.ahk": "v1"}
	commit := func(version, script string, extra map[string]any) string {
		files["a2modsource.json"] = manifest(version, extra)
		files["hello.ahk"] = script
		return srv.Commit(user, id, files)
	}
	r1 := commit("1.0.0", "one", map[string]any{"news": "first"})
	commit("1.0.0", "one, typo fixed", nil)
	r3 := commit("1.1.0", "two", nil)
	commit("1.0.0", "reverted", nil) // back to an older version: not a new 1.0.0
	r5 := commit("v2.0.0-beta.1", "three", nil)

	list, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rel := range list {
		got = append(got, rel.Version+"@"+rel.Tag[:7])
	}
	want := []string{"v2.0.0-beta.1@" + r5[:7], "1.1.0@" + r3[:7], "1.0.0@" + r1[:7]}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("Versions = %v, want %v", got, want)
	}
	if !list[0].Prerelease || list[1].Prerelease || list[2].News != "first" {
		t.Errorf("flags or notes: %+v", list)
	}
	rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "v1.0.0", Origin: gist.OriginRequest})
	if err != nil || rel.Tag != r1 || rel.Version != "v1.0.0" || !strings.HasSuffix(rel.PayloadURL, "/"+user+"/"+id+"/archive/"+r1+".zip") {
		t.Fatalf("Resolve(v1.0.0) = %+v, %v", rel, err)
	}
	// Later checks cost one conditional API request: revisions are
	// remembered, and the gist did not change.
	before := len(srv.Requests())
	if _, err := src.Resolve(t.Context(), q, sources.Release{Version: "1.1.0"}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()[before:]
	if len(reqs) != 1 || !reqs[0].Conditional || reqs[0].Status != 304 {
		t.Errorf("second look-up: %+v", reqs)
	}
}

// TestInstallLayout: the archive of a revision extracts through Reshape
// into the package layout: a2modsource.json beside one module folder,
// named by "module", else the manifest's name.
func TestInstallLayout(t *testing.T) {
	for _, tc := range []struct {
		name       string
		extra      map[string]any
		wantModule string
		wantErr    string
	}{
		{name: "module field", extra: map[string]any{"module": "greeter"}, wantModule: "greeter"},
		{name: "package name", wantModule: "hello"},
		{name: "module that is a path", extra: map[string]any{"module": "../evil"}, wantErr: "cannot be a folder name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := gisttest.New(t)
			src := srv.Source("")
			srv.Commit(user, id, map[string]string{"a2modsource.json": manifest("1.0.0", tc.extra), "a2module.json": `{"name": "x"}`, "hello.ahk": "MsgBox"})
			q := sources.Query{Package: "hello", UpdateURL: srv.GistURL(user, id)}
			latest, err := src.Latest(t.Context(), q)
			if err != nil {
				t.Fatal(err)
			}
			rel, err := src.Resolve(t.Context(), q, latest)
			if tc.wantErr != "" {
				if !errors.Is(err, sources.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want ErrInvalid with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			zip := sourcetest.OpenBytes(t, src, rel)
			dest := t.TempDir()
			res, err := archive.Extract(t.Context(), bytes.NewReader(zip), int64(len(zip)), dest, archive.Options{Rename: sources.RenameFor(src, rel)})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"a2modsource.json", tc.wantModule + "/a2module.json", tc.wantModule + "/hello.ahk"} {
				if _, err := os.Stat(filepath.Join(res.Root, filepath.FromSlash(f))); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
			entries, _ := os.ReadDir(res.Root)
			if len(entries) != 2 {
				t.Errorf("package folder holds %d entries, want the manifest and the module", len(entries))
			}
		})
	}
}

func TestReshapeRefusesFolders(t *testing.T) {
	src := gisttest.New(t).Source("")
	rename := src.Reshape(sources.Release{Version: "1.0.0", Extra: map[string]string{"module": "m"}})
	for name, want := range map[string]string{
		"g-1/a2modsource.json": "g-1/a2modsource.json",
		"g-1/run.ahk":          "g-1/m/run.ahk",
		"run.ahk":              "m/run.ahk",
	} {
		if got, err := rename(name, false); err != nil || got != want {
			t.Errorf("%s -> %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := rename("g-1/sub/x", false); err == nil || !strings.Contains(err.Error(), "no folders") {
		t.Errorf("nested file: %v", err)
	}
	if _, err := rename("g-1/sub", true); err == nil {
		t.Error("a nested folder was accepted")
	}
	bare := src.Reshape(sources.Release{Version: "1.0.0"})
	if _, err := bare("x", false); err == nil {
		t.Error("a release without a module folder reshaped")
	}
}

// TestTruncatedManifest: a manifest the API truncates is read from its raw URL.
func TestTruncatedManifest(t *testing.T) {
	srv := gisttest.New(t)
	srv.TruncateOver(40)
	long := manifest("3.0.0", map[string]any{"news": strings.Repeat("long notes ", 20)})
	srv.Commit(user, id, map[string]string{"a2modsource.json": long, "a2module.json": "{}"})
	src := srv.Source("")
	q := sources.Query{Package: "hello", UpdateURL: srv.GistURL(user, id)}
	rel, err := src.Resolve(t.Context(), q, sources.Release{Version: "3.0.0"})
	if err != nil || !strings.HasPrefix(rel.News, "long notes") {
		t.Fatalf("Resolve = %+v, %v", rel, err)
	}
	raw := 0
	for _, r := range srv.Requests() {
		if r.Host == "raw" && strings.Contains(r.Path, "/raw/"+rel.Tag+"/a2modsource.json") {
			raw++
		}
	}
	if raw != 1 {
		t.Errorf("%d reads of the revision's raw URL, want 1", raw)
	}
}

// TestAPIRulesAreGitHubs: the token reaches the API host alone, the
// quota's exhaustion is a rate-limit error that holds the API back, and a
// refused token says what to do.
func TestAPIRulesAreGitHubs(t *testing.T) {
	srv := gisttest.New(t)
	srv.Commit(user, id, map[string]string{"a2modsource.json": manifest("1.0.0", nil), "a2module.json": "{}"})
	src := srv.Source("ghp_x")
	q := sources.Query{Package: "hello", UpdateURL: srv.GistURL(user, id)}
	rel := sourcetest.LatestResolved(t, src, q)
	sourcetest.OpenBytes(t, src, rel)
	for _, r := range srv.Requests() {
		if r.Auth != (r.Host == "api") {
			t.Errorf("%s %s on %s: Authorization %v", r.Method, r.Path, r.Host, r.Auth)
		}
	}

	limited := gisttest.New(t)
	limited.Commit(user, id, map[string]string{"a2modsource.json": manifest("1.0.0", nil)})
	reset := time.Now().Add(time.Hour).Truncate(time.Second)
	limited.RateLimit(reset)
	lsrc := limited.Source("")
	lq := sources.Query{UpdateURL: limited.GistURL(user, id)}
	for range 2 {
		_, err := lsrc.Resolve(t.Context(), lq, sources.Release{Version: "1.0.0"})
		var rl *sources.RateLimitError
		if !errors.As(err, &rl) || !rl.Reset.Equal(reset) {
			t.Fatalf("rate-limited Resolve: %v", err)
		}
	}
	if n := limited.Count("api"); n != 1 {
		t.Errorf("the API was asked %d times, want once (then held back until the reset)", n)
	}

	refused := gisttest.New(t)
	refused.Commit(user, id, map[string]string{"a2modsource.json": manifest("1.0.0", nil)})
	refused.RefuseToken("ghp_old")
	_, err := refused.Source("ghp_old").Versions(t.Context(), sources.Query{UpdateURL: refused.GistURL(user, id)})
	if err == nil || !strings.Contains(err.Error(), "GITHUB_TOKEN or GH_TOKEN") {
		t.Errorf("refused token: %v", err)
	}
}

func TestMissingGist(t *testing.T) {
	srv := gisttest.New(t)
	src := srv.Source("")
	q := sources.Query{UpdateURL: srv.GistURL(user, "abcdef")}
	if _, err := src.Latest(t.Context(), q); !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), "USER/ID") {
		t.Errorf("Latest: %v", err)
	}
	if _, err := src.Versions(t.Context(), q); !errors.Is(err, sources.ErrNotFound) {
		t.Errorf("Versions: %v", err)
	}
}

// Each release carries what its own revision's manifest requires, so an
// older release can be judged (held-back fall-backs) without its archive.
func TestReleasesCarryTheirRequirements(t *testing.T) {
	srv := gisttest.New(t)
	src := srv.Source("")
	q := sources.Query{Package: "hello", UpdateURL: srv.GistURL(user, id), Cache: &sourcetest.MemCache{}}
	files := map[string]string{"a2module.json": "{}"}
	files["a2modsource.json"] = manifest("1.0.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"lib": "^1.0"}}})
	srv.Commit(user, id, files)
	files["a2modsource.json"] = manifest("2.0.0", map[string]any{"manifest_version": 2, "requires": map[string]any{"packages": map[string]any{"lib": "^2.0"}}})
	srv.Commit(user, id, files)
	files["a2modsource.json"] = manifest("2.1.0", nil)
	srv.Commit(user, id, files)

	list, err := src.Versions(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"2.1.0": "", "2.0.0": "^2.0", "1.0.0": "^1.0"}
	if len(list) != len(want) {
		t.Fatalf("Versions = %+v", list)
	}
	for _, rel := range list {
		if !rel.RequirementsKnown {
			t.Errorf("%s: requirements not known", rel.Version)
			continue
		}
		got := ""
		if c, ok := rel.Requirements.Packages["lib"]; ok {
			got = c.String()
		}
		if got != want[rel.Version] {
			t.Errorf("%s requires lib %q, want %q", rel.Version, got, want[rel.Version])
		}
	}
}
