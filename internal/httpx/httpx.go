// Package httpx is the one HTTP client of modup.
//
// Every request goes through a single go-retryablehttp client, wrapped so
// that each redirect hop is its own retried request:
//
//	http.Client (redirect policy)
//	  └─ retryTransport: one hop, retried by retryablehttp (CheckRetry, Backoff)
//	       └─ headerTransport: User-Agent, token only for TokenHost
//	            └─ *http.Transport (proxy from environment, timeouts, keep-alives)
//
// Fetch, Stat and Open map answers to the sentinels of package sources
// (ErrNotFound, *RateLimitError, ErrInsecure); other failures are a
// *StatusError. Errors name the URL they concern.
package httpx

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// Defaults for the zero values of Options.
const (
	DefaultUserAgent      = "modup"
	DefaultRetryMax       = 3
	DefaultRetryWaitMin   = 250 * time.Millisecond
	DefaultRetryWaitMax   = 5 * time.Second
	DefaultMaxRetryAfter  = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultHeaderTimeout  = 30 * time.Second
	DefaultStallTimeout   = 30 * time.Second
	// DefaultMaxFetch is the limit Fetch uses when given max <= 0.
	DefaultMaxFetch = 1 << 20
	// MaxRedirects is how many redirects one request may follow.
	MaxRedirects = 10
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// UserAgent is sent on every request, e.g. "modup/0.1.0".
	UserAgent string
	// AllowHTTP allows plain http:// beyond loopback.
	AllowHTTP bool
	// Token is a GitHub token, sent as "Authorization: Bearer <token>" only
	// to TokenHost (over https, or plain http on loopback).
	Token string
	// TokenHost is host[:port] of the GitHub API, e.g. "api.github.com"
	// (port 443 when omitted).
	TokenHost string
	// TokenPath, when set, narrows the token to paths under it on TokenHost
	// (GitLab's API, "/api/v4/", shares its host with the web site, whose
	// raw files and archives get no token).
	TokenPath string
	// TokenHeader, when set, carries the token as "TokenHeader: <token>"
	// (GitLab's "PRIVATE-TOKEN") instead of "Authorization: Bearer <token>".
	TokenHeader string
	// RetryMax is how many times a failed request is retried: 0 means
	// DefaultRetryMax, a negative value means no retry.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the exponential backoff.
	RetryWaitMin time.Duration
	RetryWaitMax time.Duration
	// MaxRetryAfter caps the Retry-After the client sleeps. A longer wait is
	// not slept: the request fails with a *sources.RateLimitError whose
	// Reset is now + Retry-After, so a scheduler can come back later.
	MaxRetryAfter time.Duration
	// ConnectTimeout bounds dialing and the TLS handshake.
	ConnectTimeout time.Duration
	// HeaderTimeout bounds the wait for response headers.
	HeaderTimeout time.Duration
	// StallTimeout aborts a body that delivers no byte for this long while
	// it is being read. It is not a total timeout. Negative disables it.
	StallTimeout time.Duration
	// FetchTimeout bounds each Fetch and Stat, and each request through
	// HTTPClient (the GitHub API), from the first attempt to the end of
	// the body: retries and redirects share it, so a server that never
	// answers costs one FetchTimeout, not one HeaderTimeout per attempt.
	// For Open it bounds the wait for the answer's headers (all attempts);
	// the body is then held to MinRate. 0 means DefaultFetchTimeout;
	// negative disables it.
	FetchTimeout time.Duration
	// MinRate is the lowest average rate an Open body may keep over each
	// MinRateWindow (DefaultMinRate when 0; negative disables it). A
	// server dripping one byte every 20 s never trips StallTimeout.
	MinRate Rate
	// MinRateWindow is the span MinRate is averaged over
	// (DefaultMinRateWindow when 0).
	MinRateWindow time.Duration
	// Logger receives debug records (retries, cache failures); may be nil.
	Logger *slog.Logger
	// Transport replaces the tuned default transport; for tests only (the
	// timeouts and proxy settings above then do not apply).
	Transport http.RoundTripper
}

