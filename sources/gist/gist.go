// Package gist is the source for single-module packages published as a
// GitHub gist.
//
// A gist holds a2modsource.json and the files of one module (gists have no
// folders); modup installs it as a package folder holding a2modsource.json
// and one module folder, named by the manifest's "module" field (default:
// the package's name), holding the other files. The source declares that
// reshaping (sources.Reshaper), so the updater extracts a gist's archive
// like any other payload.
//
// Routine checks read the gist's current a2modsource.json from the raw host
// with a conditional request, costing no API quota. Releases are the gist's
// revisions at which the manifest's version changed: Resolve and Versions
// read the history from GitHub's API (GET /gists/ID, conditional) and each
// revision's manifest (GET /gists/ID/REV, conditional, remembered: a
// revision never changes; a file the API marks truncated is read from its
// raw URL). A release's payload is that revision's archive,
// WEB/USER/ID/archive/REV.zip. The first revision that names a version is
// its release: later edits that keep the version are not a new release.
package gist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/sources"
)

// Kind is this source's kind.
const Kind = "gist"

// Origins a Release of this source can carry besides the caller's own.
const (
	OriginRelease = "release"
	OriginRequest = "request"
)

const (
	maxAPIResponse = 32 << 20
	defaultBlock   = time.Minute
	apiMediaType   = "application/vnd.github+json"
	// extraModule and extraRevision are the Release.Extra keys of the
	// module folder's name and the revision.
	extraModule   = "module"
	extraRevision = "revision"
)

// ExtraModule is the Release.Extra key of the module folder a gist's
// payload installs into: Resolve sets it from the revision's manifest
// ("module", else "name", else the package's name), and so does a client
// that found the release elsewhere (an index) before it asks Reshape.
const ExtraModule = extraModule

var (
	_ sources.Source   = (*Source)(nil)
	_ sources.Locator  = (*Source)(nil)
	_ sources.Lister   = (*Source)(nil)
	_ sources.Reshaper = (*Source)(nil)
)

// Source is the gist source. It is safe for concurrent use.
type Source struct {
	cfg     Config
	apiHost string
	now     func() time.Time

	mu           sync.Mutex
	blockedUntil time.Time
	revisions    map[string]revision // "ID/REV" -> what its manifest says
}

// revision is what one revision's manifest says.
type revision struct {
	sha                        string
	version, name, news, modul string
	// What the manifest at this revision requires (known: it parsed).
	manifestVersion int
	requirements    resolve.Requirements
	known           bool
}

// New returns a gist source. cfg.Client must be set (GitHub's).
func New(cfg Config) *Source {
	cfg = cfg.withDefaults()
	if cfg.Client == nil {
		panic("gist.New: Config.Client is nil")
	}
	s := &Source{cfg: cfg, now: time.Now, revisions: map[string]revision{}}
	if u, err := url.Parse(cfg.APIURL); err == nil {
		s.apiHost = u.Host
	}
	return s
}

// Kind implements sources.Source.
func (s *Source) Kind() string { return Kind }

// Match reports whether updateURL names a gist on this source's host.
func (s *Source) Match(updateURL string) bool {
	_, err := s.ref(sources.Query{UpdateURL: updateURL})
	return err == nil
}

// Ref is a gist named by an update_url.
type Ref struct {
	User, ID string
}

func (r Ref) String() string { return "gist " + r.User + "/" + r.ID }

// ParseGistURL reads an update_url https://gist.github.com/USER/ID (with or
// without a trailing slash or ".git", any letter case of the host) where
// the host is webURL's.
func ParseGistURL(updateURL, webURL string) (Ref, bool) {
	web, err := url.Parse(strings.TrimSpace(webURL))
	if err != nil || web.Host == "" {
		return Ref{}, false
	}
	raw := strings.TrimSpace(updateURL)
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" ||
		(u.Scheme != "http" && u.Scheme != "https") || !sources.SameHost(u, web) || strings.ContainsAny(raw, " \t\r\n\\") {
		return Ref{}, false
	}
	prefix := strings.TrimRight(web.EscapedPath(), "/") + "/"
	path := u.EscapedPath()
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return Ref{}, false
	}
	segs := strings.Split(strings.TrimSuffix(path[len(prefix):], "/"), "/")
	if len(segs) != 2 {
		return Ref{}, false
	}
	r := Ref{User: segs[0], ID: strings.TrimSuffix(segs[1], ".git")}
	if !validUser(r.User) || !validID(r.ID) {
		return Ref{}, false
	}
	return r, true
}

