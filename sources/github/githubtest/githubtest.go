// Package githubtest is a fake GitHub for tests: the REST API (releases),
// the raw file host and the web host (tag archives, release assets), each
// on its own httptest server so that a token scoped to the API host can be
// checked. Every request is recorded.
package githubtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	"github.com/modup/modup/sources/github"
)

// DefaultBranch is the name the fake's default branch ("HEAD") has.
const DefaultBranch = "main"

// Release is a release to publish on the fake.
type Release struct {
	Tag        string
	Body       string
	Draft      bool
	Prerelease bool
	// Assets are uploaded files by name ("1.2.0.zip").
	Assets map[string][]byte
	// OmitDigest leaves the assets' "digest" field out, as GitHub did for
	// assets uploaded before June 2025.
	OmitDigest bool
	// Archive is the tag archive's zip. When nil, one is built from Files
	// wrapped in "<repo>-<tag without a leading v>/", as GitHub does.
	Archive []byte
	Files   map[string]string
}

// Request is one request the fake saw.
type Request struct {
	Method string
	Path   string // escaped path, without the query
	Query  string
	// Host is the server it reached: "api", "raw" or "web".
	Host string
	// Kind is "api", "raw", "archive", "asset" or "other".
	Kind string
	// Auth tells whether an Authorization header came along.
	Auth bool
	// Conditional tells whether If-None-Match or If-Modified-Since came along.
	Conditional bool
	// Status is the status the fake answered.
	Status int
}

type release struct {
	id      int64
	owner   string
	repo    string
	r       Release
	archive []byte
	created time.Time
}

// Server is a fake GitHub. The zero value is not usable; call New.
type Server struct {
	// API, Raw and Web are the three hosts.
	API, Raw, Web *httptest.Server

	mu        sync.Mutex
	raw       map[string]*fakehost.File // "owner/repo/branch" (owner/repo lower-cased) -> manifest
	releases  []*release                // in publishing order
	nextID    int64
	limitedTo time.Time
	failAPI   bool
	private   map[string]string // repoKey -> the token that may read it
	refused   map[string]bool   // tokens the API answers 401
	log       fakehost.Log[Request]
	clock     time.Time
	slow      map[string]time.Duration // host -> one byte per this; <0: no answer at all
}

// New starts a fake GitHub; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		raw:     map[string]*fakehost.File{},
		private: map[string]string{},
		refused: map[string]bool{},
		slow:    map[string]time.Duration{},
		nextID:  1000,
		clock:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	s.API = httptest.NewServer(s.record("api", http.HandlerFunc(s.serveAPI)))
	s.Raw = httptest.NewServer(s.record("raw", http.HandlerFunc(s.serveRaw)))
	s.Web = httptest.NewServer(s.record("web", http.HandlerFunc(s.serveWeb)))
	t.Cleanup(func() {
		s.API.Close()
		s.Raw.Close()
		s.Web.Close()
	})
	return s
}

// Config is a github.Config whose base URLs point at the fake.
func (s *Server) Config(client *httpx.Client) github.Config {
	return github.Config{
		APIURL: s.API.URL + "/",
		RawURL: s.Raw.URL + "/",
		WebURL: s.Web.URL + "/",
		Client: client,
	}
}

// Client is an httpx client for tests against the fake: fast retries, the
// token (may be "") scoped to the fake API host.
func (s *Server) Client(token string) *httpx.Client {
	return httpx.New(httpx.Options{
		UserAgent:    "modup-test",
		Token:        token,
		TokenHost:    github.TokenHost(s.Config(nil)),
		RetryMax:     1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	})
}

// Source is a GitHub source speaking to the fake through Client(token).
func (s *Server) Source(token string) *github.Source {
	return github.New(s.Config(s.Client(token)))
}

// Env is the environment that points modup at the fake (for CLI tests).
func (s *Server) Env() []string {
	return []string{
		github.EnvAPIURL + "=" + s.API.URL + "/",
		github.EnvRawURL + "=" + s.Raw.URL + "/",
		github.EnvWebURL + "=" + s.Web.URL + "/",
	}
}

// RepoURL is the update_url of owner/repo on the fake.
func (s *Server) RepoURL(owner, repo string) string {
	return s.Web.URL + "/" + owner + "/" + repo
}

func repoKey(owner, repo string) string {
	return strings.ToLower(owner) + "/" + strings.ToLower(repo)
}

// SetManifest publishes data as a2modsource.json on branch ("HEAD" is the
// default branch, which is also served as "main"). Each call is a new
// version of the file, with a new ETag and Last-Modified.
func (s *Server) SetManifest(owner, repo, branch string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if branch == "HEAD" {
		branch = DefaultBranch
	}
	s.clock = s.clock.Add(time.Minute)
	s.raw[repoKey(owner, repo)+"/"+branch] = fakehost.NewFile(data, s.clock)
}

// SetPrivate makes owner/repo private, readable with token only, as
// GitHub does: the raw host and the web host answer 404 whatever comes
// along, and the API answers 404 unless "Authorization: Bearer <token>"
// does. Asset downloads and zipballs asked of the API redirect to one-time
// URLs on the web host that need no token.
func (s *Server) SetPrivate(owner, repo, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.private[repoKey(owner, repo)] = token
}

// RefuseToken makes the API answer every request carrying token with 401
// "Bad credentials", as GitHub does for a wrong, expired or revoked token.
func (s *Server) RefuseToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[token] = true
}

// hidden reports whether owner/repo is private and r does not carry its
// token (the raw and web hosts never accept one).
func (s *Server) hidden(owner, repo string, r *http.Request, tokenAccepted bool) bool {
	s.mu.Lock()
	token, private := s.private[repoKey(owner, repo)]
	s.mu.Unlock()
	return private && (!tokenAccepted || r.Header.Get("Authorization") != "Bearer "+token)
}

// RemoveManifest deletes the manifest of branch.
func (s *Server) RemoveManifest(owner, repo, branch string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if branch == "HEAD" {
		branch = DefaultBranch
	}
	delete(s.raw, repoKey(owner, repo)+"/"+branch)
}

// AddRelease publishes a release (and its tag) of owner/repo. A later
// release with the same tag replaces the earlier one.
func (s *Server) AddRelease(owner, repo string, r Release) {
	s.mu.Lock()
	defer s.mu.Unlock()
	archive := r.Archive
	if archive == nil {
		archive = TagArchive(repo, r.Tag, r.Files)
	}
	s.releases = slices.DeleteFunc(s.releases, func(old *release) bool {
		return repoKey(old.owner, old.repo) == repoKey(owner, repo) && old.r.Tag == r.Tag
	})
	s.nextID++
	s.clock = s.clock.Add(time.Minute)
	s.releases = append(s.releases, &release{
		id: s.nextID, owner: owner, repo: repo, r: r, archive: archive, created: s.clock,
	})
}

// AddAsset uploads a file to the release of owner/repo tagged tag, as
// `gh release upload` does; one of the same name is replaced. It panics
// when there is no such release: a test wiring mistake.
func (s *Server) AddAsset(owner, repo, tag, name string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range s.releases {
		if repoKey(rel.owner, rel.repo) == repoKey(owner, repo) && rel.r.Tag == tag {
			assets := make(map[string][]byte, len(rel.r.Assets)+1)
			for k, v := range rel.r.Assets {
				assets[k] = v
			}
			assets[name] = bytes.Clone(data)
			rel.r.Assets = assets
			return
		}
	}
	panic(fmt.Sprintf("githubtest: no release %s of %s/%s to upload %s to", tag, owner, repo, name))
}

// TagArchive builds a zip as GitHub's tag archive of tag holds files: all
// in one folder "<repo>-<tag without a leading v>/".
func TagArchive(repo, tag string, files map[string]string) []byte {
	// GitHub writes the commit id as the comment.
	return fakehost.WrappedZip(repo+"-"+strings.TrimPrefix(tag, "v"), files, tag)
}

// RateLimit makes the API answer 403 with x-ratelimit-remaining: 0 and
// x-ratelimit-reset until, as GitHub does when the quota is spent. A zero
// or past time lifts the limit.
func (s *Server) RateLimit(until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitedTo = until
}

// Drip makes host ("api", "raw" or "web") send its answers' headers at
// once and then their bodies one byte every interval, as a server far
// slower than any stall timer does. Zero lifts it.
func (s *Server) Drip(host string, every time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if every <= 0 {
		delete(s.slow, host)
		return
	}
	s.slow[host] = every
}

// Hang makes host ("api", "raw" or "web") never answer: each request waits,
// without headers, until the client gives up. Drip(host, 0) lifts it.
func (s *Server) Hang(host string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slow[host] = -1
}

// dripWriter writes what a handler writes one byte at a time, every
// interval, flushing each.
type dripWriter struct {
	http.ResponseWriter
	ctx   context.Context
	every time.Duration
}

func (w *dripWriter) Write(b []byte) (int, error) {
	rc := http.NewResponseController(w.ResponseWriter)
	for i := range b {
		if _, err := w.ResponseWriter.Write(b[i : i+1]); err != nil {
			return i, err
		}
		if err := rc.Flush(); err != nil {
			return i + 1, err
		}
		select {
		case <-w.ctx.Done():
			return i + 1, w.ctx.Err()
		case <-time.After(w.every):
		}
	}
	return len(b), nil
}

// FailAPI makes the API answer 500 to everything (an outage).
func (s *Server) FailAPI(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAPI = on
}

// Count is the number of requests of kind ("api", "raw", "archive",
// "asset", "other") seen so far.
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
		s.mu.Lock()
		every := s.slow[host]
		s.mu.Unlock()
		switch {
		case every < 0:
			<-r.Context().Done()
		case every > 0:
			rec.ResponseWriter = &dripWriter{ResponseWriter: w, ctx: r.Context(), every: every}
			h.ServeHTTP(rec, r)
		default:
			h.ServeHTTP(rec, r)
		}
		kind := host
		if host == "web" {
			kind = webKind(r.URL.Path)
		}
		s.log.Add(Request{
			Method:      r.Method,
			Path:        r.URL.EscapedPath(),
			Query:       r.URL.RawQuery,
			Host:        host,
			Kind:        kind,
			Auth:        r.Header.Get("Authorization") != "",
			Conditional: r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "",
			Status:      rec.Status,
		})
	})
}

func webKind(path string) string {
	switch {
	case strings.Contains(path, "/archive/refs/tags/"), strings.HasPrefix(path, "/_codeload/"):
		return "archive"
	case strings.Contains(path, "/releases/download/"), strings.HasPrefix(path, "/_objects/"):
		return "asset"
	default:
		return "other"
	}
}

// splitRepo splits "/OWNER/REPO/rest" into its parts.
func splitRepo(path string) (owner, repo, rest string, ok bool) {
	parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	owner, repo, rest, ok := splitRepo(r.URL.Path)
	branch, found := strings.CutSuffix(rest, "/a2modsource.json")
	if !ok || !found {
		rawNotFound(w)
		return
	}
	if branch == "HEAD" {
		branch = DefaultBranch
	}
	if s.hidden(owner, repo, r, false) {
		rawNotFound(w)
		return
	}
	s.serveManifest(w, r, owner, repo, branch, "text/plain; charset=utf-8")
}

// serveManifest answers with a manifest, conditionally, or 404.
func (s *Server) serveManifest(w http.ResponseWriter, r *http.Request, owner, repo, branch, contentType string) {
	s.mu.Lock()
	f := s.raw[repoKey(owner, repo)+"/"+branch]
	s.mu.Unlock()
	if f == nil {
		rawNotFound(w)
		return
	}
	f.Serve(w, r, contentType)
}

func rawNotFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte("404: Not Found"))
}

// repoExists reports whether owner/repo has a file or a release on the fake.
func (s *Server) repoExists(owner, repo string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := repoKey(owner, repo)
	for k := range s.raw {
		if strings.HasPrefix(k, key+"/") {
			return true
		}
	}
	for _, rel := range s.releases {
		if repoKey(rel.owner, rel.repo) == key {
			return true
		}
	}
	return false
}

// findRelease returns the release of owner/repo tagged tag; drafts too.
func (s *Server) findRelease(owner, repo, tag string) *release {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range s.releases {
		if repoKey(rel.owner, rel.repo) == repoKey(owner, repo) && rel.r.Tag == tag {
			return rel
		}
	}
	return nil
}

func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if data, name, ok := s.signed(r); ok {
		fakehost.ServeZip(w, r, data, name)
		return
	}
	owner, repo, rest, ok := splitRepo(r.URL.Path)
	if !ok || s.hidden(owner, repo, r, false) {
		http.NotFound(w, r)
		return
	}
	var (
		data []byte
		name string
	)
	if tag, found := strings.CutPrefix(rest, "archive/refs/tags/"); found && strings.HasSuffix(tag, ".zip") {
		tag = strings.TrimSuffix(tag, ".zip")
		if rel := s.findRelease(owner, repo, tag); rel != nil && !rel.r.Draft {
			data = rel.archive
			name = repo + "-" + strings.TrimPrefix(tag, "v") + ".zip"
		}
	} else if tagAsset, found := strings.CutPrefix(rest, "releases/download/"); found {
		tag, asset, _ := strings.Cut(tagAsset, "/")
		if rel := s.findRelease(owner, repo, tag); rel != nil && !rel.r.Draft {
			if b, ok := rel.r.Assets[asset]; ok {
				data, name = b, asset
			}
		}
	}
	if data == nil {
		http.NotFound(w, r)
		return
	}
	fakehost.ServeZip(w, r, data, name)
}

// signature stands for the one-time signature GitHub puts in the URLs it
// redirects asset and zipball downloads to.
const signature = "sig=fake"

// signed serves the URLs the API redirects downloads to:
// /_objects/<asset id> and /_codeload/<owner>/<repo>/zip/refs/tags/<tag>,
// each with the signature and no token.
func (s *Server) signed(r *http.Request) (data []byte, name string, ok bool) {
	if r.URL.RawQuery != signature {
		return nil, "", false
	}
	if id, found := strings.CutPrefix(r.URL.Path, "/_objects/"); found {
		rel, name := s.findAsset(id)
		if rel == nil {
			return nil, "", false
		}
		return rel.r.Assets[name], name, true
	}
	rest, found := strings.CutPrefix(r.URL.Path, "/_codeload/")
	if !found {
		return nil, "", false
	}
	owner, repo, rest, ok := splitRepo("/" + rest)
	tag, found := strings.CutPrefix(rest, "zip/refs/tags/")
	if !ok || !found {
		return nil, "", false
	}
	rel := s.findRelease(owner, repo, tag)
	if rel == nil || rel.r.Draft {
		return nil, "", false
	}
	return rel.archive, repo + "-" + strings.TrimPrefix(tag, "v") + ".zip", true
}

// assetID is the id of a release's i-th asset (in name order).
func assetID(rel *release, i int) int64 { return rel.id*100 + int64(i) }

// findAsset returns the release holding the asset with id, and its name.
func (s *Server) findAsset(id string) (*release, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rel := range s.releases {
		for i, name := range assetNames(rel) {
			if strconv.FormatInt(assetID(rel, i), 10) == id && !rel.r.Draft {
				return rel, name
			}
		}
	}
	return nil, ""
}

