// Package gitlab is the source for packages whose update_url names a GitLab
// project, on gitlab.com or on a self-hosted instance.
//
// It works as the GitHub source does. Routine checks read the pointer
// manifest from the web host's raw files (WEB/PATH/-/raw/BRANCH/
// a2modsource.json) with a conditional request and never ask the API. Only
// Resolve, asked when a new version is about to be offered or installed,
// looks the release up in the REST API (v4), for its notes and payload: a
// release link named "<version>.zip" (or "<tag>.zip"), else the tag
// archive. When the API is rate-limited or unreachable, Resolve falls back
// to the tag archive, which needs no API, and remembers the reset.
//
// A private project is read with a token through the API alone: the
// manifest from the repository files API (conditionally), its tag archives
// from the repository archive endpoint. The token travels as PRIVATE-TOKEN
// and reaches the API's paths only (see ClientOptions).
package gitlab

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/manifest"
	"github.com/modup/modup/sources"
)

// Kind is this source's kind.
const Kind = "gitlab"

// Origins a Release of this source can carry besides the caller's own.
const (
	OriginManifest   = "manifest"
	OriginRelease    = "release"
	OriginTagArchive = "tag-archive"
	OriginRequest    = "request"
)

const (
	// maxAPIResponse caps one REST answer.
	maxAPIResponse = 32 << 20
	// perPage is the page size of release listings (GitLab's maximum).
	perPage = 100
	// maxReleasePages stops a release listing that never ends.
	maxReleasePages = 100
	// defaultBlock is how long the API is skipped after a rate limit that
	// names no reset time.
	defaultBlock = time.Minute
)

var (
	_ sources.Source  = (*Source)(nil)
	_ sources.Locator = (*Source)(nil)
	_ sources.Lister  = (*Source)(nil)
)

// Source is the GitLab source over one or more instances (gitlab.com and
// the self-hosted ones of the config file). It is safe for concurrent use.
type Source struct {
	hosts []*host
	now   func() time.Time
}

// host is one GitLab instance and what the source learnt about it.
type host struct {
	cfg     Config
	apiHost string

	mu           sync.Mutex
	blockedUntil time.Time
	private      map[string]bool // projects read through the API (Project.key)
}

// New returns a GitLab source over the instances cfgs, tried in order for
// each update_url. Every Config needs its Client.
func New(cfgs ...Config) *Source {
	s := &Source{now: time.Now}
	for _, c := range cfgs {
		c = c.withDefaults()
		if c.Client == nil {
			panic("gitlab.New: Config.Client is nil for " + c.WebURL)
		}
		h := &host{cfg: c, private: map[string]bool{}}
		if u, err := url.Parse(c.APIURL); err == nil {
			h.apiHost = u.Host
		}
		s.hosts = append(s.hosts, h)
	}
	return s
}

// Kind implements sources.Source.
func (s *Source) Kind() string { return Kind }

// Match reports whether updateURL names a project on one of the source's
// instances (for the registry).
func (s *Source) Match(updateURL string) bool {
	_, _, err := s.find(updateURL)
	return err == nil
}

func (s *Source) find(updateURL string) (*host, Project, error) {
	for _, h := range s.hosts {
		for _, web := range append([]string{h.cfg.WebURL}, h.cfg.Aliases...) {
			if p, ok := ParseProjectURL(updateURL, web); ok {
				return h, p, nil
			}
		}
	}
	return nil, Project{}, fmt.Errorf("%q is not a project URL of a known GitLab: %w", updateURL, sources.ErrUnsupported)
}

