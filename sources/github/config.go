package github

import (
	"net/url"
	"strings"

	"github.com/modup/modup/internal/httpx"
)

// Default base URLs of github.com.
const (
	DefaultAPIURL = "https://api.github.com/"
	DefaultRawURL = "https://raw.githubusercontent.com/"
	DefaultWebURL = "https://github.com/"
)

// Environment variables that move the source to another GitHub (GitHub
// Enterprise, or a test's fake).
const (
	EnvAPIURL = "MODUP_GITHUB_API_URL"
	EnvRawURL = "MODUP_GITHUB_RAW_URL"
	EnvWebURL = "MODUP_GITHUB_URL"
)

// Config says where GitHub is and which client speaks to it.
type Config struct {
	// APIURL is the REST API base: "https://api.github.com/", or
	// "https://HOST/api/v3/" for GitHub Enterprise.
	APIURL string
	// RawURL serves files of a branch: "https://raw.githubusercontent.com/"
	// (GitHub Enterprise: "https://HOST/raw/").
	RawURL string
	// WebURL is the site: update_urls are matched against its host, and tag
	// archives and release assets are downloaded from it.
	WebURL string
	// Aliases are other web bases whose update_urls this source also
	// accepts (reading them from its own endpoints): github.com's, when
	// the environment moved github.com's endpoints to a mirror or a fake.
	Aliases []string
	// Client is the one HTTP client. Build it with TokenHost(cfg) as
	// httpx.Options.TokenHost so that a token reaches the API host only.
	Client *httpx.Client
}

// ConfigFromEnv reads MODUP_GITHUB_API_URL, MODUP_GITHUB_RAW_URL and
// MODUP_GITHUB_URL; unset ones keep github.com's defaults. They move
// github.com's endpoints: update_urls on github.com still match. Client is
// left for the caller.
func ConfigFromEnv(getenv func(string) string) Config {
	pick := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return withSlash(v)
		}
		return def
	}
	c := Config{
		APIURL: pick(EnvAPIURL, DefaultAPIURL),
		RawURL: pick(EnvRawURL, DefaultRawURL),
		WebURL: pick(EnvWebURL, DefaultWebURL),
	}
	if c.WebURL != DefaultWebURL {
		// https://github.com/OWNER/REPO stays a GitHub package, read from
		// the moved endpoints.
		c.Aliases = []string{DefaultWebURL}
	}
	return c
}

// TokenFromEnv returns GITHUB_TOKEN, else GH_TOKEN (as the gh CLI does),
// else "".
func TokenFromEnv(getenv func(string) string) string {
	if t := strings.TrimSpace(getenv("GITHUB_TOKEN")); t != "" {
		return t
	}
	return strings.TrimSpace(getenv("GH_TOKEN"))
}

// TokenHost is the host[:port] that may receive the token: the API's. Pass
// it as httpx.Options.TokenHost:
//
//	cfg := github.ConfigFromEnv(os.Getenv)
//	cfg.Client = httpx.New(httpx.Options{
//		Token:     github.TokenFromEnv(os.Getenv),
//		TokenHost: github.TokenHost(cfg),
//	})
//
// Raw files, tag archives and assets of public repositories need no token,
// and a token must not follow a redirect to another host.
func TokenHost(cfg Config) string {
	api := cfg.APIURL
	if api == "" {
		api = DefaultAPIURL
	}
	u, err := url.Parse(strings.TrimSpace(api))
	if err != nil || u.Host == "" {
		return ""
	}
	host := strings.ToLower(u.Host)
	if u.Port() == "" && strings.EqualFold(u.Scheme, "http") {
		host += ":80" // httpx takes a bare host as https, port 443
	}
	return host
}

// withDefaults fills empty fields and normalises the trailing slash.
func (c Config) withDefaults() Config {
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	if c.RawURL == "" {
		c.RawURL = DefaultRawURL
	}
	if c.WebURL == "" {
		c.WebURL = DefaultWebURL
	}
	c.APIURL, c.RawURL, c.WebURL = withSlash(c.APIURL), withSlash(c.RawURL), withSlash(c.WebURL)
	return c
}

func withSlash(s string) string {
	return strings.TrimRight(s, "/") + "/"
}
