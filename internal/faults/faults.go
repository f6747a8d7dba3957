// Package faults is a release server that misbehaves on purpose: an
// httptest server serving a release folder (a2modsource.json and
// <version>.zip files) where each path can be given a fault, such as a
// connection reset halfway through the body, a storm of 500s, a rate
// limit, a body that drips one byte per second, a server that never sends
// headers, a redirect loop or an HTML page where a zip belongs. Tests of every layer that speaks HTTP use it to
// check that modup fails cleanly, or recovers, when the network or the
// remote lies.
//
//	srv := faults.New(t, releaseDir)
//	srv.Inject("/2.0.0.zip", faults.Reset())
//	... update_url srv.URL ...
//
// Every request is recorded (Requests), with whether it carried an
// Authorization header, so that a test can check where a token travelled.
package faults

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request the server saw.
type Request struct {
	Method string
	Path   string
	// Auth is the Authorization header ("" when none came along).
	Auth string
	// Fault names the fault that answered it ("" when served normally).
	Fault string
}

// Server is a release folder served over HTTP (or HTTPS) with faults.
type Server struct {
	*httptest.Server

	mu       sync.Mutex
	files    map[string][]byte // "/name" -> content
	faults   map[string]*armed
	requests []Request
}

type armed struct {
	f    Fault
	hits int
}

// New serves the regular files of dir (which may be "" for none; add files
// with Put) over plain HTTP on loopback until the test ends.
func New(t testing.TB, dir string) *Server {
	t.Helper()
	s := newServer(t, dir)
	s.Server = httptest.NewUnstartedServer(s)
	s.Config.ErrorLog = quiet
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// NewTLS is New over HTTPS with httptest's self-signed certificate. Clients
// must trust it: pass s.Client().Transport as httpx.Options.Transport.
func NewTLS(t testing.TB, dir string) *Server {
	t.Helper()
	s := newServer(t, dir)
	s.Server = httptest.NewUnstartedServer(s)
	s.Config.ErrorLog = quiet
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// quiet drops the server's own log (TLS handshakes a test refuses on
// purpose, connections its faults cut).
var quiet = log.New(io.Discard, "", 0)

func newServer(t testing.TB, dir string) *Server {
	t.Helper()
	s := &Server{files: map[string][]byte{}, faults: map[string]*armed{}}
	if dir == "" {
		return s
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("faults: %v", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("faults: %v", err)
		}
		s.files["/"+e.Name()] = data
	}
	return s
}

// Put serves data at urlPath ("/2.0.0.zip"), replacing what was there.
func (s *Server) Put(urlPath string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[clean(urlPath)] = slices.Clone(data)
}

// File returns what is served at urlPath.
func (s *Server) File(urlPath string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[clean(urlPath)]
	return b, ok
}

// Inject makes f answer the requests of urlPath from now on, with its hit
// count starting again at zero. A nil f removes the fault.
func (s *Server) Inject(urlPath string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		delete(s.faults, clean(urlPath))
		return
	}
	s.faults[clean(urlPath)] = &armed{f: f}
}

// Clear removes every fault and forgets the recorded requests.
func (s *Server) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
	s.requests = nil
}

// Requests returns the requests seen so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Paths lists the served paths, sorted.
func (s *Server) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.files))
}

func clean(p string) string { return path.Clean("/" + p) }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := clean(r.URL.Path)
	s.mu.Lock()
	body, ok := s.files[p]
	a := s.faults[p]
	hit := 0
	name := ""
	if a != nil {
		a.hits++
		hit = a.hits
		name = a.f.Name()
	}
	s.requests = append(s.requests, Request{Method: r.Method, Path: p, Auth: r.Header.Get("Authorization"), Fault: name})
	s.mu.Unlock()

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if a != nil && a.f.serve(w, r, body, hit) {
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveBody(w, r, body)
}

// serveBody answers normally: 200 with Content-Length, no body for HEAD.
func serveBody(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", contentType(r.URL.Path))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".zip":
		return "application/zip"
	case ".json":
		return "application/json"
	}
	return "application/octet-stream"
}