// APIBlockedUntil is when the API of the instance serving updateURL may be
// asked again after a rate limit; zero (or past) when it is not blocked.
func (s *Source) APIBlockedUntil(updateURL string) time.Time {
	h, _, err := s.find(updateURL)
	if err != nil {
		return time.Time{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.blockedUntil
}

func (s *Source) apiBlocked(h *host) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.blockedUntil, s.now().Before(h.blockedUntil)
}

// noteRateLimit reports whether err is a rate limit and, if so, blocks
// h's API until its reset.
func (s *Source) noteRateLimit(h *host, err error) bool {
	var rl *sources.RateLimitError
	if !errors.As(err, &rl) {
		return false
	}
	now := s.now()
	until := rl.Reset
	if !until.After(now) {
		until = now.Add(defaultBlock)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if until.After(h.blockedUntil) {
		h.blockedUntil = until
	}
	return true
}

func (h *host) rateLimited(until time.Time) error {
	return &sources.RateLimitError{Host: h.apiHost, Reset: until}
}

// isPrivate reports whether p's manifest was last found through the API
// only (a private project read with the token).
func (h *host) isPrivate(p Project) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.private[p.key()]
}

// viaAPI reports whether p's tag archives are downloaded through the API:
// p is private, or not known to be public and the token reaches the API
// (the web host would answer a private project with its sign-in page).
func (h *host) viaAPI(p Project) bool {
	h.mu.Lock()
	private, known := h.private[p.key()]
	h.mu.Unlock()
	return private || (!known && h.cfg.Client.Authorized(h.projectAPI(p)))
}

// setPrivate records what the last manifest read found: private (through
// the API), public (from the web host), or unknown (forget).
func (h *host) setPrivate(p Project, private, known bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if known {
		h.private[p.key()] = private
	} else {
		delete(h.private, p.key())
	}
}

// branch is the branch the pointer manifest is read from: /-/tree/BRANCH
// of the update_url, else the manifest's main_branch, else the default
// branch ("HEAD").
func branch(p Project, q sources.Query) string {
	if p.Branch != "" {
		return p.Branch
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

func (h *host) rawURL(p Project, branch string) string {
	return h.cfg.WebURL + escapePath(p.Path) + "/-/raw/" + escapePath(branch) + "/" + sources.ManifestFile
}

// blobURL is the manifest's page on the web host, which names a manifest
// read through the API in messages (the API's URL does not end in the
// file's name).
func (h *host) blobURL(p Project, branch string) string {
	return h.cfg.WebURL + escapePath(p.Path) + "/-/blob/" + escapePath(branch) + "/" + sources.ManifestFile
}

// projectAPI is the project's API base: projects/URL-ENCODED-PATH.
func (h *host) projectAPI(p Project) string {
	return h.cfg.APIURL + "projects/" + url.PathEscape(p.Path)
}

// filesURL is the manifest through the repository files API, which a token
// can read in a private project.
func (h *host) filesURL(p Project, branch string) string {
	return h.projectAPI(p) + "/repository/files/" + url.PathEscape(sources.ManifestFile) + "/raw?ref=" + url.QueryEscape(branch)
}

// archiveURL is the tag archive on the web host: WEB/PATH/-/archive/TAG/
// PROJECT-TAG.zip, whose files are in the folder "PROJECT-TAG/".
func (h *host) archiveURL(p Project, tag string) string {
	file := p.Name() + "-" + strings.ReplaceAll(tag, "/", "-") + ".zip"
	return h.cfg.WebURL + escapePath(p.Path) + "/-/archive/" + escapePath(tag) + "/" + url.PathEscape(file)
}

// apiArchiveURL is the tag archive through the API, which a token can
// fetch in a private project.
func (h *host) apiArchiveURL(p Project, tag string) string {
	return h.projectAPI(p) + "/repository/archive.zip?sha=" + url.QueryEscape(tag)
}

// Locate implements sources.Locator: where Latest reads and, for version,
// the tag archive (the payload when the release carries no link).
func (s *Source) Locate(q sources.Query, version string) (manifestURL, payloadURL string, err error) {
	h, p, err := s.find(q.UpdateURL)
	if err != nil {
		return "", "", err
	}
	manifestURL = h.rawURL(p, branch(p, q))
	if version != "" {
		if !sources.ValidTagVersion(version) {
			return "", "", fmt.Errorf("version %q: %w", version, sources.ErrInvalid)
		}
		payloadURL = h.archiveURL(p, version)
	}
	return manifestURL, payloadURL, nil
}

// Latest reads the pointer manifest from the web host's raw files with a
// conditional request, and never asks the API for a public project. When
// the web host answers 404 or with its sign-in page and a token reaches
// the API, the manifest is read through the repository files API instead
// (a private project); the source then goes straight there for that
// project, and downloads its archives through the API too.
func (s *Source) Latest(ctx context.Context, q sources.Query) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	h, p, err := s.find(q.UpdateURL)
	if err != nil {
		return sources.Release{}, err
	}
	br := branch(p, q)
	rawURL, apiURL := h.rawURL(p, br), h.filesURL(p, br)
	canAPI := h.cfg.Client.Authorized(apiURL)
	private := canAPI && h.isPrivate(p)
	u, body := rawURL, []byte(nil)
	signIn := false
	if !private {
		body, _, err = h.cfg.Client.Fetch(ctx, rawURL, q.Cache, manifest.MaxSize)
		signIn = err == nil && sources.LooksLikeHTML(body)
	}
	if private || (canAPI && (signIn || errors.Is(err, sources.ErrNotFound))) {
		u, body = apiURL, nil
		if until, blocked := s.apiBlocked(h); blocked {
			err = h.rateLimited(until)
		} else {
			body, _, err = h.cfg.Client.Fetch(ctx, apiURL, q.Cache, manifest.MaxSize)
			s.noteRateLimit(h, err)
		}
		switch {
		case err == nil:
			h.setPrivate(p, true, true)
			u = h.blobURL(p, br)
		case errors.Is(err, sources.ErrNotFound):
			h.setPrivate(p, false, false)
		}
	} else if err == nil && !signIn {
		h.setPrivate(p, false, true)
	} else if signIn {
		return sources.Release{}, sources.KindErrorf(sources.ErrInvalid,
			"%s: got an HTML page instead of %s: GitLab's sign-in page for a private project? it needs a token that can read it (%s); else check the update_url",
			rawURL, sources.ManifestFile, h.tokenHint())
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return sources.Release{}, fmt.Errorf("fetch %s: %w", u, ctxErr)
		}
		if errors.Is(err, sources.ErrNotFound) {
			return sources.Release{}, sources.KindErrorf(sources.ErrNotFound, "%s", h.notFound(p, br, rawURL, canAPI))
		}
		return sources.Release{}, fmt.Errorf("fetch %s: %w", u, h.tokenRefused(err))
	}
	rel, _, err := sources.PointerRelease(body, u, Kind)
	return rel, err
}

func (h *host) notFound(p Project, br, u string, withToken bool) string {
	var hint string
	switch {
	case p.Branch != "":
		hint = fmt.Sprintf("check the branch %q in update_url and the project path", p.Branch)
	case br != "HEAD":
		hint = fmt.Sprintf("check main_branch (%q) and the project path in update_url", br)
	default:
		hint = "check the project path (GROUP/SUBGROUP/PROJECT) in update_url, or set main_branch if the manifest is on another branch than the default"
	}
	if withToken {
		hint += "; the API did not find it with the token either: a private project needs a token that can read it (scope read_api or read_repository)"
	} else {
		hint += "; a private project needs a token: " + h.tokenHint()
	}
	return fmt.Sprintf("%s not found at %s (%s)", sources.ManifestFile, u, hint)
}

// Resolve looks want.Version up as a published release: tag "<version>",
// then "v<version>" (or without the "v" when the version has one). A
// version asked for explicitly (want.Origin "request") is also matched as
// semver against every release's tag. The payload is the release link
// "<version>.zip" or "<tag>.zip" when there is one, else the tag archive.
//
// When the API is rate-limited or unreachable, the tag archive of a public
// project stands in: the release is resolved with Origin "tag-archive",
// NotesUnavailable and the manifest's news.
func (s *Source) Resolve(ctx context.Context, q sources.Query, want sources.Release) (sources.Release, error) {
	if err := ctx.Err(); err != nil {
		return sources.Release{}, err
	}
	h, p, err := s.find(q.UpdateURL)
	if err != nil {
		return sources.Release{}, err
	}
	version := strings.TrimSpace(want.Version)
	if !sources.ValidTagVersion(version) {
		return sources.Release{}, sources.KindErrorf(sources.ErrInvalid, "%s: version %q cannot name a tag", p, want.Version)
	}
	want.Version = version
	tags := sources.VersionSpellings(version)

	if until, blocked := s.apiBlocked(h); blocked {
		return s.resolveArchive(ctx, q, h, p, want, tags, h.rateLimited(until))
	}
	rel, err := s.releaseByTags(ctx, h, p, tags)
	if errors.Is(err, errNoRelease) && want.Origin == OriginRequest {
		rel, err = s.releaseBySemver(ctx, h, p, version)
	}
	if err == nil {
		return h.fromAPI(want, p, rel), nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, p, ctxErr)
	}
	switch {
	case errors.Is(err, errNoRelease):
		return sources.Release{}, unreleased(q, p, want, tags, "")
	case s.noteRateLimit(h, err):
		until, _ := s.apiBlocked(h)
		return s.resolveArchive(ctx, q, h, p, want, tags, h.rateLimited(until))
	case httpx.Unreachable(err):
		return s.resolveArchive(ctx, q, h, p, want, tags, err)
	default:
		return sources.Release{}, fmt.Errorf("look up release %s of %s: %w", version, p, h.tokenRefused(err))
	}
}

