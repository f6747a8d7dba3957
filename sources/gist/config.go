package gist

import (
	"strings"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/sources/github"
)

// Default base URLs of GitHub's gists.
const (
	DefaultWebURL = "https://gist.github.com/"
	DefaultRawURL = "https://gist.githubusercontent.com/"
)

// Environment variables that move the gist hosts (a mirror, or a test's
// fake). The API is GitHub's, moved by github.EnvAPIURL.
const (
	EnvWebURL = "MODUP_GIST_URL"
	EnvRawURL = "MODUP_GIST_RAW_URL"
)

// Config says where gists are and which client speaks to them.
type Config struct {
	// WebURL is the gist site: update_urls are matched against its host,
	// revision archives are downloaded from it.
	WebURL string
	// Aliases are other gist sites whose update_urls this source also
	// serves: gist.github.com's, when MODUP_GIST_URL moves it.
	Aliases []string
	// RawURL serves the files of a gist (the pointer manifest).
	RawURL string
	// APIURL is GitHub's REST API, which serves gists and their history.
	APIURL string
	// Client is GitHub's client: its token reaches the API host alone.
	Client *httpx.Client
}

// ConfigFromEnv reads MODUP_GIST_URL, MODUP_GIST_RAW_URL and GitHub's
// MODUP_GITHUB_API_URL; unset ones keep GitHub's defaults. Client is left
// for the caller (the GitHub source's, so the token rules are GitHub's).
func ConfigFromEnv(getenv func(string) string) Config {
	pick := func(key, def string) string {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		WebURL: pick(EnvWebURL, DefaultWebURL),
		RawURL: pick(EnvRawURL, DefaultRawURL),
		APIURL: github.ConfigFromEnv(getenv).APIURL,
	}.withDefaults()
	if c.WebURL != DefaultWebURL {
		c.Aliases = []string{DefaultWebURL} // gist.github.com's gists, read at the moved hosts
	}
	return c
}

func (c Config) withDefaults() Config {
	if c.WebURL == "" {
		c.WebURL = DefaultWebURL
	}
	if c.RawURL == "" {
		c.RawURL = DefaultRawURL
	}
	if c.APIURL == "" {
		c.APIURL = github.DefaultAPIURL
	}
	slash := func(s string) string { return strings.TrimRight(strings.TrimSpace(s), "/") + "/" }
	c.WebURL, c.RawURL, c.APIURL = slash(c.WebURL), slash(c.RawURL), slash(c.APIURL)
	return c
}
