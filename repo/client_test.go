package repo

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/sources"
)

// A package list is asked for once per MaxAge; after that with one
// conditional request, a 304 when nothing changed, the new list when it
// did. A new Client (the next command) reads the cache.
func TestPackagesConditional(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	list := f.client.Packages(t.Context(), f.repo)
	if list.Err != nil || list.Doc == nil || len(list.Doc.Packages) != 1 {
		t.Fatalf("first: %+v, %v", list.Doc, list.Err)
	}
	f.web.Reset()
	f.now = f.now.Add(30 * time.Minute)
	if list := f.client.Packages(t.Context(), f.repo); list.Err != nil || total(f.requests("/idx/")) != 0 {
		t.Errorf("within MaxAge: %v, requests %v", list.Err, f.requests("/idx/"))
	}
	f.now = f.now.Add(time.Hour)
	again := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
	if list := again.Packages(t.Context(), f.repo); list.Err != nil || list.Doc == nil || len(list.Doc.Packages) != 1 {
		t.Fatalf("from the cache: %+v, %v", list.Doc, list.Err)
	}
	if got := f.requests("/idx/"); got["GET /idx/list/packages.json 304"] != 1 || total(got) != 1 {
		t.Errorf("after MaxAge: requests %v, want one 304", got)
	}
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.1.0", zip: f.zip("alpha", "1.1.0")}}},
		pkg{name: "beta", versions: []ver{{version: "0.1.0", zip: f.zip("beta", "0.1.0")}}})
	f.now = f.now.Add(2 * time.Hour)
	list = again.Packages(t.Context(), f.repo)
	if list.Err != nil || len(list.Doc.Packages) != 2 || list.Doc.Packages[0].Version != "1.1.0" {
		t.Errorf("changed: %+v, %v", list.Doc, list.Err)
	}
	if !list.Checked.Equal(f.now) {
		t.Errorf("checked %v, want %v", list.Checked, f.now)
	}
}

// What is not an index is refused, naming the repository and the
// document; a copy held before is kept (and said to be stale), nothing is
// cached of the bad answer.
func TestBadDocuments(t *testing.T) {
	good := func(f *fixture) {
		f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	}
	sha := strings.Repeat("a", 64)
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "HTML", body: "<!doctype html><html>login</html>", want: "got an HTML page, not JSON"},
		{name: "wrong shape", body: `{"packages": {"alpha": 1}}`, want: "invalid index document"},
		{name: "a name with a path", body: `{"packages":[{"name":"../evil","version":"1.0.0","update_url":"x","sha256":"` + sha + `","size":1,"modules":[]}]}`, want: `package "../evil" is not a valid name`},
		{name: "sha256 not hex", body: `{"packages":[{"name":"alpha","version":"1.0.0","update_url":"x","sha256":"zz","size":1,"modules":[]}]}`, want: `sha256 "zz" is not a hex sha256`},
		{name: "truncated", body: `{"packages":[`, want: "invalid index document"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.web.Put("/idx/list/packages.json", []byte(tc.body))
			list := f.client.Packages(t.Context(), f.repo)
			if list.Doc != nil || list.Err == nil {
				t.Fatalf("accepted: %+v", list.Doc)
			}
			for _, want := range []string{"repository main", "/idx/list/packages.json", tc.want} {
				if !strings.Contains(list.Err.Error(), want) {
					t.Errorf("error %q does not say %q", list.Err, want)
				}
			}
			if !errors.Is(list.Err, doc.ErrInvalid) || !errors.Is(list.Err, ErrStale) {
				t.Errorf("error %v: want ErrInvalid and ErrStale", list.Err)
			}
			if _, err := os.Stat(cacheFile(filepath.Join(f.client.Dir, "main"), packagesDoc)); err == nil {
				t.Error("a bad document was cached")
			}
			// A good copy held before stays.
			good(f)
			f.now = f.now.Add(2 * time.Hour)
			if list := f.client.Packages(t.Context(), f.repo); list.Err != nil {
				t.Fatal(list.Err)
			}
			f.web.Put("/idx/list/packages.json", []byte(tc.body))
			f.now = f.now.Add(2 * time.Hour)
			list = f.client.Packages(t.Context(), f.repo)
			if list.Doc == nil || len(list.Doc.Packages) != 1 || list.Err == nil || !strings.Contains(list.Err.Error(), "its copy from 2h ago is used") {
				t.Errorf("after a good copy: %+v, %v", list.Doc, list.Err)
			}
		})
	}
}

// A mirror_url that leaves the index (another host, a parent folder) is
// refused in a package's document.
func TestMirrorURLLeavingTheIndex(t *testing.T) {
	for _, mirror := range []string{"https://evil.example/x.zip", "../mirror/alpha/1.0.0.zip", "mirror/beta/1.0.0.zip"} {
		t.Run(mirror, func(t *testing.T) {
			f := newFixture(t)
			z := f.zip("alpha", "1.0.0")
			f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: z}}})
			info := doc.PackageInfo{Name: "alpha", UpdateURL: f.web.URL + "/authors/alpha/", Latest: "1.0.0", Versions: []doc.Version{{
				Version: "1.0.0", PayloadURL: f.web.URL + "/authors/alpha/1.0.0.zip", MirrorURL: mirror, Size: int64(len(z)),
				SHA256: strings.Repeat("b", 64), Problems: []doc.Problem{}}}}
			f.put("info/packages/alpha.json", info)
			_, err := f.client.Source(f.repo).Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
			if err == nil || !strings.Contains(err.Error(), "mirror_url") || !strings.Contains(err.Error(), "repository main") ||
				!strings.Contains(err.Error(), "info/packages/alpha.json") {
				t.Errorf("Resolve: %v", err)
			}
		})
	}
}

