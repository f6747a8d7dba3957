// Package serve answers an index's documents over HTTP, read-only: each
// at its path and at its path plus ".json" (the names an export has), with
// ETag and Last-Modified, 304 to a matching conditional request, and gzip
// when the client asks. Names are matched exactly: a path with dot
// segments, an escaped character or an unknown name is a 404.
//
// The documents come from a Site built from one snapshot of the store; a
// refresh (in this process or another) bumps the store's revision, and
// the server builds the next Site in the background while requests go on
// being answered from the current one.
package serve

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/index/publish"
	"github.com/modup/modup/index/store"
	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/sources"
)

// Options configure a Server.
type Options struct {
	// Mirror is the folder of mirrored zips served under /mirror/ ("" for
	// none: documents then carry no mirror_url).
	Mirror string
	Logger *slog.Logger
	// CheckEvery bounds how often a request asks the store whether it
	// changed (default 1 s).
	CheckEvery time.Duration
	// Signer, when set, signs the package list and every package's info
	// (served beside them as NAME.json.minisig). Signatures are made
	// afresh for each new snapshot and whenever half their validity has
	// passed, so a serving index never hands out an expired one.
	Signer *publish.Signer
}

// Server is the index's HTTP handler.
type Server struct {
	store  *store.Store
	opt    Options
	writer publish.Writer
	log    *slog.Logger
	mux    *http.ServeMux

	cur       atomic.Pointer[state]
	checked   atomic.Int64 // UnixNano of the last revision check
	rebuildMu sync.Mutex   // one rebuild at a time
}

// state is one Site and the documents rendered from it so far.
type state struct {
	site     *publish.Site
	rendered sync.Map // file name → *rendered (documents and signatures)
	made     time.Time
}

// rendered is one document's bytes, ready to send.
type rendered struct {
	name     string // the file name: a document's .json, or its .minisig
	body     []byte
	etag     string
	modified time.Time

	gzOnce sync.Once
	gz     []byte
}

// New builds the server and its first Site.
func New(ctx context.Context, st *store.Store, opt Options) (*Server, error) {
	if opt.CheckEvery <= 0 {
		opt.CheckEvery = time.Second
	}
	s := &Server{store: st, opt: opt, log: opt.Logger, writer: publish.Writer{Signer: opt.Signer}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	s.mux = s.routes()
	return s, nil
}

// Reload builds a new Site when the store's revision moved (a refresh
// committed), and swaps it in; requests meanwhile use the current one.
func (s *Server) Reload(ctx context.Context) error {
	s.rebuildMu.Lock()
	defer s.rebuildMu.Unlock()
	rev, err := s.store.Revision(ctx)
	if err != nil {
		return fmt.Errorf("read index: %w", err)
	}
	if cur := s.cur.Load(); cur != nil && cur.site.Revision == rev {
		return nil
	}
	snap, err := s.store.Snapshot(ctx)
	if err != nil {
		return err
	}
	s.cur.Store(&state{site: publish.Build(snap, publish.Options{Mirror: s.opt.Mirror != ""}), made: time.Now()})
	return nil
}

// Root is the root document of the current Site.
func (s *Server) Root() doc.Root { return s.cur.Load().site.Root() }

// current is the Site to answer from; at most every CheckEvery it starts a
// reload in the background when the store moved.
func (s *Server) current(ctx context.Context) *state {
	if sg := s.opt.Signer; sg != nil {
		// Signatures older than half their validity are made again: the
		// same Site, rendered and signed afresh.
		if st := s.cur.Load(); time.Since(st.made) > sg.ValidForOrDefault()/2 {
			s.cur.CompareAndSwap(st, &state{site: st.site, made: time.Now()})
		}
	}
	now := time.Now().UnixNano()
	last := s.checked.Load()
	if now-last >= int64(s.opt.CheckEvery) && s.checked.CompareAndSwap(last, now) {
		go func() {
			if err := s.Reload(context.WithoutCancel(ctx)); err != nil {
				s.log.Warn("index reload", "error", err)
			}
		}()
	}
	return s.cur.Load()
}

// ServeHTTP implements http.Handler: read-only, exact paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		jsonError(w, http.StatusMethodNotAllowed, "the index is read-only: GET or HEAD")
		return
	}
	if !exactPath(r) {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	s.mux.ServeHTTP(w, r)
}