func unreleased(q sources.Query, p Project, want sources.Release, tags []string, why string) error {
	subject := q.Package
	if subject == "" {
		subject = p.String()
	}
	return sources.UnreleasedError(subject, want, tags, why)
}

// resolveArchive resolves want from the tag archive alone, when the API
// cannot be asked (why says so). A private project's archives are behind
// the API too: there is nothing to fall back to.
func (s *Source) resolveArchive(ctx context.Context, q sources.Query, h *host, p Project, want sources.Release, tags []string, why error) (sources.Release, error) {
	if h.isPrivate(p) {
		return sources.Release{}, fmt.Errorf("look up release %s of %s (a private project, read through the API only): %w", want.Version, p, why)
	}
	for _, tag := range tags {
		u := h.archiveURL(p, tag)
		size, err := h.cfg.Client.Stat(ctx, u)
		if errors.Is(err, sources.ErrNotFound) {
			continue
		}
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil {
				return sources.Release{}, fmt.Errorf("check tag archive %s: %w", u, ctxErr)
			}
			return sources.Release{}, fmt.Errorf("release API unavailable (%v), and checking the tag archive: %w", why, err)
		}
		rel := want
		rel.Tag = tag
		rel.PayloadURL = u
		rel.Size, rel.SizeFrom = max(size, 0), "the server's answer to HEAD"
		rel.SHA256 = ""
		rel.NotesUnavailable = true
		rel.Prerelease, rel.Draft = prerelease(tag), false
		rel.Origin = OriginTagArchive
		rel.Kind = Kind
		rel.Resolved = true
		rel.Extra = map[string]string{"payload": "tag-archive", extraHost: h.cfg.WebURL}
		return rel, nil
	}
	return sources.Release{}, unreleased(q, p, want, tags, fmt.Sprintf("no tag archive either; release API unavailable: %v", why))
}

