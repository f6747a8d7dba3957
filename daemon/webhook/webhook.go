// Package webhook sends the daemon's events to URLs a user chose: one JSON
// POST per event (the daemon.Event), signed with HMAC-SHA256 of the body
// when the hook has a secret, retried with backoff when the receiver fails
// or cannot be reached.
//
// Sending never holds up the daemon: Observe only puts the event in the
// hook's bounded queue (a full queue drops it, with a warning), and each
// hook has one goroutine of its own that delivers in order, so a slow or
// dead receiver delays nothing but its own deliveries. Requests carry no
// credentials of modup's (no API token, no GitHub token), and redirects
// are not followed.
package webhook

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/internal/redact"
)

// Headers of each delivery.
const (
	HeaderSignature = "X-Modup-Signature" // "sha256=" + hex HMAC-SHA256 of the body
	HeaderEvent     = "X-Modup-Event"     // the event type
	HeaderDelivery  = "X-Modup-Delivery"  // one id per event, the same on every attempt
)

// Events are the event types a hook can receive; a hook that names none
// receives them all.
func Events() []daemon.EventType {
	return []daemon.EventType{daemon.EventUpdateAvailable, daemon.EventInstalled, daemon.EventFailed, daemon.EventRolledBack}
}

// Hook is one receiver.
type Hook struct {
	URL    string
	Secret string
	// Events limits what it receives (empty: every one of Events).
	Events []daemon.EventType
}

// Options configure a Dispatcher. Zero values take the defaults.
type Options struct {
	Hooks     []Hook
	UserAgent string
	Logger    *slog.Logger
	// QueueSize is how many events wait per hook (default 100).
	QueueSize int
	// Attempts per delivery (default 5).
	Attempts int
	// RetryWaitMin and RetryWaitMax bound the backoff between attempts
	// (default 1s and 1m; a Retry-After is honoured within them).
	RetryWaitMin, RetryWaitMax time.Duration
	// Timeout bounds one attempt (default 10s).
	Timeout time.Duration
	// DrainTimeout bounds, in all, the delivery of the events still
	// queued when Run is stopped (default 5s): a daemon that stops still
	// tells what it did last, without hanging on a receiver that is down.
	DrainTimeout time.Duration
	// Transport sends the requests (default: a clone of
	// http.DefaultTransport, proxies from the environment).
	Transport http.RoundTripper
}

// Dispatcher delivers events to every hook. It is a daemon.Observer.
type Dispatcher struct {
	opts    Options
	log     *slog.Logger
	targets []*target
	client  *retryablehttp.Client

	delivered, failed, dropped atomic.Int64
}

var _ daemon.Observer = (*Dispatcher)(nil)

// target is one hook with its queue.
type target struct {
	Hook
	queue chan delivery
	once  sync.Once // first drop warned about
}

// delivery is one event, encoded once.
type delivery struct {
	id    string
	event daemon.EventType
	body  []byte
}