// exactPath refuses what a name can never be: escaped characters (an
// encoded slash), dot segments, empty segments.
func exactPath(r *http.Request) bool {
	p := r.URL.Path
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	if r.URL.RawPath != "" || strings.Contains(rawPath, "%") || !strings.HasPrefix(p, "/") {
		return false
	}
	for _, seg := range strings.Split(p[1:], "/") {
		if seg == "." || seg == ".." || (seg == "" && p != "/") {
			return false
		}
	}
	return true
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	fixed := func(path string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { s.serveDoc(w, r, path) }
	}
	mux.Handle("/{$}", fixed(doc.RootPath))
	mux.Handle("/"+doc.RootFile, fixed(doc.RootPath))
	for _, p := range []string{doc.ListPath, doc.PackageListPath, doc.ModuleListPath} {
		mux.Handle(p, fixed(p))
		mux.Handle(p+".json", fixed(p))
	}
	mux.HandleFunc(doc.PackageListPath+".json"+doc.SignatureSuffix, func(w http.ResponseWriter, r *http.Request) {
		s.serveFile(w, r, doc.PackageListPath, doc.FileName(doc.PackageListPath)+doc.SignatureSuffix)
	})
	mux.HandleFunc(doc.PackageInfosPath, s.serveInfos)
	mux.HandleFunc(doc.PackageInfosPath+".json", s.serveInfos)
	mux.HandleFunc(doc.PackageInfosPath+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.serveNamed(w, r, doc.PackageInfoPath)
	})
	mux.HandleFunc(doc.ModuleInfosDir+"/{name}", func(w http.ResponseWriter, r *http.Request) {
		s.serveNamed(w, r, doc.ModuleInfoPath)
	})
	mux.HandleFunc("/mirror/{name}/{file}", s.serveMirror)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		jsonError(w, http.StatusNotFound, "not found")
	})
	return mux
}

// serveNamed answers /info/.../NAME, /info/.../NAME.json and, in a signed
// index, /info/.../NAME.json.minisig.
func (s *Server) serveNamed(w http.ResponseWriter, r *http.Request, path func(string) string) {
	name, sig := strings.CutSuffix(r.PathValue("name"), ".json"+doc.SignatureSuffix)
	if !sig {
		name = strings.TrimSuffix(name, ".json")
	}
	if !doc.ValidName(name) {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	if sig {
		s.serveFile(w, r, path(name), doc.FileName(path(name))+doc.SignatureSuffix)
		return
	}
	s.serveDoc(w, r, path(name))
}

// serveInfos answers /info/packages: every package's info, or with
// ?names=a,b those named.
func (s *Server) serveInfos(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !q.Has("names") {
		s.serveDoc(w, r, doc.PackageInfosPath)
		return
	}
	var names []string
	for n := range strings.SplitSeq(q.Get("names"), ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !doc.ValidName(n) {
			jsonError(w, http.StatusBadRequest, fmt.Sprintf("names: %q is not a package name", n))
			return
		}
		names = append(names, n)
	}
	st := s.current(r.Context())
	rd, err := s.render(doc.PackageInfosPath, st.site.Infos(names), st.site.Root().Generated)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	send(w, r, rd)
}

// serveDoc answers the document at path, rendered once per Site.
func (s *Server) serveDoc(w http.ResponseWriter, r *http.Request, path string) {
	s.serveFile(w, r, path, doc.FileName(path))
}

// serveFile answers one file of the document at path (the document's own,
// or its signature), rendered once per state.
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, path, file string) {
	st := s.current(r.Context())
	if v, ok := st.rendered.Load(file); ok {
		send(w, r, v.(*rendered))
		return
	}
	d, mod, ok := st.site.Document(path)
	if !ok {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	files, err := s.renderAll(path, d, mod)
	if err != nil {
		jsonError(w, http.StatusInternalServerError, err.Error())
		return
	}
	// A signed document's bytes do not depend on when it was signed, so
	// two renders racing here store interchangeable files.
	for name, rd := range files {
		st.rendered.LoadOrStore(name, rd)
	}
	v, ok := st.rendered.Load(file)
	if !ok {
		jsonError(w, http.StatusNotFound, "not found") // an unsigned index has no signatures
		return
	}
	send(w, r, v.(*rendered))
}

// render runs a document through the Writer and keeps the document's own
// file (batches of infos, which are never signed).
func (s *Server) render(path string, d doc.Document, mod time.Time) (*rendered, error) {
	files, err := s.renderAll(path, d, mod)
	if err != nil {
		return nil, err
	}
	return files[doc.FileName(path)], nil
}

// renderAll runs a document through the Writer, as an export would: its
// own file, and its signature in a signed index.
func (s *Server) renderAll(path string, d doc.Document, mod time.Time) (map[string]*rendered, error) {
	files, err := s.writer.Files(path, d, mod)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*rendered, len(files))
	for _, f := range files {
		sum := sha256.Sum256(f.Body)
		out[f.Name] = &rendered{name: f.Name, body: f.Body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, modified: f.Modified}
	}
	if out[doc.FileName(path)] == nil {
		return nil, fmt.Errorf("render %s: the writer made no %s", path, doc.FileName(path))
	}
	return out, nil
}

