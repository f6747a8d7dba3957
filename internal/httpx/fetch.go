package httpx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/modup/modup/internal/redact"
	"github.com/modup/modup/sources"
)

// ErrStalled: a body delivered no byte for StallTimeout.
var ErrStalled = errors.New("download stalled")

// ErrTooLarge: a response is larger than the caller's limit.
var ErrTooLarge = errors.New("response too large")

// StatusError is a non-2xx answer that is not one of the sentinels of
// package sources.
type StatusError struct {
	URL    string
	Code   int
	Status string // e.g. "500 Internal Server Error"
	// Attempts is how many times the request was sent (retries included).
	Attempts int
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %s", e.URL, e.Status)
	if e.Attempts > 1 {
		s += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return s
}

// Temporary reports whether asking again later may succeed (5xx, 408).
func (e *StatusError) Temporary() bool {
	return e.Code >= 500 || e.Code == http.StatusRequestTimeout
}

// Fetch GETs a small document (a manifest) of at most max bytes (max <= 0
// means DefaultMaxFetch). With a cache it asks conditionally: a 304 returns
// the cached body with notModified set; a 200 carrying an ETag or
// Last-Modified is stored.
func (c *Client) Fetch(ctx context.Context, rawURL string, cache sources.Cache, max int64) (body []byte, notModified bool, err error) {
	return c.FetchAccept(ctx, rawURL, "", cache, max)
}

// FetchAccept is Fetch with an Accept header (none when accept is ""), for
// APIs that choose the representation by it.
func (c *Client) FetchAccept(ctx context.Context, rawURL, accept string, cache sources.Cache, max int64) (body []byte, notModified bool, err error) {
	if max <= 0 {
		max = DefaultMaxFetch
	}
	u, err := c.parse(rawURL)
	if err != nil {
		return nil, false, err
	}
	name := redact.URL(u.String())
	hdr := http.Header{}
	if accept != "" {
		hdr.Set("Accept", accept)
	}
	var cached sources.CacheEntry
	conditional := false
	if cache != nil {
		if e, ok := cache.Get(cacheKey(rawURL, u)); ok && (e.ETag != "" || e.LastModified != "") {
			cached, conditional = e, true
			if e.ETag != "" {
				hdr.Set("If-None-Match", e.ETag)
			}
			if e.LastModified != "" {
				hdr.Set("If-Modified-Since", e.LastModified)
			}
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer c.armDeadline(cancel)()
	resp, attempts, err := c.send(ctx, http.MethodGet, u, hdr)
	if err != nil {
		return nil, false, limitError(ctx, name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified && conditional {
		return cached.Body, true, nil
	}
	if err := c.responseError(name, resp, attempts); err != nil {
		return nil, false, err
	}
	if resp.ContentLength > max {
		return nil, false, fmt.Errorf("%s: %w: %d bytes announced, the limit is %d", name, ErrTooLarge, resp.ContentLength, max)
	}
	r := c.watch(resp.Body, cancel, name, false)
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, false, limitError(ctx, name, err)
	}
	if int64(len(b)) > max {
		return nil, false, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	if cache != nil {
		e := sources.CacheEntry{
			ETag:         resp.Header.Get("ETag"),
			LastModified: resp.Header.Get("Last-Modified"),
			Body:         b,
			Stored:       time.Now().UTC(),
		}
		if e.ETag != "" || e.LastModified != "" {
			if err := cache.Put(cacheKey(rawURL, u), e); err != nil {
				c.log.Warn("http cache not updated", "url", name, "error", err)
			}
		}
	}
	return b, false, nil
}

// Stat answers whether rawURL exists and its size (-1 when unknown) with a
// HEAD. When HEAD is refused (405, 501, or a 403 that is not a rate limit,
// as with presigned S3 URLs) it asks GET with "Range: bytes=0-0" instead.
func (c *Client) Stat(ctx context.Context, rawURL string) (size int64, err error) {
	u, err := c.parse(rawURL)
	if err != nil {
		return -1, err
	}
	name := redact.URL(u.String())
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	defer c.armDeadline(cancel)()
	resp, attempts, err := c.send(ctx, http.MethodHead, u, nil)
	if err != nil {
		return -1, limitError(ctx, name, err)
	}
	resp.Body.Close()
	if headRefused(resp) {
		c.log.Debug("HEAD refused, asking for one byte", "url", name, "status", resp.StatusCode)
		size, err := c.statRange(ctx, u)
		return size, limitError(ctx, name, err)
	}
	if err := c.responseError(name, resp, attempts); err != nil {
		return -1, err
	}
	return resp.ContentLength, nil
}

func headRefused(resp *http.Response) bool {
	switch resp.StatusCode {
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	case http.StatusForbidden:
		_, hasRA := retryAfter(resp.Header, time.Now())
		return !rateLimitSpent(resp) && !hasRA
	}
	return false
}

func (c *Client) statRange(ctx context.Context, u *url.URL) (int64, error) {
	name := redact.URL(u.String())
	hdr := http.Header{"Range": {"bytes=0-0"}}
	resp, attempts, err := c.send(ctx, http.MethodGet, u, hdr)
	if err != nil {
		return -1, err
	}
	// The body is not wanted: closing it unread drops the connection,
	// which is cheaper than a download when the server ignored Range.
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		return contentRangeTotal(resp.Header.Get("Content-Range")), nil
	case http.StatusRequestedRangeNotSatisfiable:
		// An empty file: "bytes */0".
		if n := contentRangeTotal(resp.Header.Get("Content-Range")); n >= 0 {
			return n, nil
		}
	}
	if err := c.responseError(name, resp, attempts); err != nil {
		return -1, err
	}
	return resp.ContentLength, nil
}

// contentRangeTotal reads the complete length of "bytes 0-0/1234" or
// "bytes */1234"; -1 when unknown.
func contentRangeTotal(v string) int64 {
	unit, rest, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return -1
	}
	_, total, ok := strings.Cut(rest, "/")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(total), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// Open GETs a payload for streaming. size is the Content-Length, or -1. The
// body is watched: if no byte arrives for StallTimeout while it is read,
// the request is cancelled and Read returns an error wrapping ErrStalled.
// Read errors name the URL. The caller closes body.
func (c *Client) Open(ctx context.Context, rawURL string) (body io.ReadCloser, size int64, err error) {
	return c.OpenAccept(ctx, rawURL, "")
}

// OpenAccept is Open with an Accept header (none when accept is ""): the
// GitHub API answers an asset's URL with its metadata unless asked for
// "application/octet-stream".
func (c *Client) OpenAccept(ctx context.Context, rawURL, accept string) (body io.ReadCloser, size int64, err error) {
	u, err := c.parse(rawURL)
	if err != nil {
		return nil, -1, err
	}
	name := redact.URL(u.String())
	var hdr http.Header
	if accept != "" {
		hdr = http.Header{"Accept": {accept}}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	stop := c.armDeadline(cancel)
	resp, attempts, err := c.send(ctx, http.MethodGet, u, hdr)
	if !stop() && err == nil {
		// The deadline fired as the headers came: the body is cancelled.
		resp.Body.Close()
		err = context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		return nil, -1, limitError(ctx, name, err)
	}
	if err := c.responseError(name, resp, attempts); err != nil {
		resp.Body.Close()
		cancel(nil)
		return nil, -1, err
	}
	return c.watch(resp.Body, cancel, name, true), resp.ContentLength, nil
}

// limitError is err, or when a limit of this client cut the request short
// (see limitCause), that limit's error naming the URL.
func limitError(ctx context.Context, name string, err error) error {
	if err == nil {
		return nil
	}
	if lim := limitCause(ctx); lim != nil {
		return fmt.Errorf("%s: %w", name, lim)
	}
	return err
}

// cacheKey is the cache's key for rawURL (parsed: u): the URL as given,
// or with credentials, the URL with them replaced by a digest, so that the
// cache file never holds a password and other credentials still make
// another entry.
func cacheKey(rawURL string, u *url.URL) string {
	if u.User == nil {
		return rawURL
	}
	sum := sha256.Sum256([]byte(u.User.String()))
	k := *u
	k.User = url.User("sha256-" + hex.EncodeToString(sum[:8]))
	return k.String()
}

// ResponseError maps a response to modup's errors: nil for 2xx, an error
// wrapping sources.ErrNotFound for 404/410, a *sources.RateLimitError for
// rate limits, else a *StatusError. It is for callers that hold a response
// of their own (the GitHub source, from go-github's errors).
func (c *Client) ResponseError(rawURL string, resp *http.Response) error {
	name := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		name = redact.URL(u.String())
	}
	return c.responseError(name, resp, 1)
}

func (c *Client) responseError(name string, resp *http.Response, attempts int) error {
	code := resp.StatusCode
	if code >= 200 && code < 300 {
		return nil
	}
	if rl := c.rateLimitError(resp, time.Now()); rl != nil {
		return fmt.Errorf("%s: %w", name, rl)
	}
	status := resp.Status
	if status == "" {
		status = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	if code == http.StatusNotFound || code == http.StatusGone {
		return fmt.Errorf("%s: %w (HTTP %s)", name, sources.ErrNotFound, status)
	}
	return &StatusError{URL: name, Code: code, Status: status, Attempts: attempts}
}

func (c *Client) parse(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid url %q: %w", redact.URL(rawURL), redact.Error(err))
	}
	if err := c.checkURL(u); err != nil {
		return nil, err
	}
	return u, nil
}

// send does one request (redirects and retries included). The error names
// the URL; attempts counts how often the last hop was sent.
func (c *Client) send(ctx context.Context, method string, u *url.URL, hdr http.Header) (*http.Response, int, error) {
	var attempts atomic.Int32
	ctx = context.WithValue(ctx, attemptsKey{}, &attempts)
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", redact.URL(u.String()), err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("%s: %w", redact.URL(u.String()), err)
	}
	return resp, max(int(attempts.Load()), 1), nil
}

// watch wraps body in the stall watchdog (when enabled), with rate in the
// minimum-rate check (when enabled), and names the URL in read errors.
func (c *Client) watch(body io.ReadCloser, cancel context.CancelCauseFunc, name string, rate bool) io.ReadCloser {
	w := &watchdog{body: body, cancel: cancel, name: name, timeout: c.stall}
	if c.stall > 0 {
		w.timer = time.AfterFunc(c.stall, w.fire)
		w.timer.Stop()
	}
	if rate && c.minRate > 0 {
		w.minRate, w.window = c.minRate, c.rateWindow
		w.rateTimer = time.AfterFunc(w.window, w.checkRate)
	}
	return w
}

// watchdog arms a timer for the duration of each Read: a Read that waits
// longer than timeout for its first byte cancels the request. Time the
// caller spends between reads does not count.
//
// With a minimum rate, it also counts the bytes of each window (wall
// time, from the headers on) and cancels the request with a *slowError
// when a window ends with fewer than minRate × window bytes.
type watchdog struct {
	body    io.ReadCloser
	cancel  context.CancelCauseFunc
	name    string
	timeout time.Duration
	timer   *time.Timer
	stalled atomic.Bool

	minRate   Rate
	window    time.Duration
	rateTimer *time.Timer
	got       atomic.Int64 // bytes in the current window
	slow      atomic.Pointer[slowError]
}

// checkRate ends a window: too few bytes cancel the request, else the
// next window starts.
func (w *watchdog) checkRate() {
	n := w.got.Swap(0)
	rate := Rate(float64(n) / w.window.Seconds())
	if rate < w.minRate {
		e := &slowError{got: rate, limit: w.minRate, window: w.window}
		w.slow.Store(e)
		w.cancel(e)
		return
	}
	w.rateTimer.Reset(w.window)
}

func (w *watchdog) fire() {
	w.stalled.Store(true)
	w.cancel(ErrStalled)
}

func (w *watchdog) stallError() error {
	return fmt.Errorf("read %s: %w: no data for %s", w.name, ErrStalled, w.timeout)
}

func (w *watchdog) Read(p []byte) (int, error) {
	if w.stalled.Load() {
		return 0, w.stallError()
	}
	if w.timer != nil {
		w.timer.Reset(w.timeout)
	}
	n, err := w.body.Read(p)
	if w.timer != nil {
		w.timer.Stop()
	}
	w.got.Add(int64(n))
	if err == io.EOF && w.rateTimer != nil {
		w.rateTimer.Stop() // all there: no window to judge
	}
	if err == nil || err == io.EOF {
		return n, err
	}
	if w.stalled.Load() {
		return n, w.stallError()
	}
	if e := w.slow.Load(); e != nil {
		return n, fmt.Errorf("read %s: %w", w.name, e)
	}
	return n, fmt.Errorf("read %s: %w", w.name, err)
}

func (w *watchdog) Close() error {
	if w.timer != nil {
		w.timer.Stop()
	}
	if w.rateTimer != nil {
		w.rateTimer.Stop()
	}
	err := w.body.Close()
	w.cancel(nil)
	return err
}

// Unreachable reports whether err says a remote could not be reached or
// failed on its side (a 5xx after the retries, a connection error, a body
// cut short), as opposed to answering: what a source may fall back from.
func Unreachable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code >= 500
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}