// validUser accepts GitHub user names: letters, digits and hyphens, not
// starting with a hyphen, at most 39.
func validUser(s string) bool {
	if s == "" || len(s) > 39 || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '-' {
			return false
		}
	}
	return true
}

// validID accepts gist ids: hexadecimal (and the numbers of old gists).
func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func (s *Source) ref(q sources.Query) (Ref, error) {
	for _, web := range append([]string{s.cfg.WebURL}, s.cfg.Aliases...) {
		if r, ok := ParseGistURL(q.UpdateURL, web); ok {
			return r, nil
		}
	}
	return Ref{}, fmt.Errorf("%q is not a gist URL of %s (want %sUSER/ID): %w", q.UpdateURL, s.cfg.WebURL, s.cfg.WebURL, sources.ErrUnsupported)
}

func (s *Source) manifestURL(r Ref) string {
	return s.cfg.RawURL + url.PathEscape(r.User) + "/" + url.PathEscape(r.ID) + "/raw/" + sources.ManifestFile
}

func (s *Source) archiveURL(r Ref, rev string) string {
	return s.cfg.WebURL + url.PathEscape(r.User) + "/" + url.PathEscape(r.ID) + "/archive/" + url.PathEscape(rev) + ".zip"
}

func (s *Source) gistAPI(r Ref) string { return s.cfg.APIURL + "gists/" + url.PathEscape(r.ID) }

// Locate implements sources.Locator. A gist's payload URL names a revision,
// which only the API knows: payloadURL stays empty.
func (s *Source) Locate(q sources.Query, _ string) (manifestURL, payloadURL string, err error) {
	r, err := s.ref(q)
	if err != nil {
		return "", "", err
	}
	return s.manifestURL(r), "", nil
}

// Latest reads the gist's current a2modsource.json from the raw host with a
// conditional request; it never asks the API.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	r, err := s.ref(q)
	if err != nil {
		return sources.Release{}, err
	}
	u := s.manifestURL(r)
	body, _, err := s.cfg.Client.Fetch(ctx, u, q.Cache, manifest.MaxSize)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sources.Release{}, fmt.Errorf("fetch %s: %w", u, ctxErr)
		}
		if errors.Is(err, sources.ErrNotFound) {
			return sources.Release{}, sources.KindErrorf(sources.ErrNotFound,
				"%s not found at %s (check the gist's USER/ID in update_url; the gist must hold a file named %s)", sources.ManifestFile, u, sources.ManifestFile)
		}
		return sources.Release{}, fmt.Errorf("fetch %s: %w", u, err)
	}
	rel, _, err := sources.PointerRelease(body, u, Kind)
	return rel, err
}

// Resolve finds the revision at which the gist's manifest first named
// want.Version (in either spelling, "1.2.0" or "v1.2.0"; a version asked
// for explicitly also as semver, "1.2" for "1.2.0").
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	r, err := s.ref(q)
	if err != nil {
		return sources.Release{}, err
	}
	version := strings.TrimSpace(want.Version)
	if version == "" {
		return sources.Release{}, sources.KindErrorf(sources.ErrInvalid, "%s: empty version", r)
	}
	want.Version = version
	releases, user, err := s.releases(ctx, q, r)
	if err != nil {
		return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, r, err)
	}
	idx := slices.IndexFunc(releases, func(rv revision) bool { return sources.TrimV(rv.version) == sources.TrimV(version) })
	if idx < 0 && want.Origin == OriginRequest {
		if w, err := semver.NewVersion(version); err == nil {
			idx = slices.IndexFunc(releases, func(rv revision) bool {
				v, err := semver.NewVersion(rv.version)
				return err == nil && v.Equal(w)
			})
		}
	}
	if idx < 0 {
		subject := q.Package
		if subject == "" {
			subject = r.String()
		}
		return sources.Release{}, sources.KindErrorf(sources.ErrUnreleased,
			"%s %s: no revision of %s names version %s", subject, version, r, version)
	}
	return s.release(q, Ref{User: user, ID: r.ID}, releases[idx], want)
}

// Versions implements sources.Lister: one release per version the gist's
// manifest named, newest first.
func (s *Source) Versions(ctx context.Context, q sources.Query) ([]sources.Release, error) {
	r, err := s.ref(q)
	if err != nil {
		return nil, err
	}
	releases, user, err := s.releases(ctx, q, r)
	if err != nil {
		return nil, fmt.Errorf("list releases of %s: %w", r, err)
	}
	out := make([]sources.Release, 0, len(releases))
	for i := len(releases) - 1; i >= 0; i-- {
		rel, err := s.release(q, Ref{User: user, ID: r.ID}, releases[i], sources.Release{Version: releases[i].version, Origin: OriginRelease})
		if err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

// release completes want from the revision rv of gist r.
func (s *Source) release(q sources.Query, r Ref, rv revision, want sources.Release) (sources.Release, error) {
	module := rv.modul
	if module == "" {
		module = rv.name
	}
	if module == "" {
		module = q.Package
	}
	if !validModule(module) {
		return sources.Release{}, sources.KindErrorf(sources.ErrInvalid,
			"%s revision %s: module folder %q (the manifest's \"module\", else its \"name\") cannot be a folder name: set \"module\" to a plain name", r, rv.sha, module)
	}
	out := want
	out.Tag = rv.sha
	out.Name = rv.name
	if strings.TrimSpace(rv.news) != "" {
		out.News = rv.news
	}
	out.PayloadURL = s.archiveURL(r, rv.sha)
	out.Size, out.SizeFrom, out.SHA256 = 0, "", ""
	out.Prerelease, out.Draft = prerelease(rv.version), false
	if out.Origin == "" {
		out.Origin = OriginRelease
	}
	out.Kind = Kind
	out.Resolved = true
	out.Extra = map[string]string{extraModule: module, extraRevision: rv.sha}
	if rv.known {
		// The revision's own manifest: what this release requires, read
		// with the version (no payload needed to judge an older release).
		out.ManifestVersion, out.Requirements, out.RequirementsKnown = rv.manifestVersion, rv.requirements, true
	}
	return out, nil
}

func prerelease(v string) bool {
	sv, err := semver.NewVersion(v)
	return err == nil && sv.Prerelease() != ""
}

// validModule accepts a module folder name: one plain path element.
func validModule(m string) bool {
	return m != "" && m != "." && m != ".." && len(m) <= 255 && !strings.ContainsAny(m, "/\\:*?\"<>|") &&
		!strings.EqualFold(m, sources.ManifestFile) && strings.TrimSpace(m) == m && !strings.HasSuffix(m, ".")
}

// releases lists the revisions at which the manifest's version changed,
// oldest first, each version once (its first revision), and the gist's
// owner.
func (s *Source) releases(ctx context.Context, q sources.Query, r Ref) ([]revision, string, error) {
	if until, blocked := s.apiBlocked(); blocked {
		return nil, "", &sources.RateLimitError{Host: s.apiHost, Reset: until}
	}
	var g apiGist
	if err := s.getJSON(ctx, s.gistAPI(r), q.Cache, &g); err != nil {
		if errors.Is(err, sources.ErrNotFound) {
			return nil, "", sources.KindErrorf(sources.ErrNotFound, "%s: the API knows no such gist (%s)", r, s.gistAPI(r))
		}
		return nil, "", err
	}
	user := r.User
	if g.Owner != nil && g.Owner.Login != "" {
		user = g.Owner.Login
	}
	var out []revision
	seen := map[string]bool{}
	prev := ""
	for i := len(g.History) - 1; i >= 0; i-- { // the API lists the newest first
		sha := g.History[i].Version
		rv, err := s.revision(ctx, q, r, sha)
		if err != nil {
			return nil, "", err
		}
		v := sources.TrimV(rv.version)
		if v != "" && v != prev && !seen[v] {
			seen[v] = true
			out = append(out, rv)
		}
		prev = v
	}
	return out, user, nil
}

// revision reads what the manifest said at revision sha (remembered: a
// revision never changes). A revision without a readable manifest names no
// version.
func (s *Source) revision(ctx context.Context, q sources.Query, r Ref, sha string) (revision, error) {
	key := r.ID + "/" + sha
	s.mu.Lock()
	rv, ok := s.revisions[key]
	s.mu.Unlock()
	if ok {
		return rv, nil
	}
	var g apiGist
	if err := s.getJSON(ctx, s.gistAPI(r)+"/"+url.PathEscape(sha), q.Cache, &g); err != nil {
		return revision{}, err
	}
	rv = revision{sha: sha}
	if f, ok := g.Files[sources.ManifestFile]; ok {
		body := []byte(f.Content)
		if f.Truncated {
			b, _, err := s.cfg.Client.Fetch(ctx, f.RawURL, q.Cache, manifest.MaxSize)
			if err != nil {
				return revision{}, fmt.Errorf("read the truncated %s of revision %s: %w", sources.ManifestFile, sha, err)
			}
			body = b
		}
		if m, err := manifest.Parse(body, sources.ManifestFile+"@"+sha); err == nil {
			rv.version, rv.name, rv.news = strings.TrimSpace(m.Version), m.Name, m.News
			rv.manifestVersion, rv.requirements, rv.known = m.ManifestVersion, m.Requirements, true
			if raw, ok := m.Raw("module"); ok {
				_ = json.Unmarshal(raw, &rv.modul) // a non-string module is ignored
			}
		}
	}
	s.mu.Lock()
	s.revisions[key] = rv
	s.mu.Unlock()
	return rv, nil
}

// getJSON GETs an API URL conditionally and decodes its answer into v; a
// rate limit blocks the API until its reset.
func (s *Source) getJSON(ctx context.Context, u string, cache sources.Cache, v any) error {
	body, _, err := s.cfg.Client.FetchAccept(ctx, u, apiMediaType, cache, maxAPIResponse)
	if err != nil {
		s.noteRateLimit(err)
		var se *httpx.StatusError
		if errors.As(err, &se) && se.Code == http.StatusUnauthorized {
			return fmt.Errorf("%w (GitHub refused the token from GITHUB_TOKEN or GH_TOKEN: it is wrong, expired or revoked; renew it, or unset it to read public gists without one)", err)
		}
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		return sources.KindErrorf(sources.ErrInvalid, "%s: not the expected JSON: %v", u, err)
	}
	return nil
}

func (s *Source) apiBlocked() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blockedUntil, s.now().Before(s.blockedUntil)
}

func (s *Source) noteRateLimit(err error) {
	var rl *sources.RateLimitError
	if !errors.As(err, &rl) {
		return
	}
	until := rl.Reset
	if now := s.now(); !until.After(now) {
		until = now.Add(defaultBlock)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.blockedUntil) {
		s.blockedUntil = until
	}
}

// Open streams a resolved release's payload: the revision's archive.
func (s *Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if r.PayloadURL == "" {
		return nil, fmt.Errorf("open %s: release not resolved (no payload URL)", r.Version)
	}
	body, size, err := s.cfg.Client.Open(ctx, r.PayloadURL)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", r.PayloadURL, err)
	}
	return &sources.Payload{Body: body, Size: size}, nil
}

