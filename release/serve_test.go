package release

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modup/modup/internal/testpkg"
)

// lockedBuffer is a log sink the server goroutines may write to.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func serveFolder(t *testing.T, dir string) (*httptest.Server, *lockedBuffer) {
	t.Helper()
	logs := &lockedBuffer{}
	h, err := NewHandler(dir, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		h.Close()
	})
	return srv, logs
}

func do(t *testing.T, method, url string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestHandlerServesReleaseFolder(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "rel")
	zipData := buildZip(t, [][2]string{{"a2modsource.json", `{"version": "1.0.0"}`}})
	testpkg.WriteTree(t, dir, map[string]string{
		"a2modsource.json": `{"version": "1.0.0"}`,
		"1.0.0.zip":        string(zipData),
		".secret":          "dotfile",
		"sub/inner.txt":    "in a sub-folder",
		"notes.txt":        "plain",
	})
	testpkg.WriteTree(t, base, map[string]string{"outside.txt": "outside the folder"})
	if runtime.GOOS != "windows" {
		if err := os.Symlink(filepath.Join(base, "outside.txt"), filepath.Join(dir, "escape.txt")); err != nil {
			t.Fatal(err)
		}
	}
	srv, logs := serveFolder(t, dir)

	resp, body := do(t, "GET", srv.URL+"/a2modsource.json", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || string(body) != `{"version": "1.0.0"}` {
		t.Errorf("manifest: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}

	resp, body = do(t, "GET", srv.URL+"/1.0.0.zip", nil)
	sum := sha256.Sum256(zipData)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || !bytes.Equal(body, zipData) || resp.Header.Get("ETag") != etag {
		t.Errorf("zip: %d %q etag %q (want %q)", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), etag)
	}

	resp, _ = do(t, "GET", srv.URL+"/1.0.0.zip", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	resp, body = do(t, "GET", srv.URL+"/1.0.0.zip", map[string]string{"Range": "bytes=0-3"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, zipData[:4]) {
		t.Errorf("Range: %d %q", resp.StatusCode, body)
	}
	resp, body = do(t, "HEAD", srv.URL+"/1.0.0.zip", nil)
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(zipData)) || len(body) != 0 {
		t.Errorf("HEAD: %d length %d", resp.StatusCode, resp.ContentLength)
	}

	// The folder's listing names its files, nothing else.
	resp, body = do(t, "GET", srv.URL+"/", nil)
	wantList := "1.0.0.zip\na2modsource.json\nnotes.txt\n" // not the symlink, the dotfile or the folder
	if resp.StatusCode != 200 || string(body) != wantList {
		t.Errorf("listing: %d %q, want %q", resp.StatusCode, body, wantList)
	}

	for _, path := range []string{"/.secret", "/sub/inner.txt", "/sub", "/sub/", "/../outside.txt", "/%2e%2e/outside.txt",
		"/..%2foutside.txt", "/nothing.zip", "/escape.txt", "/a2modsource.json:stream", "/a2modsource.json/"} {
		resp, _ := do(t, "GET", srv.URL+path, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, resp.StatusCode)
		}
	}
	resp, _ = do(t, "POST", srv.URL+"/a2modsource.json", nil)
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}

	log := logs.String()
	for _, want := range []string{"method=GET path=/1.0.0.zip status=200 bytes=" + strconv.Itoa(len(zipData)), "status=304", "status=206 bytes=4",
		"method=HEAD", "path=/.secret status=404", "method=POST", "duration="} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestHandlerETagFollowsContent(t *testing.T) {
	dir := t.TempDir()
	testpkg.WriteTree(t, dir, map[string]string{"a2modsource.json": `{"version": "1.0.0"}`})
	srv, _ := serveFolder(t, dir)
	first, _ := do(t, "GET", srv.URL+"/a2modsource.json", nil)
	testpkg.WriteTree(t, dir, map[string]string{"a2modsource.json": `{"version": "1.1.0", "x": 1}`})
	second, body := do(t, "GET", srv.URL+"/a2modsource.json", map[string]string{"If-None-Match": first.Header.Get("ETag")})
	if second.StatusCode != 200 || !strings.Contains(string(body), "1.1.0") || second.Header.Get("ETag") == first.Header.Get("ETag") {
		t.Errorf("after a change: %d %q etag %q (was %q)", second.StatusCode, body, second.Header.Get("ETag"), first.Header.Get("ETag"))
	}
}