// fromAPI completes want from a published release.
func (h *host) fromAPI(want sources.Release, p Project, rel *apiRelease) sources.Release {
	out := want
	out.Tag = rel.TagName
	out.Kind = Kind
	out.Prerelease = prerelease(rel.TagName)
	out.Draft = false
	out.NotesUnavailable = false
	if strings.TrimSpace(rel.Description) != "" {
		out.ReleaseNotes = rel.Description
	}
	if out.Origin == "" {
		out.Origin = OriginRelease
	}
	out.Resolved = true
	if l := rel.link(want.Version); l != nil {
		// The permanent URL on the web host redirects to the file; a
		// private project's web host wants a login, so its file is
		// fetched where it lives when the token reaches there (the
		// generic package registry, behind the API).
		out.PayloadURL = l.URL
		if l.DirectAssetURL != "" && !(h.viaAPI(p) && h.cfg.Client.Authorized(l.URL)) {
			out.PayloadURL = l.DirectAssetURL
		}
		out.Extra = map[string]string{"payload": "asset", "asset": l.Name, extraHost: h.cfg.WebURL}
		return out
	}
	out.PayloadURL = h.archiveURL(p, rel.TagName)
	if h.viaAPI(p) {
		out.PayloadURL = h.apiArchiveURL(p, rel.TagName)
	}
	out.Size, out.SizeFrom, out.SHA256 = 0, "", ""
	out.Extra = map[string]string{"payload": "tag-archive", extraAPIURL: h.apiArchiveURL(p, rel.TagName), extraHost: h.cfg.WebURL}
	return out
}