// contentType is what the file is served as.
func (rd *rendered) contentType() string {
	if strings.HasSuffix(rd.name, doc.SignatureSuffix) {
		return publish.SignatureContentType
	}
	return publish.ContentType
}

func (rd *rendered) gzipped() []byte {
	rd.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(rd.body)
		zw.Close()
		rd.gz = b.Bytes()
	})
	return rd.gz
}

// send writes a rendered document: 304 when the client holds it, gzip
// when it asks for it.
func send(w http.ResponseWriter, r *http.Request, rd *rendered) {
	h := w.Header()
	useGzip := acceptsGzip(r.Header.Get("Accept-Encoding"))
	etag := rd.etag
	if useGzip {
		etag = strings.TrimSuffix(rd.etag, `"`) + `-gzip"`
	}
	h.Set("ETag", etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("Cache-Control", "no-cache")
	if !rd.modified.IsZero() {
		h.Set("Last-Modified", rd.modified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, rd) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", rd.contentType())
	body := rd.body
	if useGzip {
		body = rd.gzipped()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// notModified: If-None-Match (either encoding's ETag) wins over
// If-Modified-Since, as RFC 9110 says.
func notModified(r *http.Request, rd *rendered) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		base := strings.Trim(rd.etag, `"`)
		for _, t := range strings.Split(inm, ",") {
			t = strings.Trim(strings.TrimPrefix(strings.TrimSpace(t), "W/"), `"`)
			if t == "*" || t == base || t == base+"-gzip" {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" && !rd.modified.IsZero() {
		t, err := http.ParseTime(ims)
		return err == nil && !rd.modified.Truncate(time.Second).After(t)
	}
	return false
}

// acceptsGzip reads Accept-Encoding: gzip, unless its weight is q=0.
func acceptsGzip(v string) bool {
	for part := range strings.SplitSeq(v, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
			continue
		}
		k, q, ok := strings.Cut(strings.TrimSpace(params), "=")
		if !ok || strings.TrimSpace(k) != "q" {
			return true
		}
		w, err := strconv.ParseFloat(strings.TrimSpace(q), 64)
		return err != nil || w > 0
	}
	return false
}

// serveMirror answers /mirror/NAME/VERSION.zip for a mirrored version,
// and /mirror/NAME/VERSION.zip.minisig for its mirrored signature.
func (s *Server) serveMirror(w http.ResponseWriter, r *http.Request) {
	name, file := r.PathValue("name"), r.PathValue("file")
	if version, ok := strings.CutSuffix(file, ".zip"+doc.SignatureSuffix); ok {
		s.serveMirroredSignature(w, r, name, version, file)
		return
	}
	version, ok := strings.CutSuffix(file, ".zip")
	if s.opt.Mirror == "" || !ok || !doc.ValidName(name) || !doc.ValidVersion(version) {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	sum, ok := s.current(r.Context()).site.Mirrored(name, version)
	if !ok {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	f, err := os.Open(filepath.Join(s.opt.Mirror, name, file))
	if err != nil {
		s.log.Warn("mirror", "package", name, "version", version, "error", err)
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("ETag", `"`+sum+`"`)
	// A published version never changes.
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, file, st.ModTime(), f)
}

// serveMirroredSignature answers a mirrored version's signature, read
// whole (it is small) and served only while its sha256 is the recorded one.
func (s *Server) serveMirroredSignature(w http.ResponseWriter, r *http.Request, name, version, file string) {
	if s.opt.Mirror == "" || !doc.ValidName(name) || !doc.ValidVersion(version) {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	sum, ok := s.current(r.Context()).site.MirroredSignature(name, version)
	if !ok {
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	p := filepath.Join(s.opt.Mirror, name, file)
	data, err := fsutil.ReadRegular(p, sources.MaxSignatureSize)
	if err != nil {
		s.log.Warn("mirror", "package", name, "version", version, "error", err)
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	if got := sha256.Sum256(data); hex.EncodeToString(got[:]) != sum {
		s.log.Warn("mirror", "package", name, "version", version,
			"error", fmt.Sprintf("%s has changed since the index recorded it (sha256 %s); not served: rebuild the mirror", p, sum))
		jsonError(w, http.StatusNotFound, "not found")
		return
	}
	h := w.Header()
	h.Set("Content-Type", publish.SignatureContentType)
	h.Set("ETag", `"`+sum+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	st, err := os.Stat(p)
	mod := time.Time{}
	if err == nil {
		mod = st.ModTime()
	}
	http.ServeContent(w, r, file, mod, bytes.NewReader(data))
}

// jsonError is every error answer: {"error": "..."}.
func jsonError(w http.ResponseWriter, code int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	h := w.Header()
	h.Del("ETag")
	h.Del("Last-Modified")
	h.Del("Content-Encoding")
	h.Set("Content-Type", publish.ContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}