// An index of a newer format is refused on refresh.
func TestRefreshNewerFormat(t *testing.T) {
	f := newFixture(t)
	f.publish()
	f.put(doc.RootFile, doc.Root{Service: doc.Service, Version: doc.FormatVersion + 1})
	res := f.client.Refresh(t.Context(), f.repo)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "newer than this modup reads") {
		t.Errorf("refresh: %v", res.Err)
	}
}

// A refresh asks whatever the copies' age, and says whether the list
// changed; state.json keeps the last error for `repo list`.
func TestRefreshAndStatus(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	if res := f.client.Refresh(t.Context(), f.repo); res.Err != nil || !res.Changed || res.Packages != 1 {
		t.Fatalf("first refresh: %+v", res)
	}
	f.web.Reset()
	if res := f.client.Refresh(t.Context(), f.repo); res.Err != nil || res.Changed {
		t.Errorf("second refresh: %+v", res)
	}
	if got := f.requests("/idx/"); got["GET /idx/list/packages.json 304"] != 1 || got["GET /idx/index.json 304"] != 1 || got["GET /idx/list/modules.json 304"] != 1 {
		t.Errorf("second refresh asked %v, want three 304s", got)
	}
	f.web.Handle("/idx/index.json", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	res := f.client.Refresh(t.Context(), f.repo)
	if res.Err == nil || !strings.Contains(res.Err.Error(), "503") {
		t.Fatalf("failing refresh: %+v", res)
	}
	st := (&Client{Dir: f.client.Dir}).Status(f.repo)
	if st.Packages != 1 || st.Refreshed.IsZero() || !strings.Contains(st.Error, "503") {
		t.Errorf("status %+v", st)
	}
	f.web.Handle("/idx/index.json", nil)
	f.client.Refresh(t.Context(), f.repo)
	if st := f.client.Status(f.repo); st.Error != "" {
		t.Errorf("status after a good refresh: %+v", st)
	}
}

// A folder repository (an export on a share) is read as files; one that
// is not there fails, naming it.
func TestFolderRepository(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", description: "First.", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0"), mirrored: true}}})
	dir := f.export(doc.RootFile, "list/packages.json", "list/modules.json", "info/packages/alpha.json", "mirror/alpha/1.0.0.zip")
	r := Repo{Name: "share", URL: dir, Enabled: true}
	if res := f.client.Refresh(t.Context(), r); res.Err != nil || res.Packages != 1 {
		t.Fatalf("refresh: %+v", res)
	}
	src := f.client.Source(r)
	rel, err := src.Resolve(t.Context(), f.query("alpha"), sources.Release{Version: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if rel.PayloadURL != filepath.Join(dir, "mirror", "alpha", "1.0.0.zip") {
		t.Errorf("payload %s, want the share's mirror", rel.PayloadURL)
	}
	p, err := src.Open(t.Context(), rel)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(p.Body)
	p.Body.Close()
	if string(data) != string(f.zip("alpha", "1.0.0")) {
		t.Error("the mirror's zip is not the one published")
	}
	gone := Repo{Name: "gone", URL: filepath.Join(dir, "nowhere"), Enabled: true}
	if res := f.client.Refresh(t.Context(), gone); res.Err == nil || !strings.Contains(res.Err.Error(), "repository gone") || !errors.Is(res.Err, sources.ErrNotFound) {
		t.Errorf("missing folder: %v", res.Err)
	}
}

// The cache of a repository added again under the same name with another
// URL is not used.
func TestCacheKeyedByURL(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	f.client.Packages(t.Context(), f.repo)
	other := f.repo
	other.URL = f.web.URL + "/elsewhere/"
	fresh := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: f.client.Now}
	if list := fresh.Packages(t.Context(), other); list.Doc != nil {
		t.Errorf("the copy of another URL was used: %+v", list.Doc)
	}
}

// LoadCached reads the copy a previous run cached, without a request;
// whether it is asked again is still decided when it is used (MaxAge).
func TestLoadCached(t *testing.T) {
	f := newFixture(t)
	f.publish(pkg{name: "alpha", versions: []ver{{version: "1.0.0", zip: f.zip("alpha", "1.0.0")}}})
	if list := f.client.Packages(t.Context(), f.repo); list.Err != nil || list.Doc == nil {
		t.Fatalf("first: %v", list.Err)
	}
	tests := []struct {
		name      string
		later     time.Duration // after the copy was made
		wantCalls int           // requests to the index after LoadCached and Package
	}{
		{name: "young copy: no request", later: 30 * time.Minute, wantCalls: 0},
		{name: "old copy: asked again when used", later: 2 * time.Hour, wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.web.Reset()
			now := f.now.Add(tt.later)
			next := &Client{HTTP: f.client.HTTP, Dir: f.client.Dir, MaxAge: time.Hour, Now: func() time.Time { return now }}
			next.LoadCached(f.repo)
			if got := total(f.requests("/idx/")); got != 0 {
				t.Fatalf("LoadCached made %d requests, want none", got)
			}
			sum, list, ok := next.Package(t.Context(), f.repo, "alpha")
			if !ok || sum.Version != "1.0.0" || list.Err != nil {
				t.Fatalf("Package after LoadCached = %+v, %v, %v", sum, ok, list.Err)
			}
			if got := total(f.requests("/idx/")); got != tt.wantCalls {
				t.Errorf("requests %v, want %d", f.requests("/idx/"), tt.wantCalls)
			}
		})
	}
}
