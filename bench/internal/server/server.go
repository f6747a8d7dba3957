// Package server is the loopback web source of the benchmarks: static
// files (release zips and their manifest) with ETag, Range and sendfile,
// plus synthetic package folders /p/<name>/a2modsource.json for any name,
// and counters of what it answered.
package server

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modup/modup/bench/internal/workload"
)

// Counts are the answers given since the last Reset.
type Counts struct {
	Requests  int64 // every request
	OK        int64 // 200 and 206
	NotMod    int64 // 304
	Other     int64 // anything else (404, ...)
	BodyBytes int64 // bytes of bodies written
}

// Server serves dir under /static/ and synthetic packages under /p/.
type Server struct {
	URL string // http://127.0.0.1:PORT

	dir string
	srv *http.Server
	ln  net.Listener

	requests, ok, notMod, other, body atomic.Int64

	mu    sync.Mutex
	first map[string]time.Time // path -> first request since Reset
	// version is what every synthetic package points to.
	version string
	zips    sync.Map // "name@version" → workload.Small
}

// Start listens on a free loopback port.
func Start(dir string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, ln: ln, first: map[string]time.Time{}, version: "1.0.0"}
	s.URL = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Reset zeroes the counters and forgets first-request times.
func (s *Server) Reset() {
	s.requests.Store(0)
	s.ok.Store(0)
	s.notMod.Store(0)
	s.other.Store(0)
	s.body.Store(0)
	s.mu.Lock()
	clear(s.first)
	s.mu.Unlock()
}

// Counts returns the counters.
func (s *Server) Counts() Counts {
	return Counts{Requests: s.requests.Load(), OK: s.ok.Load(), NotMod: s.notMod.Load(), Other: s.other.Load(), BodyBytes: s.body.Load()}
}

// FirstRequest returns when path was first asked for since Reset.
func (s *Server) FirstRequest(p string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[p]
	return t, ok
}

// countingWriter records the status and body size of an answer.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom keeps sendfile for static files.
func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

// Unwrap lets http.ResponseController and io.Copy reach the real writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	s.requests.Add(1)
	s.mu.Lock()
	if _, ok := s.first[r.URL.Path]; !ok {
		s.first[r.URL.Path] = now
	}
	s.mu.Unlock()
	cw := &countingWriter{ResponseWriter: w}
	switch {
	case strings.HasPrefix(r.URL.Path, "/p/"):
		s.synthetic(cw, r)
	case strings.HasPrefix(r.URL.Path, "/static/"):
		s.static(cw, r)
	default:
		http.NotFound(cw, r)
	}
	s.body.Add(cw.n)
	switch cw.status {
	case http.StatusOK, http.StatusPartialContent, 0:
		s.ok.Add(1)
	case http.StatusNotModified:
		s.notMod.Add(1)
	default:
		s.other.Add(1)
	}
}

// synthetic answers /p/<name>/a2modsource.json with a manifest at the
// server's version, declaring the sha256 and zip_size of
// /p/<name>/<version>.zip, a small release zip of that package; both with
// an ETag and Last-Modified, and 304 to a matching conditional request.
// Any other path under /p/ is 404.
func (s *Server) synthetic(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/p/")
	name, file, ok := strings.Cut(rest, "/")
	if !ok || name == "" || strings.Contains(file, "/") {
		http.NotFound(w, r)
		return
	}
	zip := s.smallZip(name, s.version)
	var body []byte
	switch file {
	case "a2modsource.json":
		body = workload.ManifestJSON(name, s.version, "", map[string]any{"sha256": zip.SHA256, "zip_size": len(zip.Data)})
	case s.version + ".zip":
		body = zip.Data
	default:
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"%s-%s-%d"`, name, s.version, len(file))
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if strings.HasSuffix(file, ".zip") {
		w.Header().Set("Content-Type", "application/zip")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// smallZip is the release zip of a synthetic package, made once.
func (s *Server) smallZip(name, version string) workload.Small {
	key := name + "@" + version
	if z, ok := s.zips.Load(key); ok {
		return z.(workload.Small)
	}
	z, _ := s.zips.LoadOrStore(key, workload.SmallZip(name, version))
	return z.(workload.Small)
}

// static serves a file of dir, with Range and conditional requests.
func (s *Server) static(w http.ResponseWriter, r *http.Request) {
	rel := path.Clean(strings.TrimPrefix(r.URL.Path, "/static/"))
	if rel == "." || strings.HasPrefix(rel, "..") {
		http.NotFound(w, r)
		return
	}
	f, err := os.Open(filepath.Join(s.dir, filepath.FromSlash(rel)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, fi.Size(), fi.ModTime().UnixNano()))
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}
