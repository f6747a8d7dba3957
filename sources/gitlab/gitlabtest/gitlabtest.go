// Package gitlabtest is a fake GitLab for tests: the REST API (v4), and the
// web host that serves raw files, tag archives and release link downloads.
// The API has a host of its own so that a token scoped to it can be
// checked; the web host answers the API's paths too, as gitlab.com does
// (https://gitlab.com/api/v4/), for tests of a shared host. Every request
// is recorded.
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/fakehost"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources/gitlab"
)

// DefaultBranch is the name the fake's default branch ("HEAD") has.
const DefaultBranch = "main"

// apiPrefix is where the API lives on either host.
const apiPrefix = "/api/v4/"

// Release is a release to publish on the fake.
type Release struct {
	Tag         string
	Description string
	// Upcoming marks a release whose date is in the future.
	Upcoming bool
	// Links are release links by name ("1.2.0.zip"), served from the web
	// host's /-/releases/TAG/downloads/NAME.
	Links map[string][]byte
	// Archive is the tag archive's zip. When nil, one is built from Files
	// wrapped in "<project>-<tag>/", as GitLab does.
	Archive []byte
	Files   map[string]string
}

// Request is one request the fake saw.
type Request struct {
	Method string
	Path   string // escaped path, without the query
	Query  string
	// Host is the server it reached: "api" or "web".
	Host string
	// Kind is "api", "raw", "archive", "asset", "signin" or "other".
	Kind string
	// Token tells whether a PRIVATE-TOKEN header came along, Auth whether
	// an Authorization header did.
	Token, Auth bool
	// Conditional tells whether If-None-Match or If-Modified-Since came along.
	Conditional bool
	// Status is the status the fake answered.
	Status int
}

type release struct {
	project string // path as published
	r       Release
	archive []byte
	created time.Time
}

// Server is a fake GitLab. The zero value is not usable; call New.
type Server struct {
	// API and Web are the two hosts.
	API, Web *httptest.Server

	mu        sync.Mutex
	raw       map[string]*fakehost.File // "project/branch" (project lower-cased) -> manifest
	releases  []*release                // in publishing order
	private   map[string]string         // project key -> the token that may read it
	refused   map[string]bool           // tokens the API answers 401
	limitedTo time.Time
	failAPI   bool
	log       fakehost.Log[Request]
	clock     time.Time
}

// New starts a fake GitLab; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		raw:     map[string]*fakehost.File{},
		private: map[string]string{},
		refused: map[string]bool{},
		clock:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	s.API = httptest.NewServer(s.record("api", http.HandlerFunc(s.serveAPI)))
	s.Web = httptest.NewServer(s.record("web", http.HandlerFunc(s.serveWeb)))
	t.Cleanup(func() {
		s.API.Close()
		s.Web.Close()
	})
	return s
}

// Config is a gitlab.Config whose URLs point at the fake, the API on its
// own host.
func (s *Server) Config(client *httpx.Client) gitlab.Config {
	return gitlab.Config{WebURL: s.Web.URL + "/", APIURL: s.API.URL + apiPrefix, TokenEnv: gitlab.EnvToken, Client: client}
}

// SharedHostConfig is a gitlab.Config with the API on the web host, as on
// gitlab.com.
func (s *Server) SharedHostConfig(client *httpx.Client) gitlab.Config {
	return gitlab.Config{WebURL: s.Web.URL + "/", APIURL: s.Web.URL + apiPrefix, TokenEnv: gitlab.EnvToken, Client: client}
}

// Client is an httpx client for cfg's instance: fast retries, the token
// (may be "") scoped to the API.
func Client(cfg gitlab.Config, token string) *httpx.Client {
	return httpx.New(gitlab.ClientOptions(cfg, httpx.Options{
		UserAgent:    "modup-test",
		RetryMax:     1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	}, token))
}

// Source is a GitLab source speaking to the fake (API on its own host)
// with token.
func (s *Server) Source(token string) *gitlab.Source {
	cfg := s.Config(nil)
	cfg.Client = Client(cfg, token)
	return gitlab.New(cfg)
}

// Env is the environment that points modup's gitlab.com at the fake (for
// CLI tests).
func (s *Server) Env() []string {
	return []string{
		gitlab.EnvWebURL + "=" + s.Web.URL + "/",
		gitlab.EnvAPIURL + "=" + s.API.URL + apiPrefix,
	}
}

// ProjectURL is the update_url of a project (GROUP[/SUBGROUP...]/PROJECT)
// on the fake.
func (s *Server) ProjectURL(path string) string {
	return s.Web.URL + "/" + path
}

