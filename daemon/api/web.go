package api

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// The page is HTML, CSS and JavaScript of its own, embedded in the binary:
// no CDN, it works offline and always matches the API it talks to.
//
//go:embed web
var webFS embed.FS

// asset is one embedded file with its ETag.
type asset struct {
	data  []byte
	etag  string
	ctype string
}

type assets map[string]asset

// loadAssets reads the embedded files once and computes their ETags.
func loadAssets() (*assets, error) {
	a := assets{}
	err := fs.WalkDir(webFS, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := webFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		ctype := mime.TypeByExtension(path.Ext(p))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		a[strings.TrimPrefix(p, "web/")] = asset{data: data, etag: `"` + hex.EncodeToString(sum[:16]) + `"`, ctype: ctype}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("api: embedded page: %w", err)
	}
	if _, ok := a["index.html"]; !ok {
		return nil, fmt.Errorf("api: embedded page: no index.html")
	}
	return &a, nil
}

// serve answers with the embedded file name: 304 when the client's copy
// (If-None-Match) is current.
func (a *assets) serve(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := (*a)[name]
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Errorf("/assets/%s: no such file", name))
			return
		}
		h := w.Header()
		h.Set("ETag", f.etag)
		h.Set("Cache-Control", "no-cache") // revalidate: the binary may have changed
		if etagMatch(r.Header.Get("If-None-Match"), f.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", f.ctype)
		h.Set("Content-Length", fmt.Sprint(len(f.data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(f.data)
		}
	}
}

// etagMatch reports whether an If-None-Match header names etag.
func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// assetFile is GET /assets/{file}: the page's script and style.
func (s *Server) assetFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "index.html" {
		http.Redirect(w, r, "/", http.StatusMovedPermanently)
		return
	}
	s.page.serve(name)(w, r)
}
