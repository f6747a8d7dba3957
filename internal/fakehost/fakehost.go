// Package fakehost holds what the fake remotes of the tests share (the
// fake GitHub, GitLab and Gist hosts): a file served with validators and
// conditional requests, zip downloads, an answer's status recorded, and
// archives wrapped in one folder as code hosts build them.
package fakehost

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File is a small file served conditionally (a manifest).
type File struct {
	Data    []byte
	ETag    string
	ModTime time.Time
}

// NewFile is data as a new version of a file, modified at modTime: its
// ETag differs from every other version's.
func NewFile(data []byte, modTime time.Time) *File {
	sum := sha256.Sum256(data)
	return &File{
		Data:    bytes.Clone(data),
		ETag:    `"` + hex.EncodeToString(sum[:8]) + strconv.FormatInt(modTime.Unix(), 36) + `"`,
		ModTime: modTime,
	}
}

// Serve answers r with f: ETag and Last-Modified, 304 to a request whose
// If-None-Match (or, without one, If-Modified-Since) matches, else the
// data with contentType.
func (f *File) Serve(w http.ResponseWriter, r *http.Request, contentType string) {
	h := w.Header()
	h.Set("ETag", f.ETag)
	h.Set("Last-Modified", f.ModTime.Format(http.TimeFormat))
	h.Set("Cache-Control", "max-age=300")
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		if etagMatch(inm, f.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !f.ModTime.After(t) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(f.Data)
}

func etagMatch(header, etag string) bool {
	etag = strings.TrimPrefix(etag, "W/")
	for _, e := range strings.Split(header, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == "*" || e == etag {
			return true
		}
	}
	return false
}

// ServeZip answers r with data as the download name; HEAD and Range
// requests get what they ask for.
func ServeZip(w http.ResponseWriter, r *http.Request, data []byte, name string) {
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", "attachment; filename="+name)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
}

// WrappedZip builds a zip holding files (name -> content) in the folder
// dir ("" for none), with a folder entry first when dir is set, sorted,
// with fixed times, and comment as the archive's comment.
func WrappedZip(dir string, files map[string]string, comment string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if comment != "" {
		_ = zw.SetComment(comment)
	}
	create := func(name, content string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err == nil {
			_, err = io.WriteString(w, content)
		}
		if err != nil {
			panic(err) // writing to memory does not fail
		}
	}
	if dir != "" {
		dir = strings.TrimSuffix(dir, "/") + "/"
		create(dir, "")
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		create(dir+name, files[name])
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// WriteJSON answers with v as JSON.
func WriteJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// WriteJSONTagged answers with v as JSON carrying a weak ETag of its
// content, as GitHub's REST API does, and with 304 and no body to a request
// whose If-None-Match names it.
func WriteJSONTagged(w http.ResponseWriter, r *http.Request, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(b)
	etag := `W/"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// Recorder is an http.ResponseWriter that remembers the status it sent.
type Recorder struct {
	http.ResponseWriter
	Status int
}

// WriteHeader implements http.ResponseWriter.
func (w *Recorder) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *Recorder) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Log is a list of what a fake saw (its requests), safe for concurrent use.
type Log[R any] struct {
	mu    sync.Mutex
	items []R
}

// Add appends r.
func (l *Log[R]) Add(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, r)
}

// All is everything added so far, in order.
func (l *Log[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items)
}

// Reset forgets everything added so far.
func (l *Log[R]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = nil
}

// Count is how many of the entries match.
func (l *Log[R]) Count(match func(R) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.items {
		if match(r) {
			n++
		}
	}
	return n
}
