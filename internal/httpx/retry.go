package httpx

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modup/modup/sources"
)

// checkRetry is retryablehttp's CheckRetry: connection failures and 5xx
// (but 501) are retried; 429/503 (and GitHub's 403) with a Retry-After within
// MaxRetryAfter are retried after that wait; an exhausted rate limit, a
// longer Retry-After, other 4xx, TLS certificate errors and cancellation are
// final.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		if err != nil {
			return false, err
		}
		return false, ctx.Err()
	}
	if err != nil {
		return retryableError(err), nil
	}
	code := resp.StatusCode
	if rateLimitSpent(resp) {
		return false, nil
	}
	if retryAfterStatus(code) {
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			return d <= c.maxRetryAfter, nil
		}
	}
	switch {
	case code == http.StatusTooManyRequests:
		return true, nil
	case code == http.StatusNotImplemented:
		return false, nil
	case code >= 500 || code == 0:
		return true, nil
	}
	return false, nil
}

// retryableError reports whether a transport error may go away on its own.
// Cancellation of the caller's context is handled before (checkRetry); a
// timeout of the transport (headers, dial) is worth another attempt.
func retryableError(err error) bool {
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		alertErr    tls.AlertError
		dnsErr      *net.DNSError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidErr), errors.As(err, &recordErr), errors.As(err, &alertErr):
		return false // TLS trouble is a configuration problem, never skipped or retried
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return false
	}
	msg := err.Error()
	// net/http reports these as plain errors.
	for _, s := range []string{"server gave HTTP response to HTTPS client", "unsupported protocol scheme", "invalid header"} {
		if strings.Contains(msg, s) {
			return false
		}
	}
	return true
}

// backoff is retryablehttp's Backoff: the Retry-After of a 429/503 (capped
// at MaxRetryAfter), else exponential from min to max with jitter.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil && retryAfterStatus(resp.StatusCode) {
		if d, ok := retryAfter(resp.Header, time.Now()); ok {
			return min(d, c.maxRetryAfter)
		}
	}
	return expBackoff(lo, hi, attempt)
}

// expBackoff is lo·2^attempt capped at hi, with "equal jitter": a random
// value in (d/2, d].
func expBackoff(lo, hi time.Duration, attempt int) time.Duration {
	d := hi
	if attempt < 62 {
		if m := lo << attempt; m > 0 && m>>attempt == lo && m < hi {
			d = m
		}
	}
	half := d / 2
	if half <= 0 {
		return d
	}
	return d - half + 1 + rand.N(half)
}

func retryAfterStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable || code == http.StatusForbidden
}

// retryAfter parses a Retry-After header: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(math.MaxInt64/time.Second) {
			return time.Duration(math.MaxInt64), true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// rateLimitSpent reports a spent quota: 403 or 429 with
// x-ratelimit-remaining: 0 (GitHub) or ratelimit-remaining: 0 (GitLab).
func rateLimitSpent(resp *http.Response) bool {
	code := resp.StatusCode
	return (code == http.StatusForbidden || code == http.StatusTooManyRequests) &&
		(strings.TrimSpace(resp.Header.Get("X-Ratelimit-Remaining")) == "0" ||
			strings.TrimSpace(resp.Header.Get("Ratelimit-Remaining")) == "0")
}

// rateLimitReset reads when a spent quota comes back: x-ratelimit-reset
// (GitHub) or ratelimit-reset (GitLab), Unix seconds both.
func rateLimitReset(h http.Header) (time.Time, bool) {
	for _, key := range []string{"X-Ratelimit-Reset", "Ratelimit-Reset"} {
		if n, err := strconv.ParseInt(strings.TrimSpace(h.Get(key)), 10, 64); err == nil && n > 0 {
			return time.Unix(n, 0), true
		}
	}
	return time.Time{}, false
}

// rateLimitError maps a final answer to a *sources.RateLimitError, or nil:
// a spent GitHub or GitLab quota (Reset from its reset header), a Retry-After longer
// than MaxRetryAfter (Reset = now + Retry-After), or a 429 that outlived its
// retries.
func (c *Client) rateLimitError(resp *http.Response, now time.Time) *sources.RateLimitError {
	host := ""
	if resp.Request != nil && resp.Request.URL != nil {
		host = resp.Request.URL.Host
	}
	code := resp.StatusCode
	ra, hasRA := retryAfter(resp.Header, now)
	if rateLimitSpent(resp) {
		e := &sources.RateLimitError{Host: host}
		if reset, ok := rateLimitReset(resp.Header); ok {
			e.Reset = reset
		} else if hasRA {
			e.Reset = addDuration(now, ra)
		}
		return e
	}
	if hasRA && retryAfterStatus(code) && (code != http.StatusServiceUnavailable || ra > c.maxRetryAfter) {
		return &sources.RateLimitError{Host: host, Reset: addDuration(now, ra)}
	}
	if code == http.StatusTooManyRequests {
		return &sources.RateLimitError{Host: host}
	}
	return nil
}

func addDuration(t time.Time, d time.Duration) time.Time {
	const ceiling = 100 * 365 * 24 * time.Hour
	return t.Add(min(d, ceiling))
}