// Client is modup's HTTP client. It is safe for concurrent use.
type Client struct {
	userAgent     string
	allowHTTP     bool
	token         string
	tokenHost     string // canonical host:port, "" when no token
	tokenPath     string // path prefix ending in '/', "" for the whole host
	tokenHeader   string // "" for Authorization: Bearer
	maxRetryAfter time.Duration
	stall         time.Duration
	fetchTimeout  time.Duration // 0: none
	minRate       Rate          // 0: none
	rateWindow    time.Duration
	log           *slog.Logger

	base   http.RoundTripper // the network (tuned *http.Transport or Options.Transport)
	retry  *retryablehttp.Client
	client *http.Client // redirect policy over retryTransport
}

// New builds a Client from o, filling in defaults.
func New(o Options) *Client {
	c := &Client{
		userAgent:     o.UserAgent,
		allowHTTP:     o.AllowHTTP,
		token:         o.Token,
		maxRetryAfter: o.MaxRetryAfter,
		stall:         o.StallTimeout,
		log:           o.Logger,
		base:          o.Transport,
	}
	if c.userAgent == "" {
		c.userAgent = DefaultUserAgent
	}
	if c.token != "" && o.TokenHost != "" {
		c.tokenHost = canonicalTokenHost(o.TokenHost)
		if p := strings.TrimSpace(o.TokenPath); p != "" && p != "/" {
			c.tokenPath = "/" + strings.Trim(p, "/") + "/"
		}
		c.tokenHeader = http.CanonicalHeaderKey(strings.TrimSpace(o.TokenHeader))
	}
	if c.maxRetryAfter <= 0 {
		c.maxRetryAfter = DefaultMaxRetryAfter
	}
	if c.stall == 0 {
		c.stall = DefaultStallTimeout
	}
	switch {
	case o.FetchTimeout == 0:
		c.fetchTimeout = DefaultFetchTimeout
	case o.FetchTimeout > 0:
		c.fetchTimeout = o.FetchTimeout
	}
	switch {
	case o.MinRate == 0:
		c.minRate = DefaultMinRate
	case o.MinRate > 0:
		c.minRate = o.MinRate
	}
	c.rateWindow = o.MinRateWindow
	if c.rateWindow <= 0 {
		c.rateWindow = DefaultMinRateWindow
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	retryMax := o.RetryMax
	switch {
	case retryMax == 0:
		retryMax = DefaultRetryMax
	case retryMax < 0:
		retryMax = 0
	}
	waitMin, waitMax := o.RetryWaitMin, o.RetryWaitMax
	if waitMin <= 0 {
		waitMin = DefaultRetryWaitMin
	}
	if waitMax <= 0 {
		waitMax = DefaultRetryWaitMax
	}
	if waitMax < waitMin {
		waitMax = waitMin
	}
	if c.base == nil {
		c.base = newTransport(o.ConnectTimeout, o.HeaderTimeout)
	}

	// The client retryablehttp drives sends exactly one hop: redirects are
	// followed by c.client, whose transport is retryTransport, so that every
	// hop passes the redirect policy and gets its own retries and headers.
	single := &http.Client{
		Transport: &headerTransport{base: c.base, c: c},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	c.retry = &retryablehttp.Client{
		HTTPClient:     single,
		RetryWaitMin:   waitMin,
		RetryWaitMax:   waitMax,
		RetryMax:       retryMax,
		CheckRetry:     c.checkRetry,
		Backoff:        c.backoff,
		ErrorHandler:   giveUp,
		RequestLogHook: countAttempt,
	}
	// retryablehttp logs to stderr unless told otherwise; its records are
	// debug material for modup, whatever level it gives them.
	if o.Logger != nil {
		c.retry.Logger = debugLogger{o.Logger}
	}
	// Fetch, Stat and Open apply the fetch timeout themselves, across
	// redirects.
	c.client = &http.Client{Transport: &retryTransport{c: c}, CheckRedirect: c.checkRedirect}
	return c
}

func newTransport(connect, header time.Duration) *http.Transport {
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if header <= 0 {
		header = DefaultHeaderTimeout
	}
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   connect,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: header,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
	}
}

// HTTPClient returns an *http.Client that goes through the same retries,
// token scoping, redirect policy and User-Agent (for go-github), each
// request within the fetch timeout (retries included; a redirect is a
// request of its own). Do not add another token layer (such as go-github's
// WithAuthToken) on top: the client adds the token itself, and strips an
// Authorization header bound for any host other than TokenHost.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{
		Transport:     &deadlineTransport{next: &retryTransport{c: c}, c: c},
		CheckRedirect: c.checkRedirect,
	}
}