func key(project string) string { return strings.ToLower(strings.Trim(project, "/")) }

// SetManifest publishes data as a2modsource.json of project on branch
// ("HEAD" is the default branch, also served as "main"). Each call is a
// new version of the file, with a new ETag and Last-Modified.
func (s *Server) SetManifest(project, branch string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if branch == "HEAD" {
		branch = DefaultBranch
	}
	s.clock = s.clock.Add(time.Minute)
	s.raw[key(project)+"/"+branch] = fakehost.NewFile(data, s.clock)
}

// RemoveManifest deletes the manifest of branch.
func (s *Server) RemoveManifest(project, branch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if branch == "HEAD" {
		branch = DefaultBranch
	}
	delete(s.raw, key(project)+"/"+branch)
}

// SetPrivate makes project private, readable with token only, as GitLab
// does: the web host sends whoever asks to its sign-in page, and the API
// answers 404 unless "PRIVATE-TOKEN: <token>" comes along.
func (s *Server) SetPrivate(project, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[key(project)] = token
}

// RefuseToken makes the API answer every request carrying token with 401.
func (s *Server) RefuseToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[token] = true
}

// RateLimit makes the API answer 429 with RateLimit-Remaining: 0,
// RateLimit-Reset and Retry-After until then, as gitlab.com does. A zero or
// past time lifts the limit.
func (s *Server) RateLimit(until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitedTo = until
}

// FailAPI makes the API answer 500 to everything (an outage).
func (s *Server) FailAPI(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAPI = on
}

// AddRelease publishes a release (and its tag) of project. A later release
// with the same tag replaces the earlier one.
func (s *Server) AddRelease(project string, r Release) {
	s.mu.Lock()
	defer s.mu.Unlock()
	archive := r.Archive
	if archive == nil {
		archive = TagArchive(project[strings.LastIndexByte(project, '/')+1:], r.Tag, r.Files)
	}
	s.releases = slices.DeleteFunc(s.releases, func(old *release) bool {
		return key(old.project) == key(project) && old.r.Tag == r.Tag
	})
	s.clock = s.clock.Add(time.Minute)
	s.releases = append(s.releases, &release{project: strings.Trim(project, "/"), r: r, archive: archive, created: s.clock})
}

// TagArchive builds a zip as GitLab's tag archive of tag holds files: all
// in one folder "<project>-<tag>/".
func TagArchive(project, tag string, files map[string]string) []byte {
	return fakehost.WrappedZip(project+"-"+strings.ReplaceAll(tag, "/", "-"), files, "")
}

// Count is the number of requests of kind seen so far.
func (s *Server) Count(kind string) int {
	return s.log.Count(func(r Request) bool { return r.Kind == kind })
}

// Requests is every request seen so far, in order.
func (s *Server) Requests() []Request { return s.log.All() }

// Reset forgets the requests seen so far.
func (s *Server) Reset() { s.log.Reset() }

func (s *Server) record(host string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &fakehost.Recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		s.log.Add(Request{
			Method:      r.Method,
			Path:        r.URL.EscapedPath(),
			Query:       r.URL.RawQuery,
			Host:        host,
			Kind:        kindOf(r.URL.Path),
			Token:       r.Header.Get(gitlab.TokenHeader) != "",
			Auth:        r.Header.Get("Authorization") != "",
			Conditional: r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "",
			Status:      rec.Status,
		})
	})
}

func kindOf(path string) string {
	switch {
	case strings.Contains(path, "/packages/generic/"):
		return "asset"
	case strings.HasPrefix(path, apiPrefix):
		return "api"
	case strings.Contains(path, "/-/raw/"):
		return "raw"
	case strings.Contains(path, "/-/archive/"):
		return "archive"
	case strings.Contains(path, "/-/releases/"):
		return "asset"
	case path == "/users/sign_in":
		return "signin"
	}
	return "other"
}

// hidden reports whether project is private and r does not carry its token
// (the web host never accepts one).
func (s *Server) hidden(project string, r *http.Request, tokenAccepted bool) bool {
	s.mu.Lock()
	token, private := s.private[key(project)]
	s.mu.Unlock()
	return private && (!tokenAccepted || r.Header.Get(gitlab.TokenHeader) != token)
}

func (s *Server) findRelease(project, tag string) *release {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range s.releases {
		if key(rel.project) == key(project) && rel.r.Tag == tag {
			return rel
		}
	}
	return nil
}

func (s *Server) projectExists(project string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(project)
	for name := range s.raw {
		if strings.HasPrefix(name, k+"/") {
			return true
		}
	}
	for _, rel := range s.releases {
		if key(rel.project) == k {
			return true
		}
	}
	return false
}

