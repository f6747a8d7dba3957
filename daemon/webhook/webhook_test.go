package webhook

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/updater"
)

// receiver records what it is sent and answers with answer(n), n counting
// requests from 1.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []received
	answer func(n int, w http.ResponseWriter)
}

type received struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	r := &receiver{answer: answer}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		n := len(r.got)
		r.mu.Unlock()
		if r.answer != nil {
			r.answer(n, w)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// run starts d until the test ends.
func run(t *testing.T, d *Dispatcher) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func fast(hooks ...Hook) Options {
	return Options{Hooks: hooks, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, UserAgent: "modup/test"}
}

var installed = daemon.Event{Type: daemon.EventInstalled, Time: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), Package: "hello", From: "1.0.0", To: "1.1.0", Status: updater.StatusUpdated}

// A delivery is the event as JSON, signed with the hook's secret, named
// by its headers, carrying no credentials; a hook gets only the events
// it asked for, and only those a user cares about.
func TestDeliverySignedAndFiltered(t *testing.T) {
	signed := newReceiver(t, nil)
	only := newReceiver(t, nil)
	d, err := New(fast(Hook{URL: signed.URL + "/hook", Secret: "s3cret"}, Hook{URL: only.URL, Events: []daemon.EventType{daemon.EventFailed}}))
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	d.Observe(daemon.Event{Type: daemon.EventCheckStarted, Package: "hello"}) // never sent
	d.Observe(installed)
	failed := installed
	failed.Type, failed.Status, failed.Error = daemon.EventFailed, updater.StatusFailed, "download: 404"
	d.Observe(failed)
	eventually(t, "deliveries", func() bool { return len(signed.requests()) == 2 && len(only.requests()) == 1 })

	got := signed.requests()
	for i, want := range []daemon.Event{installed, failed} {
		r := got[i]
		var ev daemon.Event
		if err := json.Unmarshal(r.body, &ev); err != nil || ev.Type != want.Type || ev.Package != "hello" || ev.To != "1.1.0" || !ev.Time.Equal(want.Time) {
			t.Errorf("delivery %d body %s (%v), want the %s event", i, r.body, err, want.Type)
		}
		sig := r.header.Get(HeaderSignature)
		if !hmac.Equal([]byte(sig), []byte(Sign("s3cret", r.body))) || !strings.HasPrefix(sig, "sha256=") || len(sig) != 7+64 {
			t.Errorf("delivery %d signature %q does not verify", i, sig)
		}
		if r.header.Get(HeaderEvent) != string(want.Type) || len(r.header.Get(HeaderDelivery)) != 24 ||
			r.header.Get("Content-Type") != "application/json" || r.header.Get("User-Agent") != "modup/test" {
			t.Errorf("delivery %d headers %v", i, r.header)
		}
		if r.header.Get("Authorization") != "" || r.header.Get("Cookie") != "" {
			t.Errorf("delivery %d carries credentials: %v", i, r.header)
		}
	}
	if o := only.requests(); o[0].header.Get(HeaderEvent) != "failed" || o[0].header.Get(HeaderSignature) != "" {
		t.Errorf("the failed-only hook got %v", o[0].header)
	}
	if a, b := got[0].header.Get(HeaderDelivery), got[1].header.Get(HeaderDelivery); a == b {
		t.Error("two events share a delivery id")
	}
}

// A failing receiver is tried again with the same delivery; one that
// keeps failing, or refuses the request (4xx), is given up on.
func TestRetries(t *testing.T) {
	tests := []struct {
		name          string
		answer        func(n int, w http.ResponseWriter)
		wantRequests  int
		wantDelivered int64
	}{
		{name: "500 twice, then ok", answer: func(n int, w http.ResponseWriter) {
			if n <= 2 {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}, wantRequests: 3, wantDelivered: 1},
		{name: "429 then ok", answer: func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.WriteHeader(http.StatusTooManyRequests)
			}
		}, wantRequests: 2, wantDelivered: 1},
		{name: "always 503", answer: func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) }, wantRequests: 4},
		{name: "400 is final", answer: func(n int, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) }, wantRequests: 1},
		{name: "redirect is not followed", answer: func(n int, w http.ResponseWriter) {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			w.WriteHeader(http.StatusFound)
		}, wantRequests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReceiver(t, tc.answer)
			opts := fast(Hook{URL: r.URL, Secret: "k"})
			opts.Attempts = 4
			d, err := New(opts)
			if err != nil {
				t.Fatal(err)
			}
			run(t, d)
			d.Observe(installed)
			eventually(t, "the delivery's end", func() bool { ok, failed, _ := d.Stats(); return ok+failed == 1 })
			ok, _, _ := d.Stats()
			got := r.requests()
			if len(got) != tc.wantRequests || ok != tc.wantDelivered {
				t.Fatalf("%d requests, %d delivered; want %d and %d", len(got), ok, tc.wantRequests, tc.wantDelivered)
			}
			for _, g := range got[1:] {
				if g.header.Get(HeaderDelivery) != got[0].header.Get(HeaderDelivery) || string(g.body) != string(got[0].body) ||
					g.header.Get(HeaderSignature) != got[0].header.Get(HeaderSignature) {
					t.Error("a retry is not the same delivery")
				}
			}
		})
	}
}

// A receiver that does not answer blocks neither Observe (the daemon's
// checks and installs call it) nor the other hooks; its queue overflows
// and drops what does not fit.
func TestSlowReceiverBlocksNothing(t *testing.T) {
	release := make(chan struct{})
	slow := newReceiver(t, func(n int, w http.ResponseWriter) { <-release })
	defer close(release)
	fastOne := newReceiver(t, nil)
	opts := fast(Hook{URL: slow.URL}, Hook{URL: fastOne.URL})
	opts.QueueSize = 5
	opts.Timeout = time.Minute
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	d.Observe(installed)
	eventually(t, "the slow receiver to hold a request", func() bool { return len(slow.requests()) == 1 })

	// One event at a time, each delivered to the other hook before the
	// next: its queue never overflows, the slow one's does.
	const n = 20
	observed := make(chan struct{})
	go func() {
		defer close(observed)
		for i := range n {
			d.Observe(installed)
			for len(fastOne.requests()) < i+2 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	select {
	case <-observed:
	case <-time.After(10 * time.Second):
		t.Fatal("Observe or the other hook waited for the slow receiver")
	}
	if _, _, dropped := d.Stats(); dropped != int64(n-opts.QueueSize) {
		t.Errorf("dropped %d, want %d (the slow hook's queue holds %d)", dropped, n-opts.QueueSize, opts.QueueSize)
	}
	if got := len(slow.requests()); got != 1 {
		t.Errorf("the slow receiver got %d requests while it held the first", got)
	}
}

func TestNewRefusesBadHooks(t *testing.T) {
	for _, h := range []Hook{
		{URL: "ftp://x.example/"},
		{URL: "not a url"},
		{URL: "https://x.example/", Events: []daemon.EventType{daemon.EventCheckStarted}},
	} {
		if _, err := New(Options{Hooks: []Hook{h}}); err == nil {
			t.Errorf("New(%+v) accepted it", h)
		}
	}
}

// Events still queued when the daemon stops are delivered before Run
// returns; a receiver that does not answer holds the stop only for
// DrainTimeout, and what it did not get is counted as dropped.
func TestDrainOnStop(t *testing.T) {
	t.Run("delivered", func(t *testing.T) {
		r := newReceiver(t, nil)
		d, err := New(fast(Hook{URL: r.URL}))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			d.Observe(installed)
		}
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		d.Run(stopped)
		if delivered, failed, dropped := d.Stats(); delivered != 3 || failed != 0 || dropped != 0 || len(r.requests()) != 3 {
			t.Errorf("delivered %d, failed %d, dropped %d, received %d; want all 3 delivered", delivered, failed, dropped, len(r.requests()))
		}
	})
	t.Run("receiver down", func(t *testing.T) {
		hold := make(chan struct{})
		r := newReceiver(t, func(int, http.ResponseWriter) { <-hold })
		defer close(hold)
		opts := fast(Hook{URL: r.URL})
		opts.DrainTimeout = 50 * time.Millisecond
		opts.Timeout = time.Minute
		d, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		d.Observe(installed)
		d.Observe(installed)
		stopped, cancel := context.WithCancel(context.Background())
		cancel()
		d.Run(stopped) // returns: the drain gives up
		if delivered, _, dropped := d.Stats(); delivered != 0 || dropped != 2 {
			t.Errorf("delivered %d, dropped %d; want 0 and 2", delivered, dropped)
		}
	})
}