// Reshape implements sources.Reshaper: a gist's archive holds its files in
// one folder (or none); a2modsource.json stays where it is, every other
// file moves into the module folder. An archive with deeper folders is not
// a gist's.
func (s *Source) Reshape(r sources.Release) func(name string, dir bool) (string, error) {
	module := r.Extra[extraModule]
	return func(name string, dir bool) (string, error) {
		if !validModule(module) {
			return "", fmt.Errorf("release %s of a gist names no module folder (resolve it again)", r.Version)
		}
		wrapper, file, nested := strings.Cut(name, "/")
		switch {
		case !nested && dir:
			return name, nil // the archive's one folder
		case !nested:
			wrapper, file = "", name
		case dir || strings.Contains(file, "/"):
			return "", fmt.Errorf("a gist holds no folders, but this archive has %q", name)
		}
		if file != sources.ManifestFile {
			file = module + "/" + file
		}
		if wrapper == "" {
			return file, nil
		}
		return wrapper + "/" + file, nil
	}
}

// apiGist is the part of a gist (or one revision of it) this source reads.
type apiGist struct {
	Owner *struct {
		Login string `json:"login"`
	} `json:"owner"`
	Files   map[string]apiFile `json:"files"`
	History []struct {
		Version string `json:"version"`
	} `json:"history"`
}

type apiFile struct {
	RawURL    string `json:"raw_url"`
	Content   string `json:"content"`
	Truncated bool   `json:"truncated"`
}
