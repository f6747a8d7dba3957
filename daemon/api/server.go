// Package api is the daemon's HTTP service: a JSON API over the same
// daemon and updater calls as the CLI, a Server-Sent Events stream of what
// happens, Prometheus metrics and an embedded web page.
//
// Secure by default: it listens on loopback unless told otherwise; every
// /v1 request needs the bearer token (see LoadOrCreateToken), and so does
// /metrics unless MetricsPublic; a Host header other than the listen
// address, localhost or 127.0.0.1 is refused (DNS rebinding); no CORS
// header is ever sent; request bodies are capped; event streams are
// capped.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/updater"
)

// Defaults of Options.
const (
	DefaultMaxBody    = 64 << 10
	DefaultMaxStreams = 8
)

// Backend is what the service asks of the daemon.
type Backend interface {
	StateSource
	Info(ctx context.Context) (daemon.Info, error)
	Check(ctx context.Context, names []string) ([]updater.Result, error)
	Update(ctx context.Context, names []string, opts updater.UpdateOptions) ([]updater.Change, error)
	Rollback(ctx context.Context, name string, opts updater.RollbackOptions) (updater.Change, error)
	Hold(ctx context.Context, name string, opts updater.HoldOptions) (updater.Change, error)
	Unhold(ctx context.Context, name string, opts updater.HoldOptions) (updater.Change, error)
	Roots() []string
}

var _ Backend = (*daemon.Daemon)(nil)

// Options configure a Server.
type Options struct {
	Backend Backend
	// Token is the bearer token every /v1 request must carry.
	Token string
	// AllowHosts are host names accepted in the Host header besides the
	// listen address's, localhost, 127.0.0.1 and ::1.
	AllowHosts []string
	// MetricsPublic serves /metrics without the token.
	MetricsPublic bool
	// MaxBody caps a request body (default DefaultMaxBody).
	MaxBody int64
	// Hub fans events out to streams (default: NewHub(DefaultMaxStreams));
	// it must be among the daemon's observers.
	Hub *Hub
	// Metrics serves /metrics (nil: /metrics is 404); it must be among
	// the daemon's observers.
	Metrics *Metrics
	Logger  *slog.Logger
	// Heartbeat is the interval of the event stream's keep-alive comments
	// (default 15s).
	Heartbeat time.Duration
	// Now is the clock of login codes (tests); time.Now when nil.
	Now func() time.Time
}

// Server is the HTTP service.
type Server struct {
	opts  Options
	log   *slog.Logger
	hosts map[string]bool
	mux   *http.ServeMux
	page  *assets
	// logins are the codes `modup ui` opens the page with.
	logins loginCodes
}

// New builds a server; Serve runs it.
func New(opts Options) (*Server, error) {
	if opts.Backend == nil {
		return nil, errors.New("api: no backend")
	}
	if len(opts.Token) < 16 {
		return nil, errors.New("api: the token is missing or too short")
	}
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Hub == nil {
		opts.Hub = NewHub(DefaultMaxStreams)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = 15 * time.Second
	}
	page, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, log: opts.Logger, hosts: map[string]bool{}, page: page}
	for _, h := range append([]string{"localhost", "127.0.0.1", "::1"}, opts.AllowHosts...) {
		s.hosts[normalHost(h)] = true
	}
	s.routes()
	return s, nil
}

// routes is the table of endpoints.
func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /{$}", s.page.serve("index.html"))
	m.HandleFunc("GET /assets/{file}", s.assetFile)

	v1 := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.auth(h)) }
	v1("GET /v1/status", s.status)
	v1("GET /v1/packages", s.packages)
	v1("GET /v1/packages/{name}", s.onePackage)
	v1("POST /v1/check", s.check)
	v1("POST /v1/update", s.updateAll)
	v1("POST /v1/update/{name}", s.updateOne)
	v1("POST /v1/rollback/{name}", s.rollback)
	v1("POST /v1/hold/{name}", s.hold)
	v1("POST /v1/unhold/{name}", s.unhold)
	v1("GET /v1/history", s.history)
	v1("GET /v1/events", s.events)
	v1("POST /v1/login-code", s.loginCode)
	m.HandleFunc("POST /v1/login", s.login)

	if s.opts.Metrics != nil {
		metrics := s.opts.Metrics.Handler()
		if !s.opts.MetricsPublic {
			metrics = s.auth(metrics)
		}
		m.Handle("GET /metrics", metrics)
	}
	s.mux = m
}

// Handler is the whole service with its middleware, outermost first:
// request log, security headers, Host check, body cap, then the routes
// (JSON errors for unknown paths and methods).
func (s *Server) Handler() http.Handler {
	return chain(http.HandlerFunc(s.route), s.logRequests, securityHeaders, s.checkHost, s.limitBody)
}

// chain wraps h in mw, the first outermost.
func chain(h http.Handler, mw ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// Serve serves on ln until ctx is cancelled, then closes the event
// streams and lets requests in progress finish (at most shutdownGrace).
// The listen address joins the accepted Host names.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		ip := net.ParseIP(host)
		if ip == nil || !ip.IsUnspecified() {
			s.hosts[normalHost(host)] = true
		}
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	s.opts.Hub.Close()
	shut, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil {
		srv.Close()
	}
	<-done
	return nil
}

// shutdownGrace bounds the wait for requests in progress at shutdown (a
// check or an update the daemon stops anyway).
const shutdownGrace = 10 * time.Second

// route dispatches r, answering an unknown path or method with a JSON
// error (the mux's own answers are plain text).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch probe.code {
	case http.StatusMethodNotAllowed:
		writeError(w, probe.code, fmt.Errorf("%s %s: method not allowed (allowed: %s)", r.Method, r.URL.Path, probe.header.Get("Allow")))
	default:
		writeError(w, http.StatusNotFound, fmt.Errorf("%s: no such endpoint (the API is under /v1/, e.g. GET /v1/packages)", r.URL.Path))
	}
}

// statusProbe records the status a handler answers, discarding its body.
type statusProbe struct {
	header http.Header
	code   int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int) {
	if p.code == 0 {
		p.code = code
	}
}

// normalHost is a Host header's or address's host name, lower case,
// without port or brackets.
func normalHost(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.Trim(h, "[]"))
}

// checkHost refuses a Host header naming anything but this service: a
// page of another site whose name resolves to 127.0.0.1 (DNS rebinding)
// sends its own name.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hosts[normalHost(r.Host)] {
			writeError(w, http.StatusForbidden, fmt.Errorf("host %q is not this service's (use the listen address, localhost or 127.0.0.1)", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// limitBody caps request bodies at MaxBody: a declared length over it is
// refused at once, a longer body fails its read (413 either way).
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.opts.MaxBody {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes is over the limit of %d", r.ContentLength, s.opts.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		next.ServeHTTP(w, r)
	})
}

// auth requires the bearer token.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !sameToken(strings.TrimSpace(got), s.opts.Token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="modup"`)
			msg := "missing token: send Authorization: Bearer TOKEN (`modup api-token` prints it)"
			if ok {
				msg = "wrong token (`modup api-token` prints the right one)"
			}
			writeError(w, http.StatusUnauthorized, errors.New(msg))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders keeps the page and the API out of other sites' frames
// and scripts. No CORS header is ever set: other origins cannot read
// answers, and cannot send the Authorization header without a preflight
// this service does not answer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// logRequests logs each request at debug level: never its headers (the
// token) nor its query.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.code,
			"remote", r.RemoteAddr, "duration", time.Since(start).Round(time.Millisecond))
	})
}

// statusRecorder notes the status written; it passes Flush on (event
// streams need it).
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
