// Package github is the source for packages whose update_url names a GitHub
// repository.
//
// Routine checks cost no API quota: Latest reads the pointer manifest
// (a2modsource.json) from raw.githubusercontent.com with a conditional
// request. Only Resolve, asked when a new version is about to be offered or
// installed, looks the release up in the REST API, for its notes, flags and
// payload (a release asset "<version>.zip", else the tag archive). When the
// API is rate-limited or unreachable, Resolve falls back to the tag archive
// on the web host, which needs no quota, and remembers the reset so that
// later look-ups skip the API until then.
//
// A private repository is read with the token through the API alone: the
// manifest from the contents API (conditionally, so an unchanged one costs
// no quota), payloads from the asset and zipball endpoints, which redirect
// to one-time URLs that get no token.
package github

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	gh "github.com/google/go-github/v62/github"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// Kind is this source's kind.
const Kind = "github"

// Origins a Release of this source can carry besides the caller's own.
const (
	OriginManifest   = "manifest"
	OriginRelease    = "release"
	OriginTagArchive = "tag-archive"
	OriginRequest    = "request"
)

const (
	// maxAPIResponse caps one REST answer (a page of 100 releases with long
	// notes stays far below).
	maxAPIResponse = 32 << 20
	// maxReleasePages stops a release listing that never ends.
	maxReleasePages = 100
	// defaultBlock is how long the API is skipped after a rate limit that
	// names no reset time.
	defaultBlock = time.Minute
)

var (
	_ sources.Source          = (*Source)(nil)
	_ sources.Locator         = (*Source)(nil)
	_ sources.SignatureSource = (*Source)(nil)
	_ sources.Lister          = (*Source)(nil)
)

// Source is the GitHub source. It is safe for concurrent use.
type Source struct {
	cfg     Config
	client  *httpx.Client
	api     *gh.Client
	apiHost string
	now     func() time.Time

	mu              sync.Mutex
	apiBlockedUntil time.Time
	rate            gh.Rate         // the quota as the API last stated it
	private         map[string]bool // repositories read through the API (Repo.key)
}

// New returns a GitHub source. cfg.Client must be set; empty URLs take
// github.com's defaults.
func New(cfg Config) *Source {
	cfg = cfg.withDefaults()
	if cfg.Client == nil {
		panic("github.New: Config.Client is nil")
	}
	api := gh.NewClient(cfg.Client.HTTPClient())
	base, err := url.Parse(cfg.APIURL)
	if err != nil || base.Host == "" {
		// An unparsable API URL makes every API call fail; keep the
		// default so that Latest (which needs no API) still works.
		base, _ = url.Parse(DefaultAPIURL)
	}
	api.BaseURL = base
	api.UserAgent = "" // the httpx client sets modup's
	return &Source{
		cfg:     cfg,
		client:  cfg.Client,
		api:     api,
		apiHost: base.Host,
		now:     time.Now,
		private: map[string]bool{},
	}
}

// Kind implements sources.Source.
func (s *Source) Kind() string { return Kind }

// Match reports whether updateURL names a repository on this source's
// GitHub (for the registry).
func (s *Source) Match(updateURL string) bool {
	_, ok := s.parse(updateURL)
	return ok
}

// parse reads updateURL as a repository on this source's web host or one
// of its aliases.
func (s *Source) parse(updateURL string) (Repo, bool) {
	if r, ok := ParseRepoURL(updateURL, s.cfg.WebURL); ok {
		return r, true
	}
	for _, alias := range s.cfg.Aliases {
		if r, ok := ParseRepoURL(updateURL, alias); ok {
			return r, true
		}
	}
	return Repo{}, false
}

// APIBlockedUntil is when the REST API may be asked again after a rate
// limit; zero (or past) when it is not blocked.
func (s *Source) APIBlockedUntil() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiBlockedUntil
}