// Fault is one kind of misbehaviour. Build faults with the functions of
// this package.
type Fault interface {
	// Name says what the fault does, for test names and logs.
	Name() string
	// serve answers a request of a path whose content is body (nil when
	// there is none); hit counts this path's requests since the fault was
	// injected, from 1. It reports false to have the request served
	// normally instead.
	serve(w http.ResponseWriter, r *http.Request, body []byte, hit int) bool
}

type fault struct {
	name string
	fn   func(w http.ResponseWriter, r *http.Request, body []byte, hit int) bool
}

func (f *fault) Name() string { return f.name }

func (f *fault) serve(w http.ResponseWriter, r *http.Request, body []byte, hit int) bool {
	return f.fn(w, r, body, hit)
}

// half is how much of a body the cutting faults send: half, at least one
// byte when there is any.
func half(body []byte) []byte {
	n := len(body) / 2
	if n == 0 && len(body) > 0 {
		n = 1
	}
	return body[:n]
}

// hijack takes over the connection of w, with anything buffered flushed.
func hijack(w http.ResponseWriter) (net.Conn, *bufio.ReadWriter, bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return nil, nil, false // HTTP/2: not used by these tests
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		return nil, nil, false
	}
	return conn, rw, true
}

// Reset sends the headers (declaring the full length) and half the body of
// every GET, then resets the connection (TCP RST). HEAD is answered
// normally.
func Reset() Fault {
	return &fault{name: "reset mid-body", fn: func(w http.ResponseWriter, r *http.Request, body []byte, _ int) bool {
		if r.Method == http.MethodHead {
			return false
		}
		conn, rw, ok := hijack(w)
		if !ok {
			return false
		}
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n", contentType(r.URL.Path), len(body))
		rw.Write(half(body))
		rw.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST, not FIN
		}
		conn.Close()
		return true
	}}
}

// CutShort sends half the body of every GET and closes the connection.
// With withLength the headers declare the full length, so the client sees
// an unexpected EOF (HEAD is answered normally); without, the answer (to
// HEAD too) is HTTP/1.1 with "Connection: close" and no length, so the
// short body reads as a clean EOF and only a declared size or checksum (or
// the zip's own structure) can tell.
func CutShort(withLength bool) Fault {
	name := "cut short without Content-Length"
	if withLength {
		name = "cut short with Content-Length"
	}
	return &fault{name: name, fn: func(w http.ResponseWriter, r *http.Request, body []byte, _ int) bool {
		if r.Method == http.MethodHead && withLength {
			return false
		}
		conn, rw, ok := hijack(w)
		if !ok {
			return false
		}
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\n", contentType(r.URL.Path))
		if withLength {
			fmt.Fprintf(rw, "Content-Length: %d\r\n", len(body))
		}
		rw.WriteString("\r\n")
		if r.Method != http.MethodHead {
			rw.Write(half(body))
		}
		rw.Flush()
		conn.Close()
		return true
	}}
}

// Status answers code (with a short text body) to the first n requests,
// then serves normally; n < 0 means forever.
func Status(code, n int) Fault {
	name := fmt.Sprintf("%d %d times, then 200", code, n)
	if n < 0 {
		name = fmt.Sprintf("%d forever", code)
	}
	return &fault{name: name, fn: func(w http.ResponseWriter, r *http.Request, _ []byte, hit int) bool {
		if n >= 0 && hit > n {
			return false
		}
		http.Error(w, http.StatusText(code), code)
		return true
	}}
}

// TooManyRequests answers 429 with "Retry-After: retryAfter" (seconds) to
// the first n requests, then serves normally; n < 0 means forever.
func TooManyRequests(retryAfter, n int) Fault {
	return &fault{name: fmt.Sprintf("429 Retry-After %ds ×%d", retryAfter, n), fn: func(w http.ResponseWriter, r *http.Request, _ []byte, hit int) bool {
		if n >= 0 && hit > n {
			return false
		}
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return true
	}}
}