// CheckURL refuses what modup must not fetch: schemes other than https and
// http, and http:// to a host that is not loopback unless AllowHTTP is set
// (an error wrapping sources.ErrInsecure).
func (c *Client) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid url %q: %w", redact.URL(raw), redact.Error(err))
	}
	return c.checkURL(u)
}

func (c *Client) checkURL(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !c.allowHTTP && !isLoopback(u.Hostname()) {
			return fmt.Errorf("%s: %w: plain http to a remote host (use https or pass --allow-http)", redact.URL(u.String()), sources.ErrInsecure)
		}
	case "":
		return fmt.Errorf("%s: not an absolute url (want https://...)", redact.URL(u.String()))
	default:
		return fmt.Errorf("%s: unsupported url scheme %q (want https)", redact.URL(u.String()), u.Scheme)
	}
	if u.Hostname() == "" {
		return fmt.Errorf("%s: url has no host", redact.URL(u.String()))
	}
	return nil
}

// checkRedirect is the redirect policy: at most MaxRedirects hops, no loop,
// no https→http downgrade, and every hop passes CheckURL.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	prev := via[len(via)-1].URL
	next := req.URL.String()
	for _, v := range via {
		if v.URL.String() == next {
			return fmt.Errorf("redirect loop: %s leads back to %s", redact.URL(prev.String()), redact.URL(req.URL.String()))
		}
	}
	if strings.EqualFold(prev.Scheme, "https") && strings.EqualFold(req.URL.Scheme, "http") && !loopbackTest(via[0].URL, req.URL) {
		return fmt.Errorf("%w: redirect from https to plain http (%s)", sources.ErrInsecure, redact.URL(req.URL.String()))
	}
	if err := c.checkURL(req.URL); err != nil {
		return fmt.Errorf("redirected: %w", err)
	}
	return nil
}

// loopbackTest reports the one downgrade allowed: a chain that started on
// plain http on loopback and comes back to plain http on loopback (tests).
func loopbackTest(origin, target *url.URL) bool {
	return strings.EqualFold(origin.Scheme, "http") && isLoopback(origin.Hostname()) && isLoopback(target.Hostname())
}

// isLoopback reports whether host (no port) is a loopback address or
// "localhost". Names are not resolved.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostKey is u's host and port, lower case, with the scheme's default port
// filled in, so that "api.github.com" and "api.github.com:443" compare equal.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
		if strings.EqualFold(u.Scheme, "http") {
			port = "80"
		}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return net.JoinHostPort(host, port)
}

// Authorized reports whether a request to rawURL would carry the token:
// there is one, and rawURL is on TokenHost over https (or loopback).
func (c *Client) Authorized(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && c.sendsToken(u)
}

func (c *Client) sendsToken(u *url.URL) bool {
	secure := strings.EqualFold(u.Scheme, "https") || isLoopback(u.Hostname())
	return c.tokenHost != "" && secure && hostKey(u) == c.tokenHost && c.underTokenPath(u)
}

