package httpx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modup/modup/sources"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url       string
		allowHTTP bool
		insecure  bool // wants sources.ErrInsecure
		ok        bool
	}{
		{url: "https://github.com/a2script/a2.modlab", ok: true},
		{url: "HTTPS://example.com/x.zip", ok: true},
		{url: "http://127.0.0.1:8080/a2modsource.json", ok: true},
		{url: "http://127.8.9.10/x", ok: true},
		{url: "http://localhost:1234/x", ok: true},
		{url: "http://[::1]:1234/x", ok: true},
		{url: "http://example.com/a2modsource.json", insecure: true},
		{url: "http://127.0.0.1.example.com/x", insecure: true},
		{url: "http://example.com/a2modsource.json", allowHTTP: true, ok: true},
		{url: "ftp://example.com/x.zip"},
		{url: "file:///etc/passwd"},
		{url: "javascript:alert(1)"},
		{url: "example.com/x"},
		{url: "https:///nohost"},
		{url: "https://exa mple.com/"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := New(Options{AllowHTTP: tt.allowHTTP}).CheckURL(tt.url)
			switch {
			case tt.ok && err != nil:
				t.Fatalf("CheckURL: %v", err)
			case !tt.ok && err == nil:
				t.Fatal("CheckURL accepted it")
			case tt.insecure && !errors.Is(err, sources.ErrInsecure):
				t.Fatalf("err = %v, want ErrInsecure", err)
			case tt.insecure && !strings.Contains(err.Error(), "use https or pass --allow-http"):
				t.Errorf("err = %v, want a hint", err)
			case !tt.insecure && errors.Is(err, sources.ErrInsecure):
				t.Errorf("err = %v, should not be ErrInsecure", err)
			}
		})
	}
}

func TestFetchRefusesInsecureWithoutNetwork(t *testing.T) {
	ct := &countingTransport{base: http.DefaultTransport}
	c := testClient(t, Options{Transport: ct})
	_, _, err := c.Fetch(t.Context(), "http://example.com/a2modsource.json", nil, 0)
	if !errors.Is(err, sources.ErrInsecure) {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Stat(t.Context(), "ftp://example.com/x.zip"); err == nil {
		t.Fatal("Stat accepted ftp://")
	}
	if _, _, err := c.Open(t.Context(), "http://example.com/x.zip"); !errors.Is(err, sources.ErrInsecure) {
		t.Fatalf("Open err = %v", err)
	}
	if ct.n.Load() != 0 {
		t.Errorf("%d requests sent", ct.n.Load())
	}
}

// redirector answers /hop/N with a redirect to /hop/N-1 and /hop/0 with "done".
func redirector(t *testing.T) *server {
	return newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if n == 0 {
			w.Write([]byte("done"))
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
	})
}

func TestRedirects(t *testing.T) {
	tests := []struct {
		hops     int
		wantErr  string
		wantHits int
	}{
		{hops: 3, wantHits: 4},
		{hops: 10, wantHits: 11},
		{hops: 11, wantErr: "stopped after 10 redirects", wantHits: 11},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.hops), func(t *testing.T) {
			srv := redirector(t)
			body, _, err := testClient(t, Options{}).Fetch(t.Context(), fmt.Sprintf("%s/hop/%d", srv.URL, tt.hops), nil, 0)
			if tt.wantErr == "" {
				if err != nil || string(body) != "done" {
					t.Fatalf("Fetch = %q, %v", body, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if srv.count() != tt.wantHits {
				t.Errorf("server saw %d requests, want %d (redirect errors are not retried)", srv.count(), tt.wantHits)
			}
		})
	}
}

func TestRedirectLoop(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		next := map[string]string{"/a": "/b", "/b": "/a"}[r.URL.Path]
		http.Redirect(w, r, next, http.StatusMovedPermanently)
	})
	_, _, err := testClient(t, Options{}).Fetch(t.Context(), srv.URL+"/a", nil, 0)
	t.Logf("error: %v", err)
	if err == nil || !strings.Contains(err.Error(), "redirect loop") || !strings.Contains(err.Error(), srv.URL+"/a") {
		t.Fatalf("err = %v, want a redirect loop naming the URL", err)
	}
	if srv.count() != 2 {
		t.Errorf("server saw %d requests, want 2", srv.count())
	}
}

func TestRedirectPolicy(t *testing.T) {
	plain := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("plain")) })
	secure := newTLSServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	start := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
	})
	via := func(base, to string) string { return base + "/?to=" + url.QueryEscape(to) }
	tests := []struct {
		name     string
		url      string
		insecure bool
		wantErr  string
	}{
		{
			name:     "https to http downgrade is refused",
			url:      via(secure.URL, plain.URL+"/x"),
			insecure: true,
		},
		{
			name: "loopback http origin may come back to loopback http (tests)",
			url:  via(start.URL, via(secure.URL, plain.URL+"/x")),
		},
		{
			name:     "every hop passes CheckURL",
			url:      via(start.URL, "http://modup.invalid/a2modsource.json"),
			insecure: true,
		},
		{
			name:    "no other schemes",
			url:     via(start.URL, "ftp://example.com/x.zip"),
			wantErr: "unsupported url scheme",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := plain.count()
			c := testClient(t, Options{Transport: secure.Client().Transport})
			body, _, err := c.Fetch(t.Context(), tt.url, nil, 0)
			if err != nil {
				t.Logf("error: %v", err)
			}
			switch {
			case tt.insecure:
				if !errors.Is(err, sources.ErrInsecure) {
					t.Fatalf("err = %v, want ErrInsecure", err)
				}
				if plain.count() != before {
					t.Error("the plain-http target was contacted")
				}
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			default:
				if err != nil || string(body) != "plain" {
					t.Fatalf("Fetch = %q, %v", body, err)
				}
			}
		})
	}
}

// TestTokenScoping: the token goes to TokenHost only, per hop and per
// attempt, never to the host a redirect leads to.
func TestTokenScoping(t *testing.T) {
	type seen struct{ auth, agent string }
	var mu sync.Mutex
	var apiSeen, otherSeen []seen
	other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherSeen = append(otherSeen, seen{r.Header.Get("Authorization"), r.UserAgent()})
		mu.Unlock()
		w.Write([]byte("asset"))
	})
	var api *server
	api = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		apiSeen = append(apiSeen, seen{r.Header.Get("Authorization"), r.UserAgent()})
		mu.Unlock()
		if api.count() == 1 {
			w.WriteHeader(http.StatusBadGateway) // the retry must carry the token too
			return
		}
		http.Redirect(w, r, other.URL+"/asset.zip", http.StatusFound)
	})
	c := testClient(t, Options{Token: "s3cret", TokenHost: api.Listener.Addr().String()})

	body, _, err := c.Fetch(t.Context(), api.URL+"/repos/o/r/releases/assets/1", nil, 0)
	if err != nil || string(body) != "asset" {
		t.Fatalf("Fetch = %q, %v", body, err)
	}
	// Straight to the other host, and through HTTPClient with a header set
	// by hand (as go-github's WithAuthToken would): no token either.
	if _, _, err := c.Fetch(t.Context(), other.URL+"/x", nil, 0); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, other.URL+"/y", nil)
	req.Header.Set("Authorization", "Bearer leaked")
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(apiSeen) != 2 {
		t.Fatalf("api saw %d requests, want 2", len(apiSeen))
	}
	for i, s := range apiSeen {
		if s.auth != "Bearer s3cret" || s.agent != "modup-test/1" {
			t.Errorf("api request %d: %+v", i, s)
		}
	}
	if len(otherSeen) != 3 {
		t.Fatalf("other saw %d requests, want 3", len(otherSeen))
	}
	for i, s := range otherSeen {
		if s.auth != "" || s.agent != "modup-test/1" {
			t.Errorf("other request %d: %+v", i, s)
		}
	}
}

func TestTokenHostMatching(t *testing.T) {
	tests := []struct {
		tokenHost, url string
		want           bool
	}{
		{"api.github.com", "https://api.github.com/repos/o/r", true},
		{"api.github.com", "https://API.github.com:443/repos/o/r", true},
		{"api.github.com:443", "https://api.github.com/x", true},
		{"https://api.github.com", "https://api.github.com/x", true},
		{"api.github.com", "https://api.github.com.evil.com/x", false},
		{"api.github.com", "https://github.com/x", false},
		{"api.github.com", "https://api.github.com:8443/x", false},
		{"api.github.com", "http://api.github.com/x", false},
		{"http://api.example.com", "http://api.example.com/x", false}, // plain http off loopback
		{"127.0.0.1:8080", "http://127.0.0.1:8080/x", true},
		{"127.0.0.1:8080", "http://127.0.0.1:8081/x", false},
		{"localhost:8080", "http://localhost:8080/x", true},
		{"api.github.com", "::not a url", false},
	}
	for _, tt := range tests {
		c := New(Options{Token: "t", TokenHost: tt.tokenHost})
		if got := c.Authorized(tt.url); got != tt.want {
			t.Errorf("TokenHost %q, %s: Authorized = %v, want %v", tt.tokenHost, tt.url, got, tt.want)
		}
	}
	if New(Options{TokenHost: "api.github.com"}).Authorized("https://api.github.com/x") {
		t.Error("Authorized without a token = true")
	}
}

// TestHTTPClient: the client for go-github retries, and its Transport sends
// one hop (go-github's "do not follow redirects" path calls RoundTrip).
func TestHTTPClient(t *testing.T) {
	var srv *server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/archive":
			http.Redirect(w, r, "/codeload/x.zip", http.StatusFound)
		case "/flaky":
			if srv.count() == 1 {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			w.Write([]byte("ok"))
		default:
			w.Write([]byte("zip"))
		}
	})
	hc := testClient(t, Options{}).HTTPClient()

	resp, err := hc.Get(srv.URL + "/flaky")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("Get = %v, %v", resp, err)
	}
	resp.Body.Close()
	if srv.count() != 2 {
		t.Errorf("server saw %d requests, want 2", srv.count())
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/archive", nil)
	resp, err = hc.Transport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/codeload/x.zip" {
		t.Errorf("RoundTrip = %s, Location %q; want the redirect itself", resp.Status, resp.Header.Get("Location"))
	}

	// A hop that go-github follows by hand still passes CheckURL.
	req, _ = http.NewRequestWithContext(t.Context(), http.MethodGet, "http://example.com/x", nil)
	if _, err := hc.Transport.RoundTrip(req); !errors.Is(err, sources.ErrInsecure) {
		t.Errorf("RoundTrip to plain http: %v", err)
	}

	// 500 forever: go-github gets the last response, not an error.
	srv2 := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	resp, err = hc.Get(srv2.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || srv2.count() != 4 {
		t.Errorf("status %d after %d requests", resp.StatusCode, srv2.count())
	}
}

func TestResponseError(t *testing.T) {
	c := New(Options{})
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/o/r/releases/latest", nil)
	resp := &http.Response{StatusCode: 404, Status: "404 Not Found", Header: http.Header{}, Request: req}
	if err := c.ResponseError(req.URL.String(), resp); !errors.Is(err, sources.ErrNotFound) || !strings.Contains(err.Error(), req.URL.String()) {
		t.Errorf("404: %v", err)
	}
	resp = &http.Response{StatusCode: 403, Header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1893456000"}}, Request: req}
	var rl *sources.RateLimitError
	if err := c.ResponseError(req.URL.String(), resp); !errors.As(err, &rl) || rl.Host != "api.github.com" || rl.Reset.Unix() != 1893456000 {
		t.Errorf("403 rate limit: %v", err)
	}
	resp = &http.Response{StatusCode: 200, Header: http.Header{}, Request: req}
	if err := c.ResponseError(req.URL.String(), resp); err != nil {
		t.Errorf("200: %v", err)
	}
}

func TestDefaultTransport(t *testing.T) {
	c := New(Options{})
	tr, ok := c.base.(*http.Transport)
	if !ok {
		t.Fatalf("base transport is %T", c.base)
	}
	if reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("proxy does not come from the environment")
	}
	if tr.MaxIdleConnsPerHost < 64 || tr.ResponseHeaderTimeout != DefaultHeaderTimeout || tr.TLSHandshakeTimeout != DefaultConnectTimeout || tr.DisableKeepAlives {
		t.Errorf("transport not tuned: %+v", tr)
	}
	if c.retry.RetryMax != DefaultRetryMax || c.retry.RetryWaitMin != DefaultRetryWaitMin || c.retry.RetryWaitMax != DefaultRetryWaitMax {
		t.Errorf("retry defaults: %d %v %v", c.retry.RetryMax, c.retry.RetryWaitMin, c.retry.RetryWaitMax)
	}
	if c.retry.Logger != nil {
		t.Errorf("retryablehttp logs to %T without a Logger", c.retry.Logger)
	}
}

// TestLoggerDebugOnly: retryablehttp's records (its failed attempts are
// "errors" to it) reach the slog Logger at debug level only.
func TestLoggerDebugOnly(t *testing.T) {
	var srv *server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if srv.count() == 1 {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		w.Write([]byte("ok"))
	})
	h := &recordHandler{}
	c := testClient(t, Options{Logger: slog.New(h)})
	if _, _, err := c.Fetch(t.Context(), srv.URL, nil, 0); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.levels) == 0 {
		t.Fatal("no records")
	}
	for i, l := range h.levels {
		if l != slog.LevelDebug {
			t.Errorf("record %q at %v", h.msgs[i], l)
		}
	}
}
