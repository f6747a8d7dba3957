// Package gisttest is a fake of GitHub's gists for tests: the REST API
// (gists and their history), the raw host serving their files, and the web
// host serving each revision's archive, each on its own httptest server so
// that a token scoped to the API host can be checked. Every request is
// recorded.
package gisttest

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/fakehost"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources/gist"
	"github.com/modup/modup/sources/github"
)

// Request is one request the fake saw.
type Request struct {
	Method, Path string
	// Host is the server it reached: "api", "raw" or "web".
	Host string
	// Auth tells whether an Authorization header came along.
	Auth bool
	// Conditional tells whether If-None-Match or If-Modified-Since came along.
	Conditional bool
	Status      int
}

type revision struct {
	sha     string
	files   map[string]string
	archive []byte // nil: built from files
	at      time.Time
}

type gistState struct {
	id, owner string
	revs      []*revision // oldest first
}

// Server is a fake of GitHub's gists. The zero value is not usable; call New.
type Server struct {
	API, Raw, Web *httptest.Server

	mu        sync.Mutex
	gists     map[string]*gistState
	truncate  int // files longer than this are truncated in the API; 0: never
	limitedTo time.Time
	refused   map[string]bool
	clock     time.Time
	log       fakehost.Log[Request]
}

// New starts a fake; it is closed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{gists: map[string]*gistState{}, refused: map[string]bool{}, clock: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
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

// Config is a gist.Config pointing at the fake.
func (s *Server) Config(client *httpx.Client) gist.Config {
	return gist.Config{WebURL: s.Web.URL + "/", RawURL: s.Raw.URL + "/", APIURL: s.API.URL + "/", Client: client}
}

// Client is an httpx client with GitHub's token rules: token (may be "")
// scoped to the fake API host; fast retries.
func (s *Server) Client(token string) *httpx.Client {
	return httpx.New(httpx.Options{
		UserAgent:    "modup-test",
		Token:        token,
		TokenHost:    github.TokenHost(github.Config{APIURL: s.API.URL + "/"}),
		RetryMax:     1,
		RetryWaitMin: time.Millisecond,
		RetryWaitMax: 5 * time.Millisecond,
	})
}

// Source is a gist source speaking to the fake with token.
func (s *Server) Source(token string) *gist.Source { return gist.New(s.Config(s.Client(token))) }

// Env is the environment that points modup at the fake (for CLI tests).
func (s *Server) Env() []string {
	return []string{
		gist.EnvWebURL + "=" + s.Web.URL + "/",
		gist.EnvRawURL + "=" + s.Raw.URL + "/",
		github.EnvAPIURL + "=" + s.API.URL + "/",
	}
}

// GistURL is the update_url of a gist.
func (s *Server) GistURL(user, id string) string { return s.Web.URL + "/" + user + "/" + id }

// Commit makes files (the whole gist: name -> content) a new revision of
// gist id owned by user, creating the gist, and returns the revision.
func (s *Server) Commit(user, id string, files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gists[id]
	if g == nil {
		g = &gistState{id: id, owner: user}
		s.gists[id] = g
	}
	s.clock = s.clock.Add(time.Minute)
	sum := sha1.Sum([]byte(id + strconv.Itoa(len(g.revs)) + fmt.Sprint(files)))
	rev := &revision{sha: hex.EncodeToString(sum[:]), files: maps.Clone(files), at: s.clock}
	g.revs = append(g.revs, rev)
	return rev.sha
}

// Files is the files of gist id at its newest revision (nil when none).
func (s *Server) Files(id string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := s.gists[id]; g != nil && len(g.revs) > 0 {
		return maps.Clone(g.revs[len(g.revs)-1].files)
	}
	return nil
}

// Revisions lists gist id's revisions, oldest first.
func (s *Server) Revisions(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if g := s.gists[id]; g != nil {
		for _, r := range g.revs {
			out = append(out, r.sha)
		}
	}
	return out
}

// SetArchive makes zip the archive of revision sha of gist id, instead of
// one built from its files.
func (s *Server) SetArchive(id, sha string, zip []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.find(id, sha); r != nil {
		r.archive = zip
	}
}

// TruncateOver makes the API truncate the content of files longer than n
// bytes and mark them "truncated", as GitHub does above 1 MB; 0 turns it off.
func (s *Server) TruncateOver(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate = n
}

// RateLimit makes the API answer 403 with x-ratelimit-remaining: 0 until then.
func (s *Server) RateLimit(until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limitedTo = until
}

// RefuseToken makes the API answer requests carrying token with 401.
func (s *Server) RefuseToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[token] = true
}

// Count is how many requests reached host ("api", "raw" or "web").
func (s *Server) Count(host string) int {
	return s.log.Count(func(r Request) bool { return r.Host == host })
}

// Requests is every request seen so far, in order.
func (s *Server) Requests() []Request { return s.log.All() }

// Archive builds a revision's archive as GitHub does: its files in the
// folder "<id>-<revision>/".
func Archive(id, sha string, files map[string]string) []byte {
	return fakehost.WrappedZip(id+"-"+sha, files, "")
}

func (s *Server) record(host string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &fakehost.Recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		s.log.Add(Request{
			Method: r.Method, Path: r.URL.EscapedPath(), Host: host,
			Auth:        r.Header.Get("Authorization") != "",
			Conditional: r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "",
			Status:      rec.Status,
		})
	})
}

// find is revision sha of gist id ("" for the newest); the caller holds mu.
func (s *Server) find(id, sha string) *revision {
	g := s.gists[id]
	if g == nil || len(g.revs) == 0 {
		return nil
	}
	if sha == "" {
		return g.revs[len(g.revs)-1]
	}
	for _, r := range g.revs {
		if r.sha == sha {
			return r
		}
	}
	return nil
}

// lookup is revision sha ("" for the newest) of gist id owned by user
// (any case), or nil.
func (s *Server) lookup(user, id, sha string) (*gistState, *revision) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.gists[id]
	if g == nil || (user != "" && !strings.EqualFold(user, g.owner)) {
		return nil, nil
	}
	return g, s.find(id, sha)
}

// serveRaw answers /USER/ID/raw/NAME (newest revision) and
// /USER/ID/raw/REV/NAME, conditionally.
func (s *Server) serveRaw(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 4 || parts[2] != "raw" || len(parts) > 5 {
		http.NotFound(w, r)
		return
	}
	sha, name := "", parts[3]
	if len(parts) == 5 {
		sha, name = parts[3], parts[4]
	}
	_, rev := s.lookup(parts[0], parts[1], sha)
	if rev == nil {
		http.NotFound(w, r)
		return
	}
	content, ok := rev.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	fakehost.NewFile([]byte(content), rev.at).Serve(w, r, "text/plain; charset=utf-8")
}

// serveWeb answers /USER/ID/archive/REV.zip.
func (s *Server) serveWeb(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) != 4 || parts[2] != "archive" || !strings.HasSuffix(parts[3], ".zip") {
		http.NotFound(w, r)
		return
	}
	sha := strings.TrimSuffix(parts[3], ".zip")
	g, rev := s.lookup(parts[0], parts[1], sha)
	if rev == nil {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	data := rev.archive
	s.mu.Unlock()
	if data == nil {
		data = Archive(g.id, rev.sha, rev.files)
	}
	fakehost.ServeZip(w, r, data, g.id+"-"+rev.sha+".zip")
}

// serveAPI answers GET /gists/ID and GET /gists/ID/REV.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	limited, until := s.limitedTo.After(time.Now()), s.limitedTo
	refused := s.refused[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	s.mu.Unlock()
	h := w.Header()
	switch {
	case refused:
		apiError(w, http.StatusUnauthorized, "Bad credentials")
		return
	case limited:
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(until.Unix(), 10))
		apiError(w, http.StatusForbidden, "API rate limit exceeded")
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method != http.MethodGet || len(parts) < 2 || len(parts) > 3 || parts[0] != "gists" {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	sha := ""
	if len(parts) == 3 {
		sha = parts[2]
	}
	g, rev := s.lookup("", parts[1], sha)
	if rev == nil {
		apiError(w, http.StatusNotFound, "Not Found")
		return
	}
	body, err := json.Marshal(s.gistJSON(g, rev))
	if err != nil {
		apiError(w, http.StatusInternalServerError, err.Error())
		return
	}
	fakehost.NewFile(body, rev.at).Serve(w, r, "application/json; charset=utf-8")
}

func (s *Server) gistJSON(g *gistState, rev *revision) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	files := map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(rev.files)) {
		content := rev.files[name]
		truncated := s.truncate > 0 && len(content) > s.truncate
		if truncated {
			content = content[:s.truncate]
		}
		files[name] = map[string]any{
			"filename": name, "size": len(rev.files[name]), "truncated": truncated, "content": content,
			"raw_url": s.Raw.URL + "/" + g.owner + "/" + g.id + "/raw/" + rev.sha + "/" + name,
		}
	}
	// A revision's history starts at it, newest first.
	var history []map[string]any
	for i := slices.Index(g.revs, rev); i >= 0; i-- {
		h := g.revs[i]
		history = append(history, map[string]any{
			"version": h.sha, "committed_at": h.at.Format(time.RFC3339),
			"url": s.API.URL + "/gists/" + g.id + "/" + h.sha, "user": map[string]any{"login": g.owner},
		})
	}
	return map[string]any{
		"id": g.id, "html_url": s.Web.URL + "/" + g.owner + "/" + g.id, "public": true,
		"owner": map[string]any{"login": g.owner}, "files": files, "history": history,
		"updated_at": rev.at.Format(time.RFC3339),
	}
}

func apiError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"message": msg, "documentation_url": "https://docs.github.com/rest"})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