func assetNames(rel *release) []string {
	names := make([]string, 0, len(rel.r.Assets))
	for name := range rel.r.Assets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	// GitHub Enterprise serves the API under /api/v3/.
	path = strings.TrimPrefix(path, "/api/v3")

	s.mu.Lock()
	limited, fail, until := s.limitedTo.After(time.Now()), s.failAPI, s.limitedTo
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	refused := s.refused[token]
	s.mu.Unlock()
	if refused {
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	}
	h := w.Header()
	h.Set("X-Ratelimit-Limit", "60")
	h.Set("X-Ratelimit-Resource", "core")
	switch {
	case fail:
		apiError(w, http.StatusInternalServerError, "Server Error")
		return
	case limited:
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Used", "60")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(until.Unix(), 10))
		apiErrorDoc(w, http.StatusForbidden, "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
			"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting")
		return
	}
	h.Set("X-Ratelimit-Remaining", "59")
	h.Set("X-Ratelimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	if r.Method != http.MethodGet {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	rest, ok := strings.CutPrefix(path, "/repos/")
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	owner, repo, rest, ok := splitRepo("/" + rest)
	if !ok {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	if !s.repoExists(owner, repo) || s.hidden(owner, repo, r, true) {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	base := "http://" + r.Host + strings.TrimSuffix(r.URL.Path, path)
	switch {
	case rest == "contents/a2modsource.json":
		s.serveContents(w, r, owner, repo)
	case strings.HasPrefix(rest, "releases/assets/"):
		s.serveAssetAPI(w, r, base, owner, repo, strings.TrimPrefix(rest, "releases/assets/"))
	case strings.HasPrefix(rest, "zipball/"):
		tag := strings.TrimPrefix(rest, "zipball/")
		if rel := s.findRelease(owner, repo, tag); rel == nil || rel.r.Draft {
			apiError(w, http.StatusNotFound, "Not Found")
			return
		}
		http.Redirect(w, r, s.Web.URL+"/_codeload/"+owner+"/"+repo+"/zip/refs/tags/"+tag+"?"+signature, http.StatusFound)
	case rest == "releases":
		s.serveReleaseList(w, r, base, owner, repo)
	case strings.HasPrefix(rest, "releases/tags/"):
		tag := strings.TrimPrefix(rest, "releases/tags/")
		rel := s.findRelease(owner, repo, tag)
		if rel == nil || rel.r.Draft {
			apiError(w, http.StatusNotFound, "Not Found")
			return
		}
		fakehost.WriteJSON(w, s.releaseJSON(base, rel))
	default:
		apiError(w, http.StatusNotFound, "Not Found")
	}
}

// rawMediaType asks the contents API for the file itself rather than JSON
// describing it.
const rawMediaType = "application/vnd.github.raw"

// serveContents answers GET /repos/o/r/contents/a2modsource.json[?ref=B]:
// the file itself (conditionally) when Accept asks for the raw media type,
// else its description with the content in base64.
func (s *Server) serveContents(w http.ResponseWriter, r *http.Request, owner, repo string) {
	branch := r.URL.Query().Get("ref")
	if branch == "" || branch == "HEAD" {
		branch = DefaultBranch
	}
	if strings.Contains(r.Header.Get("Accept"), rawMediaType) {
		s.serveManifest(w, r, owner, repo, branch, "application/vnd.github.raw; charset=utf-8")
		return
	}
	s.mu.Lock()
	f := s.raw[repoKey(owner, repo)+"/"+branch]
	s.mu.Unlock()
	if f == nil {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	fakehost.WriteJSON(w, map[string]any{
		"type": "file", "name": "a2modsource.json", "path": "a2modsource.json",
		"encoding": "base64", "content": base64.StdEncoding.EncodeToString(f.Data),
	})
}

// serveAssetAPI answers GET /repos/o/r/releases/assets/ID: with Accept
// "application/octet-stream" a redirect to the file, else its description.
func (s *Server) serveAssetAPI(w http.ResponseWriter, r *http.Request, base, owner, repo, id string) {
	rel, name := s.findAsset(id)
	if rel == nil || repoKey(rel.owner, rel.repo) != repoKey(owner, repo) {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	if r.Header.Get("Accept") == "application/octet-stream" {
		http.Redirect(w, r, s.Web.URL+"/_objects/"+id+"?"+signature, http.StatusFound)
		return
	}
	assets := s.releaseJSON(base, rel)["assets"].([]map[string]any) // in assetNames order
	fakehost.WriteJSON(w, assets[slices.Index(assetNames(rel), name)])
}

func (s *Server) serveReleaseList(w http.ResponseWriter, r *http.Request, base, owner, repo string) {
	perPage, page := 30, 1
	if v, err := strconv.Atoi(r.URL.Query().Get("per_page")); err == nil && v > 0 {
		perPage = min(v, 100)
	}
	if v, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && v > 0 {
		page = v
	}
	s.mu.Lock()
	var all []*release
	for i := len(s.releases) - 1; i >= 0; i-- { // newest first
		rel := s.releases[i]
		if repoKey(rel.owner, rel.repo) == repoKey(owner, repo) && !rel.r.Draft {
			all = append(all, rel)
		}
	}
	s.mu.Unlock()
	last := max(1, (len(all)+perPage-1)/perPage)
	from := min(len(all), (page-1)*perPage)
	to := min(len(all), from+perPage)
	out := make([]map[string]any, 0, to-from)
	for _, rel := range all[from:to] {
		out = append(out, s.releaseJSON(base, rel))
	}
	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path,
			RawQuery: url.Values{"per_page": {strconv.Itoa(perPage)}, "page": {strconv.Itoa(p)}}.Encode()}
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	// Like GitHub, a list carries a weak ETag of its content and
	// answers a request that names it with 304 and no body.
	fakehost.WriteJSONTagged(w, r, out)
}

func (s *Server) releaseJSON(apiBase string, rel *release) map[string]any {
	web := s.Web.URL + "/" + rel.owner + "/" + rel.repo
	api := apiBase + "/repos/" + rel.owner + "/" + rel.repo
	names := assetNames(rel)
	assets := make([]map[string]any, 0, len(names))
	for i, name := range names {
		data := rel.r.Assets[name]
		a := map[string]any{
			"id":                   assetID(rel, i),
			"name":                 name,
			"label":                "",
			"state":                "uploaded",
			"content_type":         "application/zip",
			"size":                 len(data),
			"download_count":       0,
			"url":                  fmt.Sprintf("%s/releases/assets/%d", api, assetID(rel, i)),
			"browser_download_url": web + "/releases/download/" + rel.r.Tag + "/" + name,
			"created_at":           rel.created.Format(time.RFC3339),
			"updated_at":           rel.created.Format(time.RFC3339),
		}
		if !rel.r.OmitDigest {
			sum := sha256.Sum256(data)
			a["digest"] = "sha256:" + hex.EncodeToString(sum[:])
		}
		assets = append(assets, a)
	}
	var published any
	if !rel.r.Draft {
		published = rel.created.Format(time.RFC3339)
	}
	return map[string]any{
		"id":           rel.id,
		"url":          fmt.Sprintf("%s/releases/%d", api, rel.id),
		"html_url":     web + "/releases/tag/" + rel.r.Tag,
		"tag_name":     rel.r.Tag,
		"name":         rel.r.Tag,
		"body":         rel.r.Body,
		"draft":        rel.r.Draft,
		"prerelease":   rel.r.Prerelease,
		"created_at":   rel.created.Format(time.RFC3339),
		"published_at": published,
		"assets":       assets,
		"tarball_url":  api + "/tarball/" + rel.r.Tag,
		"zipball_url":  api + "/zipball/" + rel.r.Tag,
	}
}

func apiError(w http.ResponseWriter, code int, msg string) {
	apiErrorDoc(w, code, msg, "https://docs.github.com/rest")
}

func apiErrorDoc(w http.ResponseWriter, code int, msg, doc string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": doc})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
