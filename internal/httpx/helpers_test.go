package httpx

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClient is a client with fast retries; o's non-zero fields win.
func testClient(t *testing.T, o Options) *Client {
	t.Helper()
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = time.Millisecond
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = 5 * time.Millisecond
	}
	if o.UserAgent == "" {
		o.UserAgent = "modup-test/1"
	}
	return New(o)
}

// server starts an httptest server whose requests are counted.
type server struct {
	*httptest.Server
	hits atomic.Int32
}

func newServer(t *testing.T, h http.HandlerFunc) *server { return startServer(t, h, false) }

func newTLSServer(t *testing.T, h http.HandlerFunc) *server { return startServer(t, h, true) }

func startServer(t *testing.T, h http.HandlerFunc, useTLS bool) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

func (s *server) count() int { return int(s.hits.Load()) }

// countingTransport counts round trips on the wire (every attempt, every hop).
type countingTransport struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// recordHandler keeps the levels of slog records.
type recordHandler struct {
	mu     sync.Mutex
	levels []slog.Level
	msgs   []string
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.levels = append(h.levels, r.Level)
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }
