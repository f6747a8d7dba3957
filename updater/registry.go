package updater

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/fs"
	"github.com/modup/modup/sources/gist"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/sources/gitlab"
	"github.com/modup/modup/sources/web"
)

// Config is what the registry's sources need from the environment.
type Config struct {
	// Getenv reads the environment (os.Getenv; tests pass their own).
	Getenv func(string) string
	// AllowHTTP allows plain http:// beyond loopback.
	AllowHTTP bool
	// UserAgent is sent on every request.
	UserAgent string
	Logger    *slog.Logger
	// FetchTimeout bounds each manifest and API request, retries included
	// (--fetch-timeout; 0: httpx.DefaultFetchTimeout, negative: none).
	FetchTimeout time.Duration
	// MinRate is the lowest average rate of a download over a minute
	// (--min-rate; 0: httpx.DefaultMinRate, negative: none).
	MinRate httpx.Rate
	// HTTP overrides the client options (tests: fast retries); its
	// non-zero FetchTimeout and MinRate win over the fields above.
	HTTP *httpx.Options
	// GitHubHosts are GitHub Enterprise hosts checked besides github.com,
	// each with its own endpoints and token.
	GitHubHosts []GitHubHost
	// GitLabHosts are the self-hosted GitLab instances (the config file's
	// [[gitlab]] tables), besides gitlab.com, which comes from the
	// environment.
	GitLabHosts []GitLabHost
}

// GitHubHost is one GitHub Enterprise host.
type GitHubHost struct {
	Web, API, Raw string
	// TokenEnv names the environment variable holding its token.
	TokenEnv string
}

// GitLabHost is one self-hosted GitLab instance: its site, its API v4 base
// (empty: WEB/api/v4/) and the environment variable holding its token.
type GitLabHost struct {
	Web, API, TokenEnv string
}

// Sources is the wired set of sources: the registry plus direct access to
// the GitHub source for its extras (rate-limit state, release lists).
type Sources struct {
	Registry *sources.Registry
	GitHub   *github.Source
	GitLab   *gitlab.Source
	Client   *httpx.Client
	// Router, when set, may answer for an installed package before its
	// update_url does (see SourceOf).
	Router Router

	githubs []*github.Source // github.com's and every Enterprise host's
}

// Router picks the source of an installed package by more than its
// update_url: a package installed from a repository is checked and
// updated through the repository's index (package repo), one request for
// all of them, instead of at its author's host.
type Router interface {
	// Route returns the source that answers for p, or ok false to leave p
	// to the source its update_url names (the repository is disabled,
	// unreachable, or no longer lists p; the router says so itself).
	Route(ctx context.Context, p pkgdir.Package) (src sources.Source, ok bool)
}

// SourceOf is the source that answers for the installed package p: the
// Router's when it takes p, else the one p's update_url names.
func (s *Sources) SourceOf(ctx context.Context, p pkgdir.Package) (sources.Source, error) {
	if s.Router != nil {
		if src, ok := s.Router.Route(ctx, p); ok {
			return src, nil
		}
	}
	return s.Registry.For(p.Manifest.UpdateURL)
}

// RateLimits is the API quota of every GitHub host, github.com first,
// as each host's last answer stated it.
func (s *Sources) RateLimits() []github.RateLimit {
	out := make([]github.RateLimit, 0, len(s.githubs))
	for _, g := range s.githubs {
		out = append(out, g.RateLimit())
	}
	return out
}

// NewSources builds the registry in one place: GitHub, GitLab and gists
// first (their URLs are also http URLs), then any web folder, then the
// filesystem.
func NewSources(cfg Config) *Sources {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	gh := github.ConfigFromEnv(getenv)
	opts := httpx.Options{}
	if cfg.HTTP != nil {
		opts = *cfg.HTTP
	}
	if opts.FetchTimeout == 0 {
		opts.FetchTimeout = cfg.FetchTimeout
	}
	if opts.MinRate == 0 {
		opts.MinRate = cfg.MinRate
	}
	opts.UserAgent = cfg.UserAgent
	opts.AllowHTTP = cfg.AllowHTTP
	opts.Logger = cfg.Logger
	plain := opts // no token: web folders and the like
	glSrc := gitlab.New(gitlabConfigs(cfg, opts, getenv)...)
	opts.Token = github.TokenFromEnv(getenv)
	opts.TokenHost = github.TokenHost(gh)
	client := httpx.New(opts)
	gh.Client = client
	ghSrc := github.New(gh)

	reg := &sources.Registry{}
	githubs := []*github.Source{ghSrc}
	// Each Enterprise host gets a client of its own, holding its own token
	// scoped to its own API host: no token reaches another host.
	for _, h := range cfg.GitHubHosts {
		hc := github.Config{APIURL: h.API, RawURL: h.Raw, WebURL: h.Web}
		o := plain
		if h.TokenEnv != "" {
			o.Token = strings.TrimSpace(getenv(h.TokenEnv))
			o.TokenHost = github.TokenHost(hc)
		}
		hc.Client = httpx.New(o)
		src := github.New(hc)
		githubs = append(githubs, src)
		reg.Register(sources.Entry{Kind: github.Kind, Name: "github " + h.Web, Match: src.Match, Source: src})
	}
	reg.Register(sources.Entry{Kind: github.Kind, Match: ghSrc.Match, Source: ghSrc})
	reg.Register(sources.Entry{Kind: gitlab.Kind, Match: glSrc.Match, Source: glSrc})
	gistCfg := gist.ConfigFromEnv(getenv)
	gistCfg.Client = client // GitHub's API, GitHub's token rules
	gistSrc := gist.New(gistCfg)
	reg.Register(sources.Entry{Kind: gist.Kind, Match: gistSrc.Match, Source: gistSrc})
	reg.Register(sources.Entry{Kind: web.Kind, Match: web.Match, Source: web.New(client)})
	reg.Register(sources.Entry{Kind: fs.Kind, Match: fs.Match, Source: fs.New()})
	return &Sources{Registry: reg, GitHub: ghSrc, GitLab: glSrc, Client: client, githubs: githubs}
}

// gitlabConfigs are gitlab.com (moved by MODUP_GITLAB_URL and
// MODUP_GITLAB_API_URL, token GITLAB_TOKEN) and the self-hosted instances,
// each with a client of its own whose token reaches its API alone.
func gitlabConfigs(cfg Config, opts httpx.Options, getenv func(string) string) []gitlab.Config {
	out := []gitlab.Config{gitlab.ConfigFromEnv(getenv)}
	for _, h := range cfg.GitLabHosts {
		out = append(out, gitlab.Config{WebURL: h.Web, APIURL: h.API, TokenEnv: h.TokenEnv})
	}
	for i := range out {
		token := "" // a host without token_env gets none (never gitlab.com's)
		if env := out[i].TokenEnv; env != "" {
			token = getenv(env)
		}
		out[i].Client = httpx.New(gitlab.ClientOptions(out[i], opts, token))
	}
	return out
}
