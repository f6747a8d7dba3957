package gitlab

import (
	"net/url"
	"strings"

	"github.com/modup/modup/internal/httpx"
)

// Default base URLs of gitlab.com.
const (
	DefaultWebURL = "https://gitlab.com/"
	DefaultAPIURL = "https://gitlab.com/api/v4/"
)

// Environment variables that move gitlab.com's endpoints (a mirror, or a
// test's fake) and carry its token.
const (
	EnvWebURL = "MODUP_GITLAB_URL"
	EnvAPIURL = "MODUP_GITLAB_API_URL"
	EnvToken  = "GITLAB_TOKEN"
)

// TokenHeader is the header GitLab reads a personal, project or group
// access token from.
const TokenHeader = "PRIVATE-TOKEN"

// Config says where one GitLab instance is and which client speaks to it.
// gitlab.com comes from ConfigFromEnv; a self-hosted instance from the
// config file's [[gitlab]] table (web, api, token_env).
type Config struct {
	// WebURL is the site: update_urls are matched against its host (and
	// path, for an instance below a folder), raw files and tag archives
	// are read from it. "https://gitlab.com/".
	WebURL string
	// APIURL is the REST API v4 base: "https://gitlab.com/api/v4/". Empty:
	// WebURL + "api/v4/".
	APIURL string
	// Aliases are other web bases whose update_urls this instance also
	// serves: gitlab.com's, when MODUP_GITLAB_URL moves its endpoints.
	Aliases []string
	// TokenEnv names the environment variable the instance's token comes
	// from, for messages ("GITLAB_TOKEN"); empty for an instance without
	// one.
	TokenEnv string
	// Client is the client of this instance. Build it with ClientOptions so
	// that its token reaches the API alone.
	Client *httpx.Client
}

// ConfigFromEnv is gitlab.com, moved by MODUP_GITLAB_URL and
// MODUP_GITLAB_API_URL when they are set (the API defaults to the web URL's
// /api/v4/); https://gitlab.com/ update_urls then stay an alias. Client is
// left for the caller.
func ConfigFromEnv(getenv func(string) string) Config {
	web := strings.TrimSpace(getenv(EnvWebURL))
	api := strings.TrimSpace(getenv(EnvAPIURL))
	cfg := Config{WebURL: web, APIURL: api, TokenEnv: EnvToken}
	if web == "" {
		cfg.WebURL = DefaultWebURL
	} else {
		// gitlab.com's update_urls keep meaning gitlab.com's packages,
		// read at the moved endpoints.
		cfg.Aliases = []string{DefaultWebURL}
	}
	return cfg.withDefaults()
}

// ClientOptions returns base with token scoped to cfg's API: it travels as
// PRIVATE-TOKEN, to the API's host and only below its path, since
// gitlab.com serves its API and its web site from one host:
//
//	cfg := gitlab.ConfigFromEnv(os.Getenv)
//	cfg.Client = httpx.New(gitlab.ClientOptions(cfg, opts, os.Getenv(gitlab.EnvToken)))
func ClientOptions(cfg Config, base httpx.Options, token string) httpx.Options {
	cfg = cfg.withDefaults()
	base.Token = strings.TrimSpace(token)
	base.TokenHost, base.TokenPath = "", ""
	base.TokenHeader = TokenHeader
	if u, err := url.Parse(cfg.APIURL); err == nil && u.Host != "" {
		host := strings.ToLower(u.Host)
		if u.Port() == "" && strings.EqualFold(u.Scheme, "http") {
			host += ":80" // httpx takes a bare host as https, port 443
		}
		base.TokenHost = host
		base.TokenPath = u.EscapedPath()
	}
	return base
}

// withDefaults fills empty fields and normalises the trailing slash.
func (c Config) withDefaults() Config {
	if strings.TrimSpace(c.WebURL) == "" {
		c.WebURL = DefaultWebURL
	}
	c.WebURL = withSlash(strings.TrimSpace(c.WebURL))
	if strings.TrimSpace(c.APIURL) == "" {
		c.APIURL = c.WebURL + "api/v4/"
	}
	c.APIURL = withSlash(strings.TrimSpace(c.APIURL))
	return c
}

func withSlash(s string) string {
	return strings.TrimRight(s, "/") + "/"
}
