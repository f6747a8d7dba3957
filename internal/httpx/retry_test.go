package httpx

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/sources"
)

type step struct {
	code   int
	header map[string]string
}

func TestRetryPolicy(t *testing.T) {
	reset := time.Unix(1893456000, 0)
	tests := []struct {
		name         string
		steps        []step // answer per attempt; the last repeats
		retryMax     int
		wantAttempts int
		check        func(t *testing.T, url string, err error)
	}{
		{
			name:         "500 twice then 200",
			steps:        []step{{code: 500}, {code: 500}, {code: 200}},
			wantAttempts: 3,
		},
		{
			name:         "502 503 504 then 200",
			steps:        []step{{code: 502}, {code: 503}, {code: 504}, {code: 200}},
			wantAttempts: 4,
		},
		{
			name:         "500 forever gives up after RetryMax+1",
			steps:        []step{{code: 500}},
			wantAttempts: 4,
			check: func(t *testing.T, url string, err error) {
				var se *StatusError
				if !errors.As(err, &se) || se.Code != 500 || se.Attempts != 4 || !se.Temporary() {
					t.Fatalf("err = %#v, want *StatusError 500 after 4 attempts", err)
				}
				if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "500 Internal Server Error") {
					t.Errorf("error %q does not name the URL and the last status", err)
				}
			},
		},
		{
			name:         "RetryMax 1",
			steps:        []step{{code: 500}},
			retryMax:     1,
			wantAttempts: 2,
			check:        wantStatus(500),
		},
		{
			name:         "negative RetryMax means no retry",
			steps:        []step{{code: 500}},
			retryMax:     -1,
			wantAttempts: 1,
			check:        wantStatus(500),
		},
		{
			name:         "501 is not retried",
			steps:        []step{{code: 501}},
			wantAttempts: 1,
			check:        wantStatus(501),
		},
		{name: "400 is not retried", steps: []step{{code: 400}}, wantAttempts: 1, check: wantStatus(400)},
		{name: "401 is not retried", steps: []step{{code: 401}}, wantAttempts: 1, check: wantStatus(401)},
		{name: "plain 403 is not retried", steps: []step{{code: 403}}, wantAttempts: 1, check: wantStatus(403)},
		{name: "404 is ErrNotFound", steps: []step{{code: 404}}, wantAttempts: 1, check: wantIs(sources.ErrNotFound)},
		{name: "410 is ErrNotFound", steps: []step{{code: 410}}, wantAttempts: 1, check: wantIs(sources.ErrNotFound)},
		{
			name:         "429 with Retry-After 0 is retried",
			steps:        []step{{code: 429, header: map[string]string{"Retry-After": "0"}}, {code: 200}},
			wantAttempts: 2,
		},
		{
			name:         "503 with Retry-After 0 is retried",
			steps:        []step{{code: 503, header: map[string]string{"Retry-After": "0"}}, {code: 200}},
			wantAttempts: 2,
		},
		{
			name:         "403 with Retry-After 0 (secondary rate limit) is retried",
			steps:        []step{{code: 403, header: map[string]string{"Retry-After": "0"}}, {code: 200}},
			wantAttempts: 2,
		},
		{
			name:         "429 without Retry-After is retried with backoff",
			steps:        []step{{code: 429}, {code: 200}},
			wantAttempts: 2,
		},
		{
			name:         "429 forever is a rate limit with unknown reset",
			steps:        []step{{code: 429}},
			wantAttempts: 4,
			check: func(t *testing.T, _ string, err error) {
				rl := wantRateLimit(t, err)
				if !rl.Reset.IsZero() {
					t.Errorf("Reset = %v, want zero", rl.Reset)
				}
			},
		},
		{
			name:         "429 with a Retry-After beyond the cap is not slept",
			steps:        []step{{code: 429, header: map[string]string{"Retry-After": "3600"}}},
			wantAttempts: 1,
			check:        wantResetIn(time.Hour),
		},
		{
			name:         "503 with a Retry-After beyond the cap is not slept",
			steps:        []step{{code: 503, header: map[string]string{"Retry-After": "7200"}}},
			wantAttempts: 1,
			check:        wantResetIn(2 * time.Hour),
		},
		{
			name: "503 with an HTTP-date Retry-After beyond the cap",
			steps: []step{{code: 503, header: map[string]string{
				"Retry-After": time.Now().Add(3 * time.Hour).UTC().Format(http.TimeFormat),
			}}},
			wantAttempts: 1,
			check:        wantResetIn(3 * time.Hour),
		},
		{
			name: "403 with x-ratelimit-remaining 0",
			steps: []step{{code: 403, header: map[string]string{
				"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10),
			}}},
			wantAttempts: 1,
			check: func(t *testing.T, _ string, err error) {
				if rl := wantRateLimit(t, err); !rl.Reset.Equal(reset) {
					t.Errorf("Reset = %v, want %v", rl.Reset, reset)
				}
			},
		},
		{
			name: "429 with x-ratelimit-remaining 0",
			steps: []step{{code: 429, header: map[string]string{
				"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10),
			}}},
			wantAttempts: 1,
			check: func(t *testing.T, _ string, err error) {
				if rl := wantRateLimit(t, err); !rl.Reset.Equal(reset) {
					t.Errorf("Reset = %v, want %v", rl.Reset, reset)
				}
			},
		},
		{
			name: "429 with GitLab's ratelimit-remaining 0 and a short Retry-After",
			steps: []step{{code: 429, header: map[string]string{
				"RateLimit-Remaining": "0", "RateLimit-Reset": strconv.FormatInt(reset.Unix(), 10), "Retry-After": "0",
			}}},
			wantAttempts: 1,
			check: func(t *testing.T, _ string, err error) {
				if rl := wantRateLimit(t, err); !rl.Reset.Equal(reset) {
					t.Errorf("Reset = %v, want %v", rl.Reset, reset)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			agents := map[string]int{}
			var srv *server
			srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
				i := srv.count() - 1
				s := tt.steps[min(i, len(tt.steps)-1)]
				mu.Lock()
				agents[r.UserAgent()]++
				mu.Unlock()
				for k, v := range s.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(s.code)
				if s.code == 200 {
					w.Write([]byte(`{"version":"1.0.0"}`))
				}
			})
			c := testClient(t, Options{RetryMax: tt.retryMax, MaxRetryAfter: time.Second})
			url := srv.URL + "/a2modsource.json"
			body, _, err := c.Fetch(t.Context(), url, nil, 0)
			if got := srv.count(); got != tt.wantAttempts {
				t.Errorf("server saw %d requests, want %d", got, tt.wantAttempts)
			}
			mu.Lock()
			defer mu.Unlock()
			if agents["modup-test/1"] != srv.count() {
				t.Errorf("User-Agents seen: %v", agents)
			}
			if tt.check == nil {
				if err != nil || string(body) != `{"version":"1.0.0"}` {
					t.Fatalf("Fetch = %q, %v", body, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Fetch succeeded, want an error")
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), url) {
				t.Errorf("error %q does not name %s", err, url)
			}
			tt.check(t, url, err)
		})
	}
}

func wantStatus(code int) func(*testing.T, string, error) {
	return func(t *testing.T, _ string, err error) {
		t.Helper()
		var se *StatusError
		if !errors.As(err, &se) || se.Code != code {
			t.Fatalf("err = %v, want *StatusError %d", err, code)
		}
		if errors.Is(err, sources.ErrNotFound) || errors.Is(err, sources.ErrRateLimited) {
			t.Errorf("err %v matches a sentinel", err)
		}
	}
}

func wantIs(target error) func(*testing.T, string, error) {
	return func(t *testing.T, _ string, err error) {
		t.Helper()
		if !errors.Is(err, target) {
			t.Fatalf("err = %v, want errors.Is %v", err, target)
		}
	}
}

func wantRateLimit(t *testing.T, err error) *sources.RateLimitError {
	t.Helper()
	var rl *sources.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, sources.ErrRateLimited) {
		t.Fatalf("err = %v, want *sources.RateLimitError", err)
	}
	if !strings.HasPrefix(rl.Host, "127.0.0.1:") {
		t.Errorf("Host = %q", rl.Host)
	}
	return rl
}

func wantResetIn(d time.Duration) func(*testing.T, string, error) {
	return func(t *testing.T, _ string, err error) {
		t.Helper()
		rl := wantRateLimit(t, err)
		if left := time.Until(rl.Reset); left < d-time.Minute || left > d+time.Minute {
			t.Errorf("Reset in %v, want about %v", left, d)
		}
	}
}

// TestConnectionErrorsRetried: a connection closed or reset before the
// headers is retried; the third attempt succeeds.
func TestConnectionErrorsRetried(t *testing.T) {
	tests := []struct {
		name  string
		abort func(c net.Conn)
	}{
		{"closed before headers (EOF)", func(c net.Conn) { c.Close() }},
		{"reset before headers", func(c net.Conn) {
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *server
			srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if srv.count() <= 2 {
					conn, _, err := w.(http.Hijacker).Hijack()
					if err != nil {
						t.Error(err)
						return
					}
					tt.abort(conn)
					return
				}
				w.Write([]byte("ok"))
			})
			c := testClient(t, Options{})
			body, _, err := c.Fetch(t.Context(), srv.URL, nil, 0)
			if err != nil || string(body) != "ok" {
				t.Fatalf("Fetch = %q, %v", body, err)
			}
			if srv.count() != 3 {
				t.Errorf("server saw %d requests, want 3", srv.count())
			}
		})
	}
}

func TestConnectionRefusedGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/a2modsource.json"
	ln.Close()
	ct := &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}
	c := testClient(t, Options{RetryMax: 2, Transport: ct})
	_, _, err = c.Fetch(t.Context(), url, nil, 0)
	if err == nil {
		t.Fatal("Fetch succeeded on a closed port")
	}
	t.Logf("error: %v", err)
	if ct.n.Load() != 3 {
		t.Errorf("%d attempts, want 3", ct.n.Load())
	}
	if !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Errorf("error %q should name the URL and the attempts", err)
	}
}

func TestHeaderTimeoutRetried(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	c := testClient(t, Options{RetryMax: 1, HeaderTimeout: 50 * time.Millisecond})
	_, _, err := c.Fetch(t.Context(), srv.URL, nil, 0)
	if err == nil || !strings.Contains(err.Error(), "timeout awaiting response headers") {
		t.Fatalf("err = %v, want a header timeout", err)
	}
	if srv.count() != 2 {
		t.Errorf("server saw %d requests, want 2", srv.count())
	}
}

func TestTLSErrorNotRetried(t *testing.T) {
	srv := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {})
	ct := &countingTransport{base: newTransport(0, 0)} // does not trust the test CA
	c := testClient(t, Options{Transport: ct})
	_, _, err := c.Fetch(t.Context(), srv.URL, nil, 0)
	t.Logf("error: %v", err)
	var certErr *tls.CertificateVerificationError
	if !errors.As(err, &certErr) {
		t.Fatalf("err = %v, want a certificate error", err)
	}
	if ct.n.Load() != 1 || srv.count() != 0 {
		t.Errorf("%d attempts, %d requests served, want 1 and 0", ct.n.Load(), srv.count())
	}
}

func TestCancelNotRetried(t *testing.T) {
	t.Run("while waiting for headers", func(t *testing.T) {
		arrived := make(chan struct{}, 10)
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			<-r.Context().Done()
		})
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-arrived; cancel() }()
		_, _, err := testClient(t, Options{}).Fetch(ctx, srv.URL, nil, 0)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if srv.count() != 1 {
			t.Errorf("server saw %d requests, want 1", srv.count())
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
		})
		ctx, cancel := context.WithCancel(t.Context())
		c := testClient(t, Options{RetryWaitMin: time.Minute, RetryWaitMax: time.Minute, Logger: slog.New(&recordHandler{})})
		go func() {
			for srv.count() == 0 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		start := time.Now()
		_, _, err := c.Fetch(ctx, srv.URL, nil, 0)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if srv.count() != 1 || time.Since(start) > 30*time.Second {
			t.Errorf("server saw %d requests in %v", srv.count(), time.Since(start))
		}
	})
}

func TestBackoff(t *testing.T) {
	c := New(Options{MaxRetryAfter: 30 * time.Second})
	resp := func(code int, ra string) *http.Response {
		h := http.Header{}
		if ra != "" {
			h.Set("Retry-After", ra)
		}
		return &http.Response{StatusCode: code, Header: h}
	}
	exact := []struct {
		resp *http.Response
		want time.Duration
	}{
		{resp(429, "7"), 7 * time.Second},
		{resp(503, "0"), 0},
		{resp(403, "12"), 12 * time.Second},
		{resp(429, "3600"), 30 * time.Second}, // capped (CheckRetry refuses to wait this long anyway)
	}
	for _, tt := range exact {
		if got := c.backoff(time.Millisecond, time.Second, 0, tt.resp); got != tt.want {
			t.Errorf("backoff(%d, Retry-After %s) = %v, want %v", tt.resp.StatusCode, tt.resp.Header.Get("Retry-After"), got, tt.want)
		}
	}
	lo, hi := 100*time.Millisecond, 2*time.Second
	for attempt := range 10 {
		ceiling := min(lo<<attempt, hi)
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoff(lo, hi, attempt, resp(500, ""))
			if d <= ceiling/2 || d > ceiling {
				t.Fatalf("attempt %d: backoff %v outside (%v, %v]", attempt, d, ceiling/2, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("attempt %d: no jitter", attempt)
		}
	}
	if d := c.backoff(lo, hi, 200, nil); d <= hi/2 || d > hi {
		t.Errorf("huge attempt: %v", d)
	}
}

func TestRetryAfterParse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{"99999999999999999", time.Duration(1<<63 - 1), true},
	}
	for _, tt := range tests {
		got, ok := retryAfter(http.Header{"Retry-After": {tt.v}}, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}