// underTokenPath reports whether u's path is below TokenPath; a path with
// dot segments, which a server may resolve to elsewhere, never is.
func (c *Client) underTokenPath(u *url.URL) bool {
	if c.tokenPath == "" {
		return true
	}
	p := u.EscapedPath()
	return strings.HasPrefix(p, c.tokenPath) && !strings.Contains(p+"/", "/../") && !strings.Contains(p+"/", "/./")
}

func canonicalTokenHost(h string) string {
	h = strings.TrimSpace(h)
	if strings.Contains(h, "://") {
		if u, err := url.Parse(h); err == nil {
			return hostKey(u)
		}
	}
	return hostKey(&url.URL{Scheme: "https", Host: h})
}

// headerTransport sets the User-Agent and scopes the token, per hop and per
// attempt.
type headerTransport struct {
	base http.RoundTripper
	c    *Client
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("User-Agent", t.c.userAgent)
	u := r.URL
	if t.c.tokenHeader != "" {
		r.Header.Del(t.c.tokenHeader)
	}
	switch {
	case t.c.sendsToken(u) && t.c.tokenHeader != "":
		r.Header.Set(t.c.tokenHeader, t.c.token)
		if u.User == nil {
			r.Header.Del("Authorization")
		}
	case t.c.sendsToken(u):
		r.Header.Set("Authorization", "Bearer "+t.c.token)
	case u.User == nil:
		// Credentials travel only to TokenHost, or to the host a URL's own
		// user:password names (net/http sets that header from the URL).
		r.Header.Del("Authorization")
	}
	return t.base.RoundTrip(r)
}

// retryTransport sends one hop through retryablehttp.
type retryTransport struct {
	c *Client
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Callers that follow redirects by hand (go-github does for 301) still
	// get the scheme check on every hop.
	if err := t.c.checkURL(req.URL); err != nil {
		return nil, err
	}
	rr, err := retryablehttp.FromRequest(req.Clone(req.Context()))
	if err != nil {
		return nil, err
	}
	resp, err := t.c.retry.Do(rr)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // http.Client wraps it again
		}
		return nil, err
	}
	return resp, nil
}

// giveUp is retryablehttp's ErrorHandler: when retries are spent on a status
// the last response is handed over (it is mapped to an error by the caller,
// or read by go-github); an error is passed on with the attempt count.
func giveUp(resp *http.Response, err error, attempts int) (*http.Response, error) {
	if err == nil {
		return resp, nil
	}
	if resp != nil {
		drain(resp.Body)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if attempts > 1 {
		return nil, fmt.Errorf("giving up after %d attempts: %w", attempts, err)
	}
	return nil, err
}

func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 4096))
	body.Close()
}

// attemptsKey marks the per-call counter countAttempt fills, so that a
// StatusError can say how often the request was sent.
type attemptsKey struct{}

func countAttempt(_ retryablehttp.Logger, req *http.Request, i int) {
	if n, ok := req.Context().Value(attemptsKey{}).(*atomic.Int32); ok {
		n.Store(int32(i + 1))
	}
}

// debugLogger routes retryablehttp's records to slog at debug level, with
// the credentials of URLs hidden (retryablehttp hides passwords only).
type debugLogger struct{ l *slog.Logger }

func (d debugLogger) Error(msg string, kv ...any) { d.log(msg, kv) }
func (d debugLogger) Warn(msg string, kv ...any)  { d.log(msg, kv) }
func (d debugLogger) Info(msg string, kv ...any)  { d.log(msg, kv) }
func (d debugLogger) Debug(msg string, kv ...any) { d.log(msg, kv) }

func (d debugLogger) log(msg string, kv []any) {
	for i, v := range kv {
		switch v := v.(type) {
		case string:
			kv[i] = redact.Text(v)
		case error:
			kv[i] = redact.Text(v.Error())
		case fmt.Stringer:
			kv[i] = redact.Text(v.String())
		}
	}
	d.l.Debug(msg, kv...)
}

var _ retryablehttp.LeveledLogger = debugLogger{}