// GitHubRateLimit answers every request as GitHub does when the quota is
// spent: 403 with x-ratelimit-remaining: 0 and x-ratelimit-reset.
func GitHubRateLimit(reset time.Time) Fault {
	return &fault{name: "403 GitHub rate limit", fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		h := w.Header()
		h.Set("X-Ratelimit-Limit", "60")
		h.Set("X-Ratelimit-Remaining", "0")
		h.Set("X-Ratelimit-Used", "60")
		h.Set("X-Ratelimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"message":"API rate limit exceeded","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`)
		return true
	}}
}

// Drip sends the headers (declaring the full length) of every GET at once,
// then one byte of the body every interval, until the body is done or the
// client goes away. HEAD is answered normally.
func Drip(every time.Duration) Fault {
	return &fault{name: "drip one byte per " + every.String(), fn: func(w http.ResponseWriter, r *http.Request, body []byte, _ int) bool {
		if r.Method == http.MethodHead {
			return false
		}
		w.Header().Set("Content-Type", contentType(r.URL.Path))
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		rc := http.NewResponseController(w)
		t := time.NewTicker(every)
		defer t.Stop()
		for i := range body {
			if _, err := w.Write(body[i : i+1]); err != nil {
				return true
			}
			if rc.Flush() != nil {
				return true
			}
			select {
			case <-r.Context().Done():
				return true
			case <-t.C:
			}
		}
		return true
	}}
}

// NoHeaders never answers: each request (HEAD too) waits, without a
// status line, until the client goes away.
func NoHeaders() Fault {
	return &fault{name: "no headers, ever", fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		<-r.Context().Done()
		return true
	}}
}

// RedirectLoop sends every request of a path to path+"/again" and that back
// to the path, for ever.
func RedirectLoop() Fault {
	return &fault{name: "redirect loop", fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		to := r.URL.Path + "?again=1"
		if r.URL.Query().Get("again") != "" {
			to = r.URL.Path
		}
		http.Redirect(w, r, to, http.StatusFound)
		return true
	}}
}

// RedirectTo answers every request with a 302 to target, an absolute URL
// (another host, or plain http from an https server); when target ends in
// '/', the request's path is appended.
func RedirectTo(target string) Fault {
	return &fault{name: "redirect to " + target, fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		to := target
		if strings.HasSuffix(to, "/") {
			to = strings.TrimSuffix(to, "/") + r.URL.Path
		}
		http.Redirect(w, r, to, http.StatusFound)
		return true
	}}
}

// CaptivePage is the page HTML answers with.
const CaptivePage = `<!DOCTYPE html>
<html><head><title>Welcome to Airport Wi-Fi</title></head>
<body><form action="/login" method="post"><p>Please accept the terms to continue.</p>
<input type="submit" value="Accept"></form></body></html>
`

// HTML answers every request with 200 and a captive portal's login page,
// as hotel and airport networks do.
func HTML() Fault {
	return &fault{name: "200 with an HTML page", fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(CaptivePage)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			fmt.Fprint(w, CaptivePage)
		}
		return true
	}}
}

// HugeLength declares a Content-Length of n bytes, sends the real body
// (much shorter) and closes the connection.
func HugeLength(n int64) Fault {
	return &fault{name: fmt.Sprintf("Content-Length %d", n), fn: func(w http.ResponseWriter, r *http.Request, body []byte, _ int) bool {
		conn, rw, ok := hijack(w)
		if !ok {
			return false
		}
		fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", contentType(r.URL.Path), n)
		if r.Method != http.MethodHead {
			rw.Write(body)
		}
		rw.Flush()
		conn.Close()
		return true
	}}
}

// Replace serves data instead of the path's content (a corrupted or
// hostile payload) with a correct Content-Length.
func Replace(name string, data []byte) Fault {
	data = slices.Clone(data)
	return &fault{name: name, fn: func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) bool {
		serveBody(w, r, data)
		return true
	}}
}

// FlipByte serves the content with one byte in the middle inverted.
func FlipByte() Fault {
	return &fault{name: "one byte flipped", fn: func(w http.ResponseWriter, r *http.Request, body []byte, _ int) bool {
		b := slices.Clone(body)
		if len(b) > 0 {
			b[len(b)/2] ^= 0xff
		}
		serveBody(w, r, b)
		return true
	}}
}

// OnlyGET applies f to GET requests and answers HEAD normally: a server
// whose HEAD tells the truth while its downloads misbehave.
func OnlyGET(f Fault) Fault {
	return &fault{name: f.Name() + " (GET only)", fn: func(w http.ResponseWriter, r *http.Request, body []byte, hit int) bool {
		if r.Method == http.MethodHead {
			return false
		}
		return f.serve(w, r, body, hit)
	}}
}