// extraAPIURL is the Release.Extra key of the payload's URL in the API, for
// a download the web host refuses (a private project).
const extraAPIURL = "api_url"

// prerelease reports whether tag is a semver pre-release: GitLab releases
// carry no such flag.
func prerelease(tag string) bool {
	v, err := semver.NewVersion(tag)
	return err == nil && v.Prerelease() != ""
}

// Versions implements sources.Lister: every published release (upcoming
// ones left out), in GitLab's order (newest release date first), resolved
// as Resolve would (Origin "release").
func (s *Source) Versions(ctx context.Context, q sources.Query) ([]sources.Release, error) {
	h, p, err := s.find(q.UpdateURL)
	if err != nil {
		return nil, err
	}
	if until, blocked := s.apiBlocked(h); blocked {
		return nil, fmt.Errorf("list releases of %s: %w", p, h.rateLimited(until))
	}
	var out []sources.Release
	err = s.eachRelease(ctx, h, p, func(rel *apiRelease) bool {
		out = append(out, h.fromAPI(sources.Release{Version: sources.TrimV(rel.TagName), Origin: OriginRelease}, p, rel))
		return true
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("list releases of %s: %w", p, ctxErr)
		}
		if errors.Is(err, sources.ErrNotFound) {
			return nil, sources.KindErrorf(sources.ErrNotFound,
				"list releases of %s: no such project (or it is private and no token grants access: %s)", p, h.tokenHint())
		}
		s.noteRateLimit(h, err)
		return nil, fmt.Errorf("list releases of %s: %w", p, h.tokenRefused(err))
	}
	return out, nil
}

// errNoRelease: none of the tags has a published release.
var errNoRelease = errors.New("no published release")

// releaseByTags asks for each tag's release in turn; upcoming releases
// count as absent.
func (s *Source) releaseByTags(ctx context.Context, h *host, p Project, tags []string) (*apiRelease, error) {
	for _, tag := range tags {
		var rel apiRelease
		err := h.getJSON(ctx, h.projectAPI(p)+"/releases/"+url.PathEscape(tag), &rel)
		if errors.Is(err, sources.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if rel.UpcomingRelease {
			continue
		}
		if rel.TagName == "" {
			rel.TagName = tag
		}
		return &rel, nil
	}
	return nil, errNoRelease
}

// releaseBySemver pages through the releases for a tag equal to version as
// semver ("v1.2" == "1.2.0").
func (s *Source) releaseBySemver(ctx context.Context, h *host, p Project, version string) (*apiRelease, error) {
	want, err := semver.NewVersion(version)
	if err != nil {
		return nil, errNoRelease
	}
	var found *apiRelease
	err = s.eachRelease(ctx, h, p, func(rel *apiRelease) bool {
		if v, err := semver.NewVersion(rel.TagName); err == nil && v.Equal(want) {
			found = rel
			return false
		}
		return true
	})
	if errors.Is(err, sources.ErrNotFound) || (err == nil && found == nil) {
		return nil, errNoRelease
	}
	if err != nil {
		return nil, err
	}
	return found, nil
}

// eachRelease calls fn for every released (not upcoming) release, page by
// page, until fn says stop or a page comes back short.
func (s *Source) eachRelease(ctx context.Context, h *host, p Project, fn func(*apiRelease) bool) error {
	for page := 1; page <= maxReleasePages; page++ {
		var list []apiRelease
		u := fmt.Sprintf("%s/releases?per_page=%d&page=%d", h.projectAPI(p), perPage, page)
		if err := h.getJSON(ctx, u, &list); err != nil {
			return err
		}
		for i := range list {
			if list[i].UpcomingRelease || list[i].TagName == "" {
				continue
			}
			if !fn(&list[i]) {
				return nil
			}
		}
		if len(list) < perPage {
			return nil
		}
	}
	return fmt.Errorf("more than %d pages of releases", maxReleasePages)
}

// getJSON GETs an API URL and decodes its answer into v.
func (h *host) getJSON(ctx context.Context, u string, v any) error {
	body, _, err := h.cfg.Client.FetchAccept(ctx, u, "application/json", nil, maxAPIResponse)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, v); err != nil {
		what := "JSON"
		if sources.LooksLikeHTML(body) {
			what = "JSON (got an HTML page)"
		}
		return sources.KindErrorf(sources.ErrInvalid, "%s: not the expected %s: %v", redact(u), what, err)
	}
	return nil
}

