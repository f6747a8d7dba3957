package release

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Handler serves one release folder, read-only, as a web update_url:
// GET and HEAD of the regular files directly in the folder, with a strong
// ETag (the content's sha256), Last-Modified, Range and conditional
// requests (net/http's ServeContent), application/json for .json and
// application/zip for .zip. Sub-folders, dotfiles, and anything outside
// the folder (reads go through an os.Root) answer 404; "/" lists the
// folder's files as plain text. Every request is logged.
type Handler struct {
	root *os.Root
	log  *slog.Logger

	mu    sync.Mutex
	etags map[string]etagEntry
}

type etagEntry struct {
	size    int64
	modTime time.Time
	etag    string
}

// NewHandler opens dir for serving. Close releases it.
func NewHandler(dir string, log *slog.Logger) (*Handler, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{root: root, log: log, etags: map[string]etagEntry{}}, nil
}

// Close releases the folder.
func (h *Handler) Close() error { return h.root.Close() }

// contentTypes are the types of what a release folder holds; others are
// left to ServeContent's sniffing.
var contentTypes = map[string]string{
	".json": "application/json",
	".zip":  "application/zip",
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w}
	defer func() {
		h.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.code(),
			"bytes", rec.bytes, "duration", time.Since(start).Round(time.Microsecond))
	}()
	hdr := rec.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		http.Error(rec, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if r.URL.Path == "/" {
		h.index(rec, r)
		return
	}
	name, ok := servable(r.URL.Path)
	if !ok {
		http.NotFound(rec, r)
		return
	}
	f, err := h.root.Open(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			h.log.Warn("open", "path", r.URL.Path, "error", err.Error())
		}
		http.NotFound(rec, r)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.NotFound(rec, r)
		return
	}
	etag, err := h.etag(name, f, st)
	if err != nil {
		h.log.Warn("read", "path", r.URL.Path, "error", err.Error())
		http.Error(rec, "read error", http.StatusInternalServerError)
		return
	}
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		hdr.Set("Content-Type", ct)
	}
	hdr.Set("ETag", etag)
	// Clients may keep a copy but must ask again: the manifest changes
	// with every release.
	hdr.Set("Cache-Control", "no-cache")
	http.ServeContent(rec, r, name, st.ModTime(), f)
}

// servable maps a request path to a file name directly in the folder:
// one component, no dotfile, nothing a file system could read as a path
// or a stream.
func servable(p string) (string, bool) {
	name, ok := strings.CutPrefix(p, "/")
	if !ok || name == "" || strings.HasPrefix(name, ".") || strings.ContainsAny(name, "/\\:\x00") || !fs.ValidPath(name) {
		return "", false
	}
	return name, true
}

// index lists the folder's servable files, one name per line.
func (h *Handler) index(w http.ResponseWriter, r *http.Request) {
	d, err := h.root.Open(".")
	if err != nil {
		http.Error(w, "read error", http.StatusInternalServerError)
		return
	}
	defer d.Close()
	entries, err := d.ReadDir(-1)
	if err != nil {
		http.Error(w, "read error", http.StatusInternalServerError)
		return
	}
	var names []string
	for _, e := range entries {
		if _, ok := servable("/" + e.Name()); ok && e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	body := strings.Join(names, "\n")
	if body != "" {
		body += "\n"
	}
	http.ServeContent(w, r, "", time.Time{}, strings.NewReader(body))
}

// etag is the file's strong ETag: its sha256, computed once per size and
// modification time, from the open file that is then served.
func (h *Handler) etag(name string, f *os.File, st fs.FileInfo) (string, error) {
	h.mu.Lock()
	e, ok := h.etags[name]
	h.mu.Unlock()
	if ok && e.size == st.Size() && e.modTime.Equal(st.ModTime()) {
		return e.etag, nil
	}
	hash := sha256.New()
	if _, err := io.Copy(hash, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	etag := `"` + hex.EncodeToString(hash.Sum(nil)) + `"`
	h.mu.Lock()
	h.etags[name] = etagEntry{size: st.Size(), modTime: st.ModTime(), etag: etag}
	h.mu.Unlock()
	return etag, nil
}

// recorder notes the status and the body bytes written, for the log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