func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, apiPrefix) {
		s.serveAPI(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/users/sign_in" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, "<!DOCTYPE html>\n<html><head><title>Sign in · GitLab</title></head><body>Sign in</body></html>\n")
		return
	}
	project, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/-/")
	if !ok || project == "" {
		http.NotFound(w, r)
		return
	}
	if s.hidden(project, r, false) {
		// GitLab sends visitors of a private project to its sign-in page.
		http.Redirect(w, r, "/users/sign_in", http.StatusFound)
		return
	}
	switch {
	case strings.HasPrefix(rest, "raw/") && strings.HasSuffix(rest, "/a2modsource.json"):
		branch := strings.TrimSuffix(strings.TrimPrefix(rest, "raw/"), "/a2modsource.json")
		if branch == "HEAD" {
			branch = DefaultBranch
		}
		s.serveManifest(w, r, project, branch, "text/plain; charset=utf-8")
	case strings.HasPrefix(rest, "archive/"):
		tag, file, _ := strings.Cut(strings.TrimPrefix(rest, "archive/"), "/")
		rel := s.findRelease(project, tag)
		if rel == nil || file != path(project)+"-"+strings.ReplaceAll(tag, "/", "-")+".zip" {
			http.NotFound(w, r)
			return
		}
		fakehost.ServeZip(w, r, rel.archive, file)
	case strings.HasPrefix(rest, "releases/"):
		tag, name, _ := strings.Cut(strings.TrimPrefix(rest, "releases/"), "/downloads/")
		rel := s.findRelease(project, tag)
		if rel == nil || rel.r.Upcoming || rel.r.Links[name] == nil {
			http.NotFound(w, r)
			return
		}
		http.Redirect(w, r, s.packageURL(s.API.URL+apiPrefix, rel, name), http.StatusFound)
	default:
		http.NotFound(w, r)
	}
}

// path is a project's own name, the last element of its path.
func path(project string) string { return project[strings.LastIndexByte(project, '/')+1:] }

// serveManifest answers with a manifest, conditionally, or 404.
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, project, branch, contentType string) {
	s.mu.Lock()
	f := s.raw[key(project)+"/"+branch]
	s.mu.Unlock()
	if f == nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "404 File Not Found")
		return
	}
	f.Serve(w, r, contentType)
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	limited, until, fail := s.limitedTo.After(time.Now()), s.limitedTo, s.failAPI
	refused := s.refused[r.Header.Get(gitlab.TokenHeader)]
	s.mu.Unlock()
	h := w.Header()
	switch {
	case refused:
		apiError(w, http.StatusUnauthorized, "401 Unauthorized")
		return
	case fail:
		apiError(w, http.StatusInternalServerError, "500 Internal Server Error")
		return
	case limited:
		h.Set("RateLimit-Limit", "2000")
		h.Set("RateLimit-Observed", "2000")
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", strconv.FormatInt(until.Unix(), 10))
		h.Set("RateLimit-ResetTime", until.UTC().Format(http.TimeFormat))
		h.Set("Retry-After", strconv.Itoa(max(1, int(time.Until(until).Seconds()))))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "Retry later\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		apiError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	// projects/URL-ENCODED-PATH/rest
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), apiPrefix+"projects/")
	if !ok {
		apiError(w, http.StatusNotFound, "404 Not Found")
		return
	}
	enc, rest, _ := strings.Cut(rest, "/")
	project, err := url.PathUnescape(enc)
	if err != nil || !s.projectExists(project) || s.hidden(project, r, true) {
		apiError(w, http.StatusNotFound, "404 Project Not Found")
		return
	}
	project = s.canonical(project)
	q := r.URL.Query()
	switch {
	case rest == "repository/files/a2modsource.json/raw":
		ref := q.Get("ref")
		if ref == "" {
			apiError(w, http.StatusBadRequest, "400 Bad request - ref is missing")
			return
		}
		if ref == "HEAD" {
			ref = DefaultBranch
		}
		s.serveManifest(w, r, project, ref, "text/plain; charset=utf-8")
	case rest == "repository/archive.zip":
		rel := s.findRelease(project, q.Get("sha"))
		if rel == nil {
			apiError(w, http.StatusNotFound, "404 Not Found")
			return
		}
		fakehost.ServeZip(w, r, rel.archive, path(project)+"-"+q.Get("sha")+".zip")
	case strings.HasPrefix(rest, "packages/generic/release/"):
		tag, name, _ := strings.Cut(strings.TrimPrefix(rest, "packages/generic/release/"), "/")
		tag, _ = url.PathUnescape(tag)
		name, _ = url.PathUnescape(name)
		rel := s.findRelease(project, tag)
		if rel == nil || rel.r.Links[name] == nil {
			apiError(w, http.StatusNotFound, "404 Not Found")
			return
		}
		fakehost.ServeZip(w, r, rel.r.Links[name], name)
	case rest == "releases":
		s.serveReleaseList(w, r, project)
	case strings.HasPrefix(rest, "releases/"):
		tag, err := url.PathUnescape(strings.TrimPrefix(rest, "releases/"))
		rel := s.findRelease(project, tag)
		if err != nil || rel == nil {
			apiError(w, http.StatusNotFound, "404 Not Found")
			return
		}
		fakehost.WriteJSON(w, s.releaseJSON(apiBase(r), rel))
	default:
		apiError(w, http.StatusNotFound, "404 Not Found")
	}
}