func redact(u string) string {
	if pu, err := url.Parse(u); err == nil {
		return pu.Redacted()
	}
	return u
}

// tokenHint says where this instance's token comes from.
func (h *host) tokenHint() string {
	if h.cfg.TokenEnv != "" {
		return "set " + h.cfg.TokenEnv
	}
	return "add token_env to the [[gitlab]] table of " + h.cfg.WebURL + " in the configuration file, and set that variable"
}

// tokenRefused adds what to do to an API answer of 401: a wrong, expired or
// revoked token, which GitLab refuses even for public projects.
func (h *host) tokenRefused(err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) && se.Code == http.StatusUnauthorized {
		return fmt.Errorf("%w (GitLab refused the token from %s: it is wrong, expired or revoked; renew it, or unset it to read public projects without one)", err, cmp.Or(h.cfg.TokenEnv, "the configuration"))
	}
	return err
}

// Open streams a resolved release's payload.
func (s *Source) Open(ctx context.Context, r sources.Release) (*sources.Payload, error) {
	if r.PayloadURL == "" {
		return nil, fmt.Errorf("open %s: release not resolved (no payload URL)", r.Version)
	}
	h := s.hostFor(r)
	if h == nil {
		return nil, fmt.Errorf("download %s: no GitLab instance of this source serves it", r.PayloadURL)
	}
	u := r.PayloadURL
	body, size, err := h.cfg.Client.Open(ctx, u)
	// A release resolved before the source saw the project was private
	// names the web host's archive, which a token does not reach.
	if api := r.Extra[extraAPIURL]; errors.Is(err, sources.ErrNotFound) && api != "" && api != u && h.cfg.Client.Authorized(api) {
		u = api
		body, size, err = h.cfg.Client.Open(ctx, u)
	}
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", u, h.tokenRefused(err))
	}
	return &sources.Payload{Body: body, Size: size}, nil
}

// extraHost is the Release.Extra key naming the instance (its web URL)
// that resolved a release.
const extraHost = "gitlab"

// hostFor is the instance that resolved r: the one Extra names, else the
// one whose web or API URL the payload is under, else the first.
func (s *Source) hostFor(r sources.Release) *host {
	for _, h := range s.hosts {
		if h.cfg.WebURL == r.Extra[extraHost] {
			return h
		}
	}
	for _, h := range s.hosts {
		if strings.HasPrefix(r.PayloadURL, h.cfg.WebURL) || strings.HasPrefix(r.PayloadURL, h.cfg.APIURL) {
			return h
		}
	}
	if len(s.hosts) > 0 {
		return s.hosts[0]
	}
	return nil
}

// apiRelease is the part of a GitLab release this source reads.
type apiRelease struct {
	TagName         string `json:"tag_name"`
	Name            string `json:"name"`
	Description     string `json:"description"`
	UpcomingRelease bool   `json:"upcoming_release"`
	Assets          struct {
		Links []apiLink `json:"links"`
	} `json:"assets"`
}

type apiLink struct {
	Name           string `json:"name"`
	URL            string `json:"url"`
	DirectAssetURL string `json:"direct_asset_url"`
}

// link is the release's payload link: "<version>.zip", else "<tag>.zip";
// nil when there is none.
func (r *apiRelease) link(version string) *apiLink {
	for _, name := range []string{sources.ZipName(version), sources.ZipName(r.TagName)} {
		for i := range r.Assets.Links {
			if l := &r.Assets.Links[i]; l.Name == name && (l.URL != "" || l.DirectAssetURL != "") {
				return l
			}
		}
	}
	return nil
}