// New checks the hooks and returns a dispatcher; Run delivers.
func New(opts Options) (*Dispatcher, error) {
	if opts.QueueSize <= 0 {
		opts.QueueSize = 100
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = time.Second
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Transport == nil {
		opts.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	d := &Dispatcher{opts: opts, log: opts.Logger}
	for i, h := range opts.Hooks {
		u, err := url.Parse(h.URL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("webhook %d: %q is not an http:// or https:// URL", i+1, redact.URL(h.URL))
		}
		for _, e := range h.Events {
			if !slices.Contains(Events(), e) {
				return nil, fmt.Errorf("webhook %s: unknown event %q (known: %v)", redact.URL(h.URL), e, Events())
			}
		}
		if len(h.Events) == 0 {
			h.Events = Events()
		}
		d.targets = append(d.targets, &target{Hook: h, queue: make(chan delivery, opts.QueueSize)})
	}
	d.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: opts.Transport,
			Timeout:   opts.Timeout,
			// A receiver that redirects is not followed anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryWaitMin: opts.RetryWaitMin,
		RetryWaitMax: opts.RetryWaitMax,
		RetryMax:     opts.Attempts - 1,
		CheckRetry:   retryablehttp.DefaultRetryPolicy,
		Backoff:      retryablehttp.DefaultBackoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return d, nil
}

// Observe queues e for every hook that wants it; it never waits.
func (d *Dispatcher) Observe(e daemon.Event) {
	var body []byte
	id := ""
	for _, t := range d.targets {
		if !slices.Contains(t.Events, e.Type) {
			continue
		}
		if body == nil {
			var err error
			if body, err = json.Marshal(e); err != nil {
				return
			}
			id = newID()
		}
		select {
		case t.queue <- delivery{id: id, event: e.Type, body: body}:
		default:
			n := d.dropped.Add(1)
			t.once.Do(func() {
				d.log.Warn("webhook queue full; events are dropped until the receiver catches up",
					"url", redact.URL(t.URL), "event", string(e.Type), "package", e.Package, "queue", cap(t.queue))
			})
			d.log.Debug("webhook event dropped", "url", redact.URL(t.URL), "event", string(e.Type), "package", e.Package, "dropped", n)
		}
	}
}

// Run delivers queued events until ctx is cancelled, then what is still
// queued: deliveries go on for at most DrainTimeout after ctx is
// cancelled (a delivery under way included); what is left then is
// dropped, with a warning.
func (d *Dispatcher) Run(ctx context.Context) {
	send, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()
	stopped := context.AfterFunc(ctx, func() {
		time.AfterFunc(cmp.Or(d.opts.DrainTimeout, defaultDrainTimeout), stopSending)
	})
	defer stopped()
	var wg sync.WaitGroup
	for _, t := range d.targets {
		wg.Go(func() {
			for {
				select {
				case dl := <-t.queue:
					if !d.send(send, t, dl) {
						return
					}
				case <-ctx.Done():
					for {
						select {
						case dl := <-t.queue:
							if !d.send(send, t, dl) {
								return
							}
						default:
							return // drained
						}
					}
				}
			}
		})
	}
	wg.Wait()
}

// send delivers dl unless the time to send is over; then it drops dl and
// what is queued behind it, says so, and reports false.
func (d *Dispatcher) send(ctx context.Context, t *target, dl delivery) bool {
	if ctx.Err() != nil {
		left := 1 + len(t.queue)
		d.dropped.Add(int64(left))
		d.log.Warn("webhook events not delivered before the daemon stopped", "url", redact.URL(t.URL), "events", left)
		return false
	}
	d.deliver(ctx, t, dl)
	return true
}

// defaultDrainTimeout is Options.DrainTimeout's default.
const defaultDrainTimeout = 5 * time.Second

// Stats counts deliveries that succeeded, that failed after every
// attempt, and events dropped because a queue was full.
func (d *Dispatcher) Stats() (delivered, failed, dropped int64) {
	return d.delivered.Load(), d.failed.Load(), d.dropped.Load()
}

// deliver POSTs one event to one hook, with retries.
func (d *Dispatcher) deliver(ctx context.Context, t *target, dl delivery) {
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, t.URL, dl.body)
	if err != nil {
		d.failed.Add(1)
		d.log.Warn("webhook", "url", redact.URL(t.URL), "event", string(dl.event), "error", redact.Text(err.Error()))
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderEvent, string(dl.event))
	req.Header.Set(HeaderDelivery, dl.id)
	if d.opts.UserAgent != "" {
		req.Header.Set("User-Agent", d.opts.UserAgent)
	}
	if t.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(t.Secret, dl.body))
	}
	resp, err := d.client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			err = fmt.Errorf("the receiver answered %s", resp.Status)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			d.dropped.Add(1)
			return // stopping, or out of time to drain
		}
		d.failed.Add(1)
		d.log.Warn("webhook not delivered", "url", redact.URL(t.URL), "event", string(dl.event), "attempts", d.opts.Attempts, "error", redact.Text(err.Error()))
		return
	}
	d.delivered.Add(1)
	d.log.Debug("webhook delivered", "url", redact.URL(t.URL), "event", string(dl.event), "delivery", dl.id)
}

// Sign is the X-Modup-Signature of body under secret: "sha256=" and the
// hex HMAC-SHA256. A receiver computes it over the raw body and compares
// in constant time (hmac.Equal).
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func newID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