// apiBase is the API's base URL on the host r reached.
func apiBase(r *http.Request) string { return "http://" + r.Host + apiPrefix }

// canonical is project as it was published (GitLab matches paths without
// regard to case).
func (s *Server) canonical(project string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range s.releases {
		if key(rel.project) == key(project) {
			return rel.project
		}
	}
	return project
}

func (s *Server) serveReleaseList(w http.ResponseWriter, r *http.Request, project string) {
	perPage, page := 20, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	s.mu.Lock()
	var all []*release
	for i := len(s.releases) - 1; i >= 0; i-- { // newest first
		if rel := s.releases[i]; key(rel.project) == key(project) {
			all = append(all, rel)
		}
	}
	s.mu.Unlock()
	from := min(len(all), (page-1)*perPage)
	to := min(len(all), from+perPage)
	out := make([]map[string]any, 0, to-from)
	for _, rel := range all[from:to] {
		out = append(out, s.releaseJSON(apiBase(r), rel))
	}
	h := w.Header()
	h.Set("X-Page", strconv.Itoa(page))
	h.Set("X-Per-Page", strconv.Itoa(perPage))
	h.Set("X-Total", strconv.Itoa(len(all)))
	if to < len(all) {
		h.Set("X-Next-Page", strconv.Itoa(page+1))
	}
	fakehost.WriteJSON(w, out)
}

// packageURL is where a release link's file lives: the generic package
// registry of the project, under the API at apiBase.
func (s *Server) packageURL(apiBase string, rel *release, name string) string {
	return apiBase + "projects/" + url.PathEscape(rel.project) + "/packages/generic/release/" + url.PathEscape(rel.r.Tag) + "/" + url.PathEscape(name)
}

func (s *Server) releaseJSON(apiBase string, rel *release) map[string]any {
	web := s.Web.URL + "/" + rel.project
	names := make([]string, 0, len(rel.r.Links))
	for name := range rel.r.Links {
		names = append(names, name)
	}
	slices.Sort(names)
	links := make([]map[string]any, 0, len(names))
	for i, name := range names {
		// The link's target is the generic package registry, behind the
		// API; its permanent URL on the web host redirects there.
		links = append(links, map[string]any{
			"id": i + 1, "name": name, "link_type": "package",
			"url":              s.packageURL(apiBase, rel, name),
			"direct_asset_url": web + "/-/releases/" + rel.r.Tag + "/downloads/" + name,
		})
	}
	released := rel.created
	if rel.r.Upcoming {
		released = time.Now().Add(30 * 24 * time.Hour)
	}
	archive := web + "/-/archive/" + rel.r.Tag + "/" + path(rel.project) + "-" + rel.r.Tag + ".zip"
	return map[string]any{
		"tag_name":         rel.r.Tag,
		"name":             rel.r.Tag,
		"description":      rel.r.Description,
		"created_at":       rel.created.Format(time.RFC3339),
		"released_at":      released.Format(time.RFC3339),
		"upcoming_release": rel.r.Upcoming,
		"assets": map[string]any{
			"count":   len(links) + 1,
			"sources": []map[string]any{{"format": "zip", "url": archive}},
			"links":   links,
		},
		"_links": map[string]any{"self": web + "/-/releases/" + rel.r.Tag},
	}
}

func apiError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// Describe is a short summary of the fake for failing tests.
func (s *Server) Describe() string {
	var b strings.Builder
	for _, r := range s.Requests() {
		fmt.Fprintf(&b, "%s %s %s?%s -> %d (token %v)\n", r.Host, r.Method, r.Path, r.Query, r.Status, r.Token)
	}
	return b.String()
}
