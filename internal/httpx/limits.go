package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/modup/modup/internal/redact"
)

// Limits on slow servers (see Options): a server that drips one byte every
// 20 s never trips the stall watchdog, so small documents get a deadline
// and downloads a minimum average rate.
const (
	DefaultFetchTimeout  = 60 * time.Second
	DefaultMinRate       = Rate(1 << 10)
	DefaultMinRateWindow = 60 * time.Second
)

// ErrFetchTimeout: a request took longer than Options.FetchTimeout (for a
// download, its answer's headers did). The concrete error names the limit.
var ErrFetchTimeout = errors.New("fetch timeout")

// ErrTooSlow: a download averaged less than Options.MinRate over
// Options.MinRateWindow. The concrete error names the rate and the limit.
var ErrTooSlow = errors.New("download too slow")

// timeoutError is the cause a request is cancelled with when its fetch
// timeout fires.
type timeoutError struct{ limit time.Duration }

func (e *timeoutError) Error() string {
	return "took longer than --fetch-timeout " + FormatDuration(e.limit)
}

func (e *timeoutError) Is(target error) bool { return target == ErrFetchTimeout }

// Timeout makes it a net.Error timeout, as the transport's own are.
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// slowError is the cause a download is cancelled with when it averaged
// less than the minimum rate over a window.
type slowError struct {
	got, limit Rate
	window     time.Duration
}

func (e *slowError) Error() string {
	return fmt.Sprintf("averaged %s over %s, under --min-rate %s", humanRate(e.got), FormatDuration(e.window), e.limit)
}

func (e *slowError) Is(target error) bool { return target == ErrTooSlow }

// limitCause returns the limit error a request was cancelled with (a fetch
// timeout or a too slow download), or nil when ctx ended otherwise or not
// at all.
func limitCause(ctx context.Context) error {
	var te *timeoutError
	var se *slowError
	switch cause := context.Cause(ctx); {
	case errors.As(cause, &te):
		return te
	case errors.As(cause, &se):
		return se
	}
	return nil
}

// armDeadline cancels with a *timeoutError when the fetch timeout passes.
// stop disarms it and reports whether it had not fired.
func (c *Client) armDeadline(cancel context.CancelCauseFunc) (stop func() bool) {
	if c.fetchTimeout <= 0 {
		return func() bool { return true }
	}
	t := time.AfterFunc(c.fetchTimeout, func() { cancel(&timeoutError{limit: c.fetchTimeout}) })
	return t.Stop
}

// deadlineTransport gives each request of HTTPClient (the GitHub API,
// through go-github) the fetch timeout, from sending it to the end of its
// body, retries included.
type deadlineTransport struct {
	next http.RoundTripper
	c    *Client
}

func (t *deadlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	stop := t.c.armDeadline(cancel)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel(nil)
		if lim := limitCause(ctx); lim != nil {
			// http.Client names the URL around it.
			return nil, lim
		}
		return nil, err
	}
	resp.Body = &deadlineBody{body: resp.Body, ctx: ctx, name: redact.URL(req.URL.String()), done: func() { stop(); cancel(nil) }}
	return resp, nil
}

// deadlineBody says which limit cut a body short, and disarms the deadline
// when closed.
type deadlineBody struct {
	body io.ReadCloser
	ctx  context.Context
	name string
	done func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.body.Read(p)
	if err != nil && err != io.EOF {
		if lim := limitCause(b.ctx); lim != nil {
			return n, fmt.Errorf("read %s: %w", b.name, lim)
		}
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	err := b.body.Close()
	b.done()
	return err
}

// Rate is a transfer rate in bytes per second. As a flag value it reads
// "1KiB", "1KiB/s", "512B", "1.5MiB", "2kB" (1000-byte units) or a plain
// number of bytes; "0" turns the limit off.
type Rate int64

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

var rateUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1000, "kb": 1000, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
	"kib": kib, "mib": mib, "gib": gib,
}

// ParseRate reads a rate as Rate's flag syntax says.
func ParseRate(s string) (Rate, error) {
	v := strings.TrimSpace(s)
	v = strings.TrimSuffix(v, "/s")
	i := strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := v, ""
	if i >= 0 {
		num, unit = v[:i], strings.ToLower(strings.TrimSpace(v[i:]))
	}
	mult, ok := rateUnits[unit]
	f, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil || num == "" || f < 0 || math.IsInf(f*mult, 0) || f*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("rate %q: want bytes per second such as 1KiB, 512B, 1.5MiB or 0 (off)", s)
	}
	return Rate(math.Round(f * mult)), nil
}

// String is the rate in flag syntax: "1KiB/s", "1536B/s", "0".
func (r Rate) String() string {
	switch {
	case r == 0:
		return "0"
	case r%gib == 0:
		return fmt.Sprintf("%dGiB/s", r/gib)
	case r%mib == 0:
		return fmt.Sprintf("%dMiB/s", r/mib)
	case r%kib == 0:
		return fmt.Sprintf("%dKiB/s", r/kib)
	}
	return fmt.Sprintf("%dB/s", int64(r))
}

// Set implements pflag.Value.
func (r *Rate) Set(s string) error {
	v, err := ParseRate(s)
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Type implements pflag.Value.
func (*Rate) Type() string { return "rate" }

// humanRate is a measured rate for a message: "12 B/s", "1.5 KiB/s".
func humanRate(r Rate) string {
	switch {
	case r < kib:
		return fmt.Sprintf("%d B/s", int64(r))
	case r < mib:
		return fmt.Sprintf("%.1f KiB/s", float64(r)/kib)
	}
	return fmt.Sprintf("%.1f MiB/s", float64(r)/mib)
}

// FormatDuration writes d as a user types it: "60s", "300ms", "5m", "1h30m".
func FormatDuration(d time.Duration) string {
	switch {
	case d <= 0 || d%time.Second != 0:
		return d.String()
	case d < 2*time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	s := d.String() // "5m0s", "1h0m0s", "2m30s"
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