// RateLimit is the state of a GitHub API host's quota, as modup last saw
// it: the daemon's status and metrics show it.
type RateLimit struct {
	Host string `json:"host"`
	// Known is false until an API answer stated the quota.
	Known     bool      `json:"known"`
	Limit     int       `json:"limit,omitempty"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
	// BlockedUntil is when modup asks the API again after a rate limit.
	BlockedUntil time.Time `json:"blocked_until,omitzero"`
}

// RateLimit returns the API quota as the last answer stated it.
func (s *Source) RateLimit() RateLimit {
	s.mu.Lock()
	defer s.mu.Unlock()
	rl := RateLimit{Host: s.apiHost, BlockedUntil: s.apiBlockedUntil}
	if s.rate.Limit > 0 {
		rl.Known, rl.Limit, rl.Remaining, rl.Reset = true, s.rate.Limit, s.rate.Remaining, s.rate.Reset.Time
	}
	if !rl.BlockedUntil.After(s.now()) {
		rl.BlockedUntil = time.Time{}
	}
	return rl
}

// noteRate keeps the quota an API answer states.
func (s *Source) noteRate(resp *gh.Response) {
	if resp == nil || resp.Rate.Limit <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rate = resp.Rate
}

func (s *Source) blockAPI(until time.Time) {
	now := s.now()
	if !until.After(now) {
		until = now.Add(defaultBlock)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if until.After(s.apiBlockedUntil) {
		s.apiBlockedUntil = until
	}
}

// isPrivate reports whether r's manifest was last found through the API
// only (a private repository read with the token).
func (s *Source) isPrivate(r Repo) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.private[r.key()]
}

func (s *Source) setPrivate(r Repo, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if private {
		s.private[r.key()] = true
	} else {
		delete(s.private, r.key())
	}
}

func (s *Source) apiBlocked() (time.Time, bool) {
	until := s.APIBlockedUntil()
	return until, s.now().Before(until)
}

func (s *Source) repo(q sources.Query) (Repo, error) {
	r, ok := s.parse(q.UpdateURL)
	if !ok {
		return Repo{}, fmt.Errorf("%q is not a repository URL of %s: %w", redact.URL(q.UpdateURL), redact.URL(s.cfg.WebURL), sources.ErrUnsupported)
	}
	return r, nil
}

// branch is the branch the pointer manifest is read from: /tree/BRANCH of
// the update_url, else the manifest's main_branch, else the default branch.
func branch(r Repo, q sources.Query) string {
	if r.Branch != "" {
		return r.Branch
	}
	if b := strings.TrimSpace(q.MainBranch); b != "" && sources.ValidRef(b) {
		return b
	}
	return "HEAD"
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

func (s *Source) manifestURL(r Repo, branch string) string {
	return s.cfg.RawURL + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name) + "/" +
		escapePath(branch) + "/" + sources.ManifestFile
}

// contentsURL is the manifest through the contents API, which a token
// can read in a private repository. "HEAD" is the default branch.
func (s *Source) contentsURL(r Repo, branch string) string {
	u := s.repoAPIURL(r) + "/contents/" + sources.ManifestFile
	if branch != "HEAD" {
		u += "?ref=" + url.QueryEscape(branch)
	}
	return u
}

// zipballURL is the tag archive through the API (it redirects to a
// one-time download URL), which a token can fetch in a private repository.
func (s *Source) zipballURL(r Repo, tag string) string {
	return s.repoAPIURL(r) + "/zipball/" + url.PathEscape(tag)
}

func (s *Source) repoAPIURL(r Repo) string {
	return s.cfg.APIURL + "repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name)
}

func (s *Source) archiveURL(r Repo, tag string) string {
	return s.cfg.WebURL + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name) +
		"/archive/refs/tags/" + url.PathEscape(tag) + ".zip"
}

// Locate implements sources.Locator: where Latest reads and, for version,
// the tag archive (the payload when the release carries no asset).
func (s *Source) Locate(q sources.Query, version string) (manifestURL, payloadURL string, err error) {
	r, err := s.repo(q)
	if err != nil {
		return "", "", err
	}
	manifestURL = s.manifestURL(r, branch(r, q))
	if version != "" {
		if !sources.ValidTagVersion(version) {
			return "", "", fmt.Errorf("version %q: %w", version, sources.ErrInvalid)
		}
		payloadURL = s.archiveURL(r, version)
	}
	return manifestURL, payloadURL, nil
}

// Latest reads the pointer manifest from the raw host with a conditional
// request, and never calls the REST API for a public repository. When the
// raw host answers 404 and a token reaches the API, the manifest is read
// through the contents API instead (a private repository); the source
// then goes straight there for that repository, and downloads its
// releases through the API too.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	r, err := s.repo(q)
	if err != nil {
		return sources.Release{}, err
	}
	br := branch(r, q)
	rawURL, apiURL := s.manifestURL(r, br), s.contentsURL(r, br)
	canAPI := s.client.Authorized(apiURL)
	private := canAPI && s.isPrivate(r)
	u, body, err := rawURL, []byte(nil), error(nil)
	if !private {
		body, _, err = s.client.Fetch(ctx, rawURL, q.Cache, manifest.MaxSize)
	}
	if private || (canAPI && errors.Is(err, sources.ErrNotFound)) {
		u, body, err = apiURL, nil, nil
		if until, blocked := s.apiBlocked(); blocked {
			err = &sources.RateLimitError{Host: s.apiHost, Reset: until}
		} else {
			body, _, err = s.client.FetchAccept(ctx, apiURL, rawMediaType, q.Cache, manifest.MaxSize)
			s.noteRateLimit(err)
		}
		// Only a definite answer changes where the next check looks.
		switch {
		case err == nil:
			s.setPrivate(r, true)
		case errors.Is(err, sources.ErrNotFound):
			s.setPrivate(r, false)
		}
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sources.Release{}, fmt.Errorf("fetch %s: %w", redact.URL(u), ctxErr)
		}
		if errors.Is(err, sources.ErrNotFound) {
			return sources.Release{}, &kindError{kind: sources.ErrNotFound, msg: notFoundMessage(r, br, redact.URL(rawURL), canAPI)}
		}
		return sources.Release{}, fmt.Errorf("fetch %s: %w", redact.URL(u), s.tokenRefused(err))
	}
	rel, _, err := sources.PointerRelease(body, u, Kind)
	if err != nil {
		return sources.Release{}, err
	}
	return rel, nil
}

// rawMediaType asks the contents API for the file itself, not JSON about it.
const rawMediaType = "application/vnd.github.raw+json"

func notFoundMessage(r Repo, br, u string, withToken bool) string {
	var hint string
	switch {
	case r.Branch != "":
		hint = fmt.Sprintf("check the branch %q in update_url and the repository name", r.Branch)
	case br != "HEAD":
		hint = fmt.Sprintf("check main_branch (%q) and the repository name in update_url", br)
	default:
		hint = "check the repository name in update_url, or set main_branch if the manifest is on another branch than the default"
	}
	if withToken {
		hint += "; the API did not find it with the token either: a private repository needs a token that can read it"
	} else {
		hint += "; a private repository needs a token: set GITHUB_TOKEN or GH_TOKEN"
	}
	return fmt.Sprintf("%s not found at %s (%s)", sources.ManifestFile, u, hint)
}

// Resolve looks want.Version up as a published release: tag "<version>",
// then "v<version>" (or without the "v" when the version has one). A
// version asked for explicitly (want.Origin "request") is also matched as
// semver against every release's tag. The payload is the release asset
// "<version>.zip" or "<tag>.zip" when there is one, else the tag archive.
//
// When the API is rate-limited or unreachable, the tag archive stands in:
// the release is resolved with Origin "tag-archive", NotesUnavailable and
// the manifest's news.
//
// A manifest's zip_size and sha256 describe the zip the author published
// (an asset); they are kept for an asset and dropped for a tag archive,
// which GitHub builds itself.
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	r, err := s.repo(q)
	if err != nil {
		return sources.Release{}, err
	}
	version := strings.TrimSpace(want.Version)
	if !sources.ValidTagVersion(version) {
		return sources.Release{}, &kindError{kind: sources.ErrInvalid,
			msg: fmt.Sprintf("%s: version %q cannot name a tag", r, want.Version)}
	}
	want.Version = version
	tags := sources.VersionSpellings(version)

	if until, blocked := s.apiBlocked(); blocked {
		why := &sources.RateLimitError{Host: s.apiHost, Reset: until}
		return s.resolveArchive(ctx, q, r, want, tags, why)
	}

	rel, err := s.releaseByTags(ctx, r, tags)
	if err == nil {
		return s.fromAPI(want, r, rel)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, r, ctxErr)
	}
	if errors.Is(err, errNoRelease) && want.Origin == OriginRequest {
		rel, err = s.releaseBySemver(ctx, r, version)
		if err == nil {
			return s.fromAPI(want, r, rel)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, r, ctxErr)
		}
	}
	switch {
	case errors.Is(err, errNoRelease):
		return sources.Release{}, unreleased(q, r, want, tags, "")
	case s.noteRateLimit(err):
		why := &sources.RateLimitError{Host: s.apiHost, Reset: s.APIBlockedUntil()}
		return s.resolveArchive(ctx, q, r, want, tags, why)
	case s.unreachable(err):
		return s.resolveArchive(ctx, q, r, want, tags, err)
	default:
		return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, r, s.tokenRefused(err))
	}
}

func unreleased(q sources.Query, r Repo, want sources.Release, tags []string, why string) error {
	subject := q.Package
	if subject == "" {
		subject = r.String()
	}
	return sources.UnreleasedError(subject, want, tags, why)
}

// resolveArchive resolves want from the tag archive alone, when the API
// cannot be asked (why says so).
func (s *Source) resolveArchive(ctx context.Context, q sources.Query, r Repo, want sources.Release, tags []string, why error) (sources.Release, error) {
	for _, tag := range tags {
		u := s.archiveURL(r, tag)
		size, err := s.client.Stat(ctx, u)
		if errors.Is(err, sources.ErrNotFound) {
			continue
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return sources.Release{}, fmt.Errorf("check tag archive %s: %w", redact.URL(u), ctxErr)
			}
			return sources.Release{}, fmt.Errorf("release API unavailable (%v), and checking the tag archive: %w", why, err)
		}
		rel := want
		rel.Tag = tag
		rel.PayloadURL = u
		rel.Size, rel.SizeFrom = max(size, 0), "the server's answer to HEAD"
		rel.SHA256 = ""
		rel.NotesUnavailable = true
		rel.Prerelease, rel.Draft = false, false
		rel.Origin = OriginTagArchive
		rel.Kind = Kind
		rel.Resolved = true
		rel.Extra = map[string]string{"payload": "tag-archive"}
		return rel, nil
	}
	return sources.Release{}, unreleased(q, r, want, tags, fmt.Sprintf("no tag archive either; release API unavailable: %v", why))
}

// fromAPI completes want from a published release.
func (s *Source) fromAPI(want sources.Release, r Repo, rel *apiRelease) (sources.Release, error) {
	out := want
	out.Tag = rel.TagName
	out.Kind = Kind
	out.Prerelease = rel.Prerelease
	out.Draft = rel.Draft
	out.NotesUnavailable = false
	if notes := strings.TrimSpace(rel.Body); notes != "" {
		out.ReleaseNotes = rel.Body
	}
	if out.Origin == "" {
		out.Origin = OriginRelease
	}
	out.Resolved = true
	if a := rel.asset(want.Version); a != nil {
		digest, err := a.sha256()
		if err != nil {
			return sources.Release{}, &kindError{kind: sources.ErrInvalid,
				msg: fmt.Sprintf("release %s of %s: asset %s: %v", rel.TagName, r, a.Name, err)}
		}
		if digest != "" && want.SHA256 != "" && !strings.EqualFold(digest, want.SHA256) {
			return sources.Release{}, &kindError{kind: sources.ErrInvalid,
				msg: fmt.Sprintf("release %s of %s: asset %s has sha256 %s but the manifest declares %s", rel.TagName, r, a.Name, digest, want.SHA256)}
		}
		out.PayloadURL = a.BrowserDownloadURL
		if s.isPrivate(r) && a.URL != "" {
			out.PayloadURL = a.URL
		}
		if digest != "" {
			out.SHA256 = digest
		}
		if a.Size > 0 {
			out.Size, out.SizeFrom = a.Size, "the release asset's size"
		}
		out.Extra = map[string]string{"payload": "asset", "asset": a.Name, extraAPIURL: a.URL}
		if sig := rel.signatureOf(a); sig != nil {
			out.SignatureURL = sig.BrowserDownloadURL
			if s.isPrivate(r) && sig.URL != "" {
				out.SignatureURL = sig.URL
			}
			out.Extra[extraSigAPIURL] = sig.URL
		}
		return out, nil
	}
	out.PayloadURL = s.archiveURL(r, rel.TagName)
	if s.isPrivate(r) {
		out.PayloadURL = s.zipballURL(r, rel.TagName)
	}
	out.Size, out.SizeFrom = 0, ""
	out.SHA256 = ""
	out.Extra = map[string]string{"payload": "tag-archive", extraAPIURL: s.zipballURL(r, rel.TagName)}
	return out, nil
}

// extraAPIURL and extraSigAPIURL are the Release.Extra keys of the
// payload's and the signature's URLs in the API, for a download the web
// host refuses (a private repository).
const (
	extraAPIURL    = "api_url"
	extraSigAPIURL = "signature_api_url"
)

// Versions implements sources.Lister: every published release (drafts
// excluded), newest first, as Resolve would resolve it (Origin "release").
// The list is read a hundred releases a page, each page with a conditional
// request through q.Cache, so an unchanged list costs one 304 per page
// (which GitHub does not count against the quota of a token). A page that
// comes back full is followed by the next; the list ends at the first page
// that is not.
func (s *Source) Versions(ctx context.Context, q sources.Query) ([]sources.Release, error) {
	r, err := s.repo(q)
	if err != nil {
		return nil, err
	}
	var out []sources.Release
	for page := 1; ; page++ {
		if page > maxReleasePages {
			return nil, fmt.Errorf("list releases of %s: more than %d pages of releases", r, maxReleasePages)
		}
		if until, blocked := s.apiBlocked(); blocked {
			return nil, fmt.Errorf("list releases of %s: %w", r, &sources.RateLimitError{Host: s.apiHost, Reset: until})
		}
		u := fmt.Sprintf("%s/releases?per_page=%d&page=%d", s.repoAPIURL(r), releasesPerPage, page)
		body, _, err := s.client.FetchAccept(ctx, u, apiMediaType, q.Cache, maxAPIResponse)
		if err != nil {
			return nil, s.listError(ctx, r, err)
		}
		var list []apiRelease
		if err := json.Unmarshal(body, &list); err != nil {
			what := "JSON"
			if httpx.LooksLikeHTML(body) {
				what = "JSON (got an HTML page)"
			}
			return nil, &kindError{kind: sources.ErrInvalid, msg: fmt.Sprintf("list releases of %s: %s: not the expected %s: %v", r, u, what, err)}
		}
		for i := range list {
			rel := &list[i]
			if rel.Draft || rel.TagName == "" {
				continue
			}
			res, err := s.fromAPI(sources.Release{Version: sources.TrimV(rel.TagName), Origin: OriginRelease}, r, rel)
			if err != nil {
				return nil, err
			}
			res.Published = rel.PublishedAt
			out = append(out, res)
		}
		if len(list) < releasesPerPage {
			return out, nil
		}
	}
}

// listError words a failed page of the release list.
func (s *Source) listError(ctx context.Context, r Repo, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("list releases of %s: %w", r, ctxErr)
	}
	if errors.Is(err, sources.ErrNotFound) {
		return &kindError{kind: sources.ErrNotFound,
			msg: fmt.Sprintf("list releases of %s: no such repository (or it is private and no token grants access)", r)}
	}
	if s.noteRateLimit(err) {
		until, _ := s.apiBlocked()
		return fmt.Errorf("list releases of %s: %w", r, &sources.RateLimitError{Host: s.apiHost, Reset: until})
	}
	return fmt.Errorf("list releases of %s: %w", r, s.tokenRefused(err))
}

const (
	// releasesPerPage is the largest page the releases API gives.
	releasesPerPage = 100
	// apiMediaType is what the REST API documents for JSON answers.
	apiMediaType = "application/vnd.github+json"
)

// errNoRelease: none of the tags has a published release.
var errNoRelease = errors.New("no published release")

// releaseByTags asks for each tag's release in turn; drafts count as absent.
func (s *Source) releaseByTags(ctx context.Context, r Repo, tags []string) (*apiRelease, error) {
	for _, tag := range tags {
		path := "repos/" + url.PathEscape(r.Owner) + "/" + url.PathEscape(r.Name) + "/releases/tags/" + url.PathEscape(tag)
		var rel apiRelease
		_, err := s.getJSON(ctx, path, &rel)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rel.Draft {
			continue
		}
		if rel.TagName == "" {
			rel.TagName = tag
		}
		return &rel, nil
	}
	return nil, errNoRelease
}

// releaseBySemver pages through the releases for a tag equal to version
// as semver ("v1.2" == "1.2.0").
func (s *Source) releaseBySemver(ctx context.Context, r Repo, version string) (*apiRelease, error) {
	want, err := semver.NewVersion(version)
	if err != nil {
		return nil, errNoRelease
	}
	var found *apiRelease
	err = s.eachRelease(ctx, r, func(rel *apiRelease) (bool, error) {
		if v, err := semver.NewVersion(rel.TagName); err == nil && v.Equal(want) {
			found = rel
			return false, nil
		}
		return true, nil
	})
	if isNotFound(err) || (err == nil && found == nil) {
		return nil, errNoRelease // no such release, or no such repository
	}
	if err != nil {
		return nil, err
	}
	return found, nil
}

// eachRelease calls fn for every non-draft release, page by page, until fn
// says stop.
func (s *Source) eachRelease(ctx context.Context, r Repo, fn func(*apiRelease) (bool, error)) error {
	page := 1
	for n := 0; n < maxReleasePages; n++ {
		path := fmt.Sprintf("repos/%s/%s/releases?per_page=100&page=%d", url.PathEscape(r.Owner), url.PathEscape(r.Name), page)
		var list []apiRelease
		resp, err := s.getJSON(ctx, path, &list)
		if err != nil {
			return err
		}
		for i := range list {
			if list[i].Draft || list[i].TagName == "" {
				continue
			}
			more, err := fn(&list[i])
			if err != nil || !more {
				return err
			}
		}
		if resp.NextPage <= page {
			return nil
		}
		page = resp.NextPage
	}
	return fmt.Errorf("more than %d pages of releases", maxReleasePages)
}

// getJSON GETs an API path and decodes its answer into v, reading at most
// maxAPIResponse bytes.
func (s *Source) getJSON(ctx context.Context, path string, v any) (*gh.Response, error) {
	req, err := s.api.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.api.BareDo(ctx, req)
	s.noteRate(resp)
	if err != nil {
		return resp, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return resp, fmt.Errorf("read %s: %w", redact.URL(req.URL.String()), err)
	}
	if len(body) > maxAPIResponse {
		return resp, &kindError{kind: sources.ErrInvalid, msg: fmt.Sprintf("%s: answer larger than %d bytes", redact.URL(req.URL.String()), maxAPIResponse)}
	}
	if err := json.Unmarshal(body, v); err != nil {
		what := "JSON"
		if httpx.LooksLikeHTML(body) {
			what = "JSON (got an HTML page)"
		}
		return resp, &kindError{kind: sources.ErrInvalid, msg: fmt.Sprintf("%s: not the expected %s: %v", redact.URL(req.URL.String()), what, err)}
	}
	return resp, nil
}

func isNotFound(err error) bool {
	if err == nil {
		return false
	}
	var er *gh.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		return er.Response.StatusCode == http.StatusNotFound
	}
	return errors.Is(err, sources.ErrNotFound)
}

// noteRateLimit reports whether err is a rate limit of the API and, if so,
// blocks the API until its reset.
func (s *Source) noteRateLimit(err error) bool {
	reset, ok := s.rateLimitReset(err)
	if ok {
		s.blockAPI(reset)
	}
	return ok
}

// rateLimitReset recognises the API's rate-limit answers, however they
// reach us: go-github's errors (the client's own memory of a spent quota
// among them), or an answer httpx maps to a *sources.RateLimitError (429,
// a long Retry-After).
func (s *Source) rateLimitReset(err error) (time.Time, bool) {
	var rl *gh.RateLimitError
	if errors.As(err, &rl) {
		return rl.Rate.Reset.Time, true
	}
	var ab *gh.AbuseRateLimitError
	if errors.As(err, &ab) {
		if ab.RetryAfter != nil {
			return s.now().Add(*ab.RetryAfter), true
		}
		return time.Time{}, true
	}
	var srl *sources.RateLimitError
	if errors.As(s.mapResponse(err), &srl) {
		return srl.Reset, true
	}
	if errors.Is(err, sources.ErrRateLimited) {
		return time.Time{}, true
	}
	return time.Time{}, false
}

// mapResponse turns an API error answer into httpx's errors (ErrNotFound,
// *sources.RateLimitError, *httpx.StatusError); other errors pass as they are.
func (s *Source) mapResponse(err error) error {
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil {
		return err
	}
	name := s.cfg.APIURL
	if er.Response.Request != nil && er.Response.Request.URL != nil {
		name = er.Response.Request.URL.String()
	}
	return s.client.ResponseError(name, er.Response)
}

// tokenRefused adds what to do to an API answer of 401: GitHub refuses a
// wrong, expired or revoked token even for public repositories.
func (s *Source) tokenRefused(err error) error {
	var se *httpx.StatusError
	if errors.As(s.mapResponse(err), &se) && se.Code == http.StatusUnauthorized {
		return fmt.Errorf("%w (GitHub refused the token from GITHUB_TOKEN or GH_TOKEN: it is wrong, expired or revoked; renew it, or unset it to read public repositories without one)", err)
	}
	return err
}

// unreachable reports whether err says the API could not be reached or
// failed on its side (after the client's retries), as opposed to answering.
func (s *Source) unreachable(err error) bool {
	var er *gh.ErrorResponse
	if errors.As(err, &er) {
		return httpx.Unreachable(s.mapResponse(err))
	}
	return httpx.Unreachable(err)
}

// Open streams a resolved release's payload.
func (s *Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if r.PayloadURL == "" {
		return nil, fmt.Errorf("open %s: release not resolved (no payload URL)", r.Version)
	}
	body, size, err := s.openOrAPI(ctx, r.PayloadURL, r.Extra[extraAPIURL])
	if err != nil {
		return nil, err
	}
	return &sources.Payload{Body: body, Size: size}, nil
}

// Signature implements sources.SignatureSource: the release asset
// "<asset>.minisig" next to the payload asset ("1.2.0.zip.minisig").
func (s *Source) Signature(ctx context.Context, r sources.Release) ([]byte, error) {
	if r.SignatureURL == "" {
		why := fmt.Sprintf("release %s has no asset %s%s", cmp.Or(r.Tag, r.Version), cmp.Or(r.Extra["asset"], sources.ZipName(r.Version)), sources.SignatureSuffix)
		if r.Extra["payload"] != "asset" {
			why = fmt.Sprintf("release %s has no zip asset, only the tag archive GitHub builds, which no one can sign (attach the zip and its .minisig from `modup pack --sign`)", cmp.Or(r.Tag, r.Version))
		}
		return nil, &kindError{kind: sources.ErrNotFound, msg: why}
	}
	body, _, err := s.openOrAPI(ctx, r.SignatureURL, r.Extra[extraSigAPIURL])
	if err != nil {
		return nil, err
	}
	defer body.Close()
	data, err := io.ReadAll(io.LimitReader(body, sources.MaxSignatureSize+1))
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", redact.URL(r.SignatureURL), err)
	}
	if len(data) > sources.MaxSignatureSize {
		return nil, &kindError{kind: sources.ErrInvalid, msg: fmt.Sprintf("%s is larger than %d bytes: not a signature", redact.URL(r.SignatureURL), sources.MaxSignatureSize)}
	}
	return data, nil
}

// openOrAPI GETs u; when the web host answers 404 and api (the same file
// through the API) differs, it asks there: a release resolved before this
// source saw the repository was private names the web host's URL, which
// answers 404 without a login, and the token goes to the API only.
func (s *Source) openOrAPI(ctx context.Context, u, api string) (io.ReadCloser, int64, error) {
	body, size, err := s.open(ctx, u)
	if errors.Is(err, sources.ErrNotFound) && api != "" && api != u && s.client.Authorized(api) {
		u = api
		body, size, err = s.open(ctx, u)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("download %s: %w", redact.URL(u), s.tokenRefused(err))
	}
	return body, size, nil
}

// open GETs a payload; from the API it asks for the file itself (an asset's
// URL otherwise answers with the asset's description).
func (s *Source) open(ctx context.Context, u string) (io.ReadCloser, int64, error) {
	if strings.HasPrefix(u, s.cfg.APIURL) {
		return s.client.OpenAccept(ctx, u, "application/octet-stream")
	}
	return s.client.Open(ctx, u)
}

// apiRelease is the part of a REST release this source reads. It is decoded
// here rather than through go-github's type to get the assets' digest.
type apiRelease struct {
	TagName    string     `json:"tag_name"`
	Name       string     `json:"name"`
	Body       string     `json:"body"`
	Draft      bool       `json:"draft"`
	Prerelease bool       `json:"prerelease"`
	HTMLURL    string     `json:"html_url"`
	Assets     []apiAsset `json:"assets"`
	// PublishedAt is null for a draft.
	PublishedAt time.Time `json:"published_at"`
}

type apiAsset struct {
	Name               string `json:"name"`
	Size               int64  `json:"size"`
	State              string `json:"state"`
	BrowserDownloadURL string `json:"browser_download_url"`
	URL                string `json:"url"` // the API's, for a private repository
	Digest             string `json:"digest"`
}

// asset is the release's payload asset: "<version>.zip", else "<tag>.zip";
// nil when there is none (or it is not fully uploaded).
func (r *apiRelease) asset(version string) *apiAsset {
	for _, name := range []string{sources.ZipName(version), sources.ZipName(r.TagName)} {
		for i := range r.Assets {
			a := &r.Assets[i]
			if a.Name == name && a.BrowserDownloadURL != "" && (a.State == "" || a.State == "uploaded") {
				return a
			}
		}
	}
	return nil
}

// signatureOf is the uploaded asset "<a's name>.minisig", nil when there
// is none.
func (r *apiRelease) signatureOf(a *apiAsset) *apiAsset {
	name := a.Name + sources.SignatureSuffix
	for i := range r.Assets {
		sig := &r.Assets[i]
		if sig.Name == name && sig.BrowserDownloadURL != "" && (sig.State == "" || sig.State == "uploaded") {
			return sig
		}
	}
	return nil
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// sha256 is the asset's declared digest in hex, "" when GitHub declares
// none (or one of another algorithm).
func (a *apiAsset) sha256() (string, error) {
	algo, hex, ok := strings.Cut(strings.TrimSpace(a.Digest), ":")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return "", nil
	}
	hex = strings.ToLower(hex)
	if !hexSHA256.MatchString(hex) {
		return "", fmt.Errorf("malformed digest %q", a.Digest)
	}
	return hex, nil
}

// kindError is a message that errors.Is matches against a sentinel,
// without the sentinel's text repeated in it.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }
