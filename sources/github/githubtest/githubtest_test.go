package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/sources/github/githubtest"
)

func get(t *testing.T, method, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestEnv(t *testing.T) {
	s := githubtest.New(t)
	env := strings.Join(s.Env(), "\n")
	for _, want := range []string{
		"MODUP_GITHUB_API_URL=" + s.API.URL + "/",
		"MODUP_GITHUB_RAW_URL=" + s.Raw.URL + "/",
		"MODUP_GITHUB_URL=" + s.Web.URL + "/",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("Env() lacks %s:\n%s", want, env)
		}
	}
}

func TestRawConditional(t *testing.T) {
	s := githubtest.New(t)
	s.SetManifest("o", "r", "HEAD", []byte(`{"version":"1"}`))
	for _, path := range []string{"/o/r/HEAD/a2modsource.json", "/O/R/main/a2modsource.json"} {
		resp := get(t, http.MethodGet, s.Raw.URL+path, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, resp.Status)
		}
	}
	resp := get(t, http.MethodGet, s.Raw.URL+"/o/r/HEAD/a2modsource.json", nil)
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" {
		t.Fatalf("no validators: %v", resp.Header)
	}
	if r := get(t, http.MethodGet, s.Raw.URL+"/o/r/HEAD/a2modsource.json", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s", r.Status)
	}
	if r := get(t, http.MethodGet, s.Raw.URL+"/o/r/HEAD/a2modsource.json", map[string]string{"If-Modified-Since": lm}); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %s", r.Status)
	}
	s.SetManifest("o", "r", "HEAD", []byte(`{"version":"2"}`))
	if r := get(t, http.MethodGet, s.Raw.URL+"/o/r/HEAD/a2modsource.json", map[string]string{"If-None-Match": etag}); r.StatusCode != http.StatusOK {
		t.Errorf("changed file, old ETag: %s", r.Status)
	}
	if r := get(t, http.MethodGet, s.Raw.URL+"/o/r/dev/a2modsource.json", nil); r.StatusCode != http.StatusNotFound {
		t.Errorf("other branch: %s", r.Status)
	}
	if n := s.Count("raw"); n != 7 {
		t.Errorf("Count(raw) = %d, want 7", n)
	}
}

func TestAPI(t *testing.T) {
	s := githubtest.New(t)
	for _, tag := range []string{"1.0.0", "1.1.0", "1.2.0"} {
		s.AddRelease("o", "r", githubtest.Release{Tag: tag, Assets: map[string][]byte{tag + ".zip": []byte("zip " + tag)}})
	}
	s.AddRelease("o", "r", githubtest.Release{Tag: "2.0.0", Draft: true})

	resp := get(t, http.MethodGet, s.API.URL+"/repos/o/r/releases?per_page=2", nil)
	if !strings.Contains(resp.Header.Get("Link"), `page=2>; rel="next"`) {
		t.Errorf("Link = %q, want a next page", resp.Header.Get("Link"))
	}
	var list []struct {
		TagName string `json:"tag_name"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].TagName != "1.2.0" {
		t.Errorf("page 1 = %+v, want the 2 newest published releases", list)
	}
	resp = get(t, http.MethodGet, s.API.URL+"/repos/o/r/releases?per_page=2&page=2", nil)
	if strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Errorf("last page has a next link: %q", resp.Header.Get("Link"))
	}

	resp = get(t, http.MethodGet, s.API.URL+"/repos/o/r/releases/tags/2.0.0", nil)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), `"message":"Not Found"`) {
		t.Errorf("draft by tag: %s %s", resp.Status, body)
	}
	if r := get(t, http.MethodGet, s.API.URL+"/api/v3/repos/o/r/releases/tags/1.0.0", nil); r.StatusCode != http.StatusOK {
		t.Errorf("enterprise prefix: %s", r.Status)
	}

	s.RateLimit(time.Now().Add(time.Hour))
	resp = get(t, http.MethodGet, s.API.URL+"/repos/o/r/releases/tags/1.0.0", nil)
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Ratelimit-Remaining") != "0" || resp.Header.Get("X-Ratelimit-Reset") == "" {
		t.Errorf("rate limited: %s %v", resp.Status, resp.Header)
	}
	s.RateLimit(time.Time{})
	s.FailAPI(true)
	if r := get(t, http.MethodGet, s.API.URL+"/repos/o/r/releases/tags/1.0.0", nil); r.StatusCode != http.StatusInternalServerError {
		t.Errorf("failing: %s", r.Status)
	}
	if n := s.Count("api"); n != 6 {
		t.Errorf("Count(api) = %d, want 6", n)
	}
}

func TestWeb(t *testing.T) {
	s := githubtest.New(t)
	s.AddRelease("o", "r", githubtest.Release{Tag: "v1.0.0", Files: map[string]string{"a2modsource.json": "{}"}, Assets: map[string][]byte{"1.0.0.zip": []byte("asset")}})
	s.AddRelease("o", "r", githubtest.Release{Tag: "v2.0.0", Draft: true})
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{http.MethodHead, "/o/r/archive/refs/tags/v1.0.0.zip", 200},
		{http.MethodGet, "/o/r/archive/refs/tags/v1.0.0.zip", 200},
		{http.MethodGet, "/o/r/archive/refs/tags/1.0.0.zip", 404},
		{http.MethodGet, "/o/r/archive/refs/tags/v2.0.0.zip", 404},
		{http.MethodGet, "/o/r/releases/download/v1.0.0/1.0.0.zip", 200},
		{http.MethodGet, "/o/r/releases/download/v1.0.0/other.zip", 404},
	} {
		if r := get(t, tt.method, s.Web.URL+tt.path, nil); r.StatusCode != tt.code {
			t.Errorf("%s %s: %s, want %d", tt.method, tt.path, r.Status, tt.code)
		}
	}
	if s.Count("archive") != 4 || s.Count("asset") != 2 {
		t.Errorf("archive, asset counts = %d, %d", s.Count("archive"), s.Count("asset"))
	}
	reqs := s.Requests()
	if r := reqs[0]; r.Method != http.MethodHead || r.Host != "web" || r.Kind != "archive" || r.Auth || r.Status != 200 {
		t.Errorf("first request = %+v", r)
	}
}

// TestPrivate: a private repository is hidden from the raw and web hosts and
// from the API without its token; with it, the contents, asset and zipball
// endpoints answer as GitHub's do.
func TestPrivate(t *testing.T) {
	s := githubtest.New(t)
	s.SetPrivate("o", "r", "tok")
	s.SetManifest("o", "r", "HEAD", []byte(`{"version": "1.0.0"}`))
	s.AddRelease("o", "r", githubtest.Release{Tag: "1.0.0", Assets: map[string][]byte{"1.0.0.zip": []byte("asset bytes")}})
	auth := map[string]string{"Authorization": "Bearer tok"}
	api := s.API.URL + "/repos/o/r/"

	for _, u := range []string{s.Raw.URL + "/o/r/HEAD/a2modsource.json", s.Web.URL + "/o/r/releases/download/1.0.0/1.0.0.zip", s.Web.URL + "/o/r/archive/refs/tags/1.0.0.zip"} {
		if resp := get(t, "GET", u, auth); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s with the token: %d, want 404 (only the API takes tokens)", u, resp.StatusCode)
		}
	}
	if resp := get(t, "GET", api+"releases/tags/1.0.0", map[string]string{"Authorization": "Bearer other"}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("API with another token: %d, want 404", resp.StatusCode)
	}

	read := func(resp *http.Response) string {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	raw := map[string]string{"Authorization": "Bearer tok", "Accept": "application/vnd.github.raw+json"}
	if got := read(get(t, "GET", api+"contents/a2modsource.json", raw)); got != `{"version": "1.0.0"}` {
		t.Errorf("contents, raw: %q", got)
	}
	var doc struct{ Encoding, Content string }
	if err := json.Unmarshal([]byte(read(get(t, "GET", api+"contents/a2modsource.json?ref=main", auth))), &doc); err != nil || doc.Encoding != "base64" || doc.Content == "" {
		t.Errorf("contents, JSON: %+v, %v", doc, err)
	}

	var rel struct {
		Assets []struct{ Name, URL string }
	}
	if err := json.Unmarshal([]byte(read(get(t, "GET", api+"releases/tags/1.0.0", auth))), &rel); err != nil || len(rel.Assets) != 1 {
		t.Fatalf("release: %+v, %v", rel, err)
	}
	var meta struct{ Name string }
	if err := json.Unmarshal([]byte(read(get(t, "GET", rel.Assets[0].URL, auth))), &meta); err != nil || meta.Name != "1.0.0.zip" {
		t.Errorf("asset URL without Accept: %+v, %v (want its description)", meta, err)
	}
	octet := map[string]string{"Authorization": "Bearer tok", "Accept": "application/octet-stream"}
	if got := read(get(t, "GET", rel.Assets[0].URL, octet)); got != "asset bytes" {
		t.Errorf("asset download: %q", got)
	}
	zipball := get(t, "GET", api+"zipball/1.0.0", auth)
	if b := read(zipball); zipball.StatusCode != http.StatusOK || !strings.HasPrefix(b, "PK") || !strings.HasPrefix(zipball.Request.URL.String(), s.Web.URL+"/") {
		t.Errorf("zipball: %d from %s", zipball.StatusCode, zipball.Request.URL)
	}
	// (net/http's own client keeps the header on a redirect to the same IP
	// on another port, so which requests carried it is checked with modup's
	// client, in the github package's tests.)
}
