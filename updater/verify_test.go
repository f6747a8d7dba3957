package updater_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modup/modup/internal/archive"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// pointerJSON is a remote manifest naming version, with extra fields.
func pointerJSON(t testing.TB, name, version string, extra map[string]any) []byte {
	t.Helper()
	m := map[string]any{"name": name, "version": version}
	for k, v := range extra {
		m[k] = v
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serveChunked answers without a Content-Length (HEAD: no length at all).
func serveChunked(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		http.NewResponseController(w).Flush()
		w.Write(data)
	}
}

// serveLengthOnGet answers HEAD without a length and GET with one.
func serveLengthOnGet(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	}
}

// serveBroken announces all of data, sends half of it and breaks the
// connection (reset: a TCP RST; else a plain close) on the first `times`
// GETs, then serves data whole.
func serveBroken(data []byte, times int32, reset bool) http.HandlerFunc {
	var gets atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || gets.Add(1) > times {
			http.ServeContent(w, r, "x.zip", time.Time{}, bytes.NewReader(data))
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:len(data)/2])
		rc := http.NewResponseController(w)
		rc.Flush()
		conn, _, err := rc.Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		if tc, ok := conn.(*net.TCPConn); ok && reset {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// serveCut answers GET with a body delimited by the connection's close
// (no Content-Length, no chunks) and closes it halfway: the client reads
// a clean EOF. HEAD announces the whole length only with headLength.
func serveCut(data []byte, headLength bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			if headLength {
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		conn, bw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler)
		}
		defer conn.Close()
		bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n")
		bw.Write(data[:len(data)/2])
		bw.Flush()
	}
}

// serveStalled sends half of data, then nothing until the client gives up.
func serveStalled(data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		w.Write(data[:len(data)/2])
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	}
}

func serveHTML(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Hotel WiFi</title></head><body>Please log in.</body></html>\n"))
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDownloadVerification serves release 1.1.0 of a web package in ways
// that must fail (or, for a connection broken once, succeed) and checks
// that a failure leaves the installed package as it was and nothing behind.
func TestDownloadVerification(t *testing.T) {
	tests := []struct {
		name    string
		extra   map[string]any // fields of the remote manifest
		serve   func(zip []byte) http.HandlerFunc
		maxSize int64
		stall   time.Duration // the HTTP client's stall timeout
		want    updater.Status
		wantErr error
		// wantText is in the error message.
		wantText string
		// wantManifestLine: the error names the zipped manifest's bad line:column.
		wantManifestLine bool
		// wantGets is how often the zip is fetched with GET (-1: any).
		wantGets int
	}{
		{name: "declared sha256 matches", extra: map[string]any{"sha256": "GOOD"},
			want: updater.StatusUpdated, wantGets: 1},
		{name: "declared sha256 differs", extra: map[string]any{"sha256": strings.Repeat("0", 64)},
			want: updater.StatusFailed, wantErr: updater.ErrChecksum, wantText: "nothing was changed", wantGets: 1},
		{name: "declared zip_size larger", extra: map[string]any{"zip_size": "SIZE+1"},
			want: updater.StatusFailed, wantErr: updater.ErrSize, wantText: "zip_size in a2modsource.json says", wantGets: 1},
		{name: "declared zip_size smaller", extra: map[string]any{"zip_size": "SIZE-1"},
			want: updater.StatusFailed, wantErr: updater.ErrSize, wantGets: -1},
		{name: "max size below the stat size", maxSize: 100,
			want: updater.StatusFailed, wantErr: updater.ErrSize, wantText: "max-size", wantGets: 0},
		{name: "max size below the Content-Length", maxSize: 100, serve: serveLengthOnGet,
			want: updater.StatusFailed, wantErr: updater.ErrSize, wantText: "max-size", wantGets: 1},
		{name: "max size below an unannounced length", maxSize: 100, serve: serveChunked,
			want: updater.StatusFailed, wantErr: updater.ErrSize, wantText: "max-size", wantGets: 1},
		{name: "max size exactly the zip", maxSize: -1, serve: serveChunked,
			want: updater.StatusUpdated, wantGets: 1},
		{name: "connection reset mid-body once",
			serve: func(zip []byte) http.HandlerFunc { return serveBroken(zip, 1, true) },
			want:  updater.StatusUpdated, wantGets: 2},
		{name: "connection closed mid-body twice",
			serve: func(zip []byte) http.HandlerFunc { return serveBroken(zip, 2, false) },
			want:  updater.StatusUpdated, wantGets: 3},
		{name: "connection broken every time",
			serve: func(zip []byte) http.HandlerFunc { return serveBroken(zip, 1000, true) },
			want:  updater.StatusFailed, wantGets: 3},
		{name: "connection closed early, size announced",
			serve: func(zip []byte) http.HandlerFunc { return serveCut(zip, true) },
			want:  updater.StatusFailed, wantErr: updater.ErrSize, wantGets: 1},
		{name: "connection closed early, size unknown",
			serve: func(zip []byte) http.HandlerFunc { return serveCut(zip, false) },
			want:  updater.StatusFailed, wantErr: archive.ErrCorrupt, wantGets: 1},
		{name: "connection closed early, size unknown, sha256 declared", extra: map[string]any{"sha256": "GOOD"},
			serve: func(zip []byte) http.HandlerFunc { return serveCut(zip, false) },
			want:  updater.StatusFailed, wantErr: updater.ErrChecksum, wantGets: 1},
		{name: "stalled download", serve: serveStalled, stall: 50 * time.Millisecond,
			want: updater.StatusFailed, wantErr: httpx.ErrStalled, wantGets: 3},
		{name: "HTML page instead of the zip",
			serve: func([]byte) http.HandlerFunc { return serveHTML },
			want:  updater.StatusFailed, wantErr: archive.ErrCorrupt, wantText: "got an HTML page instead of a zip", wantGets: 1},
		{name: "zip without a manifest",
			serve: func([]byte) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.ServeContent(w, r, "x.zip", time.Time{}, bytes.NewReader(testpkg.Zip(t, "", map[string]string{"readme.txt": "hi\n"})))
				}
			},
			want: updater.StatusFailed, wantErr: archive.ErrNoManifest, wantGets: 1},
		{name: "zipped manifest is invalid JSON (a real one)",
			serve: func([]byte) http.HandlerFunc {
				bad, err := os.ReadFile(filepath.Join("..", "testdata", "a2", "debug.module", "a2modsource.json"))
				if err != nil {
					t.Fatal(err)
				}
				data := testpkg.Zip(t, "", map[string]string{"a2modsource.json": string(bad), "debug.ahk": "x\n"})
				return func(w http.ResponseWriter, r *http.Request) {
					http.ServeContent(w, r, "x.zip", time.Time{}, bytes.NewReader(data))
				}
			},
			want: updater.StatusFailed, wantText: "the manifest in http", wantManifestLine: true, wantGets: 1},
		{name: "truncated zip",
			serve: func(zip []byte) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.ServeContent(w, r, "x.zip", time.Time{}, bytes.NewReader(zip[:len(zip)-30]))
				}
			},
			want: updater.StatusFailed, wantErr: archive.ErrCorrupt, wantGets: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newWebHost(t)
			url := h.url()
			newFiles := pkgFiles("hello", "1.1.0", url)
			zip := testpkg.Zip(t, "", newFiles)
			extra := map[string]any{}
			for k, v := range tc.extra {
				switch v {
				case "GOOD":
					v = sha256Hex(zip)
				case "SIZE+1":
					v = len(zip) + 1
				case "SIZE-1":
					v = len(zip) - 1
				}
				extra[k] = v
			}
			h.put("a2modsource.json", pointerJSON(t, "hello", "1.1.0", extra))
			h.put("1.1.0.zip", zip)
			if tc.serve != nil {
				h.handle("1.1.0.zip", tc.serve(zip))
			}
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			oldFiles := pkgFiles("hello", "1.0.0", url)
			testpkg.WriteTree(t, dir, oldFiles)
			before := treeHash(t, dir)

			u := newUpdater(t)
			if tc.stall > 0 {
				u.Sources = updater.NewSources(updater.Config{
					Getenv: envMap(),
					HTTP:   &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, StallTimeout: tc.stall},
				})
			}
			u.MaxSize = tc.maxSize
			if tc.maxSize < 0 {
				u.MaxSize = int64(len(zip))
			}
			c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			t.Logf("%s: %s", c.Status, c.Error)
			wantStatus(t, c, tc.want)
			if tc.wantErr != nil && !errors.Is(c.Err, tc.wantErr) {
				t.Errorf("error %v is not %v", c.Err, tc.wantErr)
			}
			if !strings.Contains(c.Error, tc.wantText) || (tc.wantManifestLine && !strings.Contains(c.Error, "a2modsource.json:9:1: invalid character")) {
				t.Errorf("error %q does not say %q", c.Error, tc.wantText)
			}
			if n := h.count("GET", "1.1.0.zip"); tc.wantGets >= 0 && n != tc.wantGets {
				t.Errorf("zip fetched %d times, want %d", n, tc.wantGets)
			}
			if tc.want == updater.StatusUpdated {
				wantTree(t, dir, newFiles)
				wantBackups(t, root, "hello", "1.0.0")
			} else {
				if treeHash(t, dir) != before {
					t.Error("the failed update changed the package")
				}
				wantTree(t, dir, oldFiles)
				wantBackups(t, root, "hello")
			}
			checkClean(t, root)
		})
	}
}

// hostileZip builds a zip with a good package and one bad entry.
func hostileZip(t *testing.T, bad func(zw *zip.Writer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range pkgFiles("hello", "1.1.0", "") {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	if err := bad(zw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// listAll lists every path under dir except those under skip.
func listAll(t *testing.T, dir, skip string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip {
			return filepath.SkipDir
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestHostileRelease serves archives that try to write outside the
// package: the update fails, nothing appears outside the root, and the
// package is untouched.
func TestHostileRelease(t *testing.T) {
	file := func(name, content string) func(zw *zip.Writer) error {
		return func(zw *zip.Writer) error {
			w, err := zw.Create(name)
			if err == nil {
				_, err = w.Write([]byte(content))
			}
			return err
		}
	}
	tests := []struct {
		name string
		bad  func(zw *zip.Writer) error
	}{
		{name: "zip-slip", bad: file("../evil", "pwned\n")},
		{name: "zip-slip deep", bad: file("greet/../../../evil", "pwned\n")},
		{name: "absolute path", bad: file("/tmp/evil", "pwned\n")},
		{name: "backslash escape", bad: file(`..\evil`, "pwned\n")},
		{name: "symlink out", bad: func(zw *zip.Writer) error {
			h := &zip.FileHeader{Name: "link"}
			h.SetMode(os.ModeSymlink | 0o777)
			w, err := zw.CreateHeader(h)
			if err == nil {
				_, err = w.Write([]byte("../../.."))
			}
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newWebHost(t)
			h.put("a2modsource.json", pointerJSON(t, "hello", "1.1.0", nil))
			h.put("1.1.0.zip", hostileZip(t, tc.bad))
			base := t.TempDir()
			root := filepath.Join(base, "root")
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", h.url()))
			before := treeHash(t, dir)
			outside := listAll(t, base, root)

			c := newUpdater(t).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			t.Logf("%s: %s", c.Status, c.Error)
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, archive.ErrHostile) {
				t.Errorf("error %v is not archive.ErrHostile", c.Err)
			}
			if got := listAll(t, base, root); !slices.Equal(got, outside) {
				t.Errorf("outside the root: %v, was %v", got, outside)
			}
			for _, p := range listAll(t, root, "") {
				if strings.Contains(filepath.Base(p), "evil") || filepath.Base(p) == "link" {
					t.Errorf("%s was written", p)
				}
			}
			if treeHash(t, dir) != before {
				t.Error("the package changed")
			}
			wantBackups(t, root, "hello")
			checkClean(t, root)
		})
	}
}

// TestGitHubDigestDisagrees: a release asset whose GitHub digest is not the
// sha256 the manifest declares is not installed.
func TestGitHubDigestDisagrees(t *testing.T) {
	s := githubtest.New(t)
	url := s.RepoURL("someone", "hello")
	zip := testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", url))
	s.AddRelease("someone", "hello", githubtest.Release{Tag: "1.1.0", Assets: map[string][]byte{"1.1.0.zip": zip}})
	s.SetManifest("someone", "hello", "HEAD", pointerJSON(t, "hello", "1.1.0", map[string]any{"sha256": strings.Repeat("ab", 32)}))
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", url))
	before := treeHash(t, dir)

	c := newUpdater(t, s.Env()...).Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if !errors.Is(c.Err, sources.ErrInvalid) || !strings.Contains(c.Error, "the manifest declares") {
		t.Errorf("error %v", c.Err)
	}
	if n := s.Count("asset"); n != 0 {
		t.Errorf("the asset was downloaded %d times", n)
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	checkClean(t, root)
}

// TestCancelMidDownload cancels an update while its zip is arriving: the
// update fails, the package is untouched and the partial file is gone.
func TestCancelMidDownload(t *testing.T) {
	h := newWebHost(t)
	h.put("a2modsource.json", pointerJSON(t, "hello", "1.1.0", nil))
	zip := testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", h.url()))
	h.put("1.1.0.zip", zip)
	midway := make(chan struct{}, 1)
	h.handle("1.1.0.zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(zip)))
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodHead {
			return
		}
		w.Write(zip[:len(zip)/2])
		http.NewResponseController(w).Flush()
		midway <- struct{}{}
		<-r.Context().Done()
	})
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", h.url()))
	before := treeHash(t, dir)

	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-midway
		cancel()
	}()
	c := newUpdater(t).Update(ctx, load(t, root, "hello"), updater.UpdateOptions{})
	wantStatus(t, c, updater.StatusFailed)
	if !errors.Is(c.Err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", c.Err)
	}
	if n := h.count("GET", "1.1.0.zip"); n != 1 {
		t.Errorf("zip fetched %d times after the cancel", n)
	}
	if treeHash(t, dir) != before {
		t.Error("the package changed")
	}
	wantBackups(t, root, "hello")
	checkClean(t, root)
}

// TestServerErrorsRetriedOnce: a zip that answers 503 is retried by the
// HTTP client's one retry layer; the download does not retry those
// retries again (no retry storm).
func TestServerErrorsRetriedOnce(t *testing.T) {
	h := newWebHost(t)
	h.put("a2modsource.json", pointerJSON(t, "hello", "1.1.0", nil))
	zip := testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", h.url()))
	h.put("1.1.0.zip", zip)
	h.handle("1.1.0.zip", func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", strconv.Itoa(len(zip)))
			return
		}
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	root := t.TempDir()
	dir := filepath.Join(root, "hello")
	testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", h.url()))
	u := newUpdater(t)
	u.Sources = updater.NewSources(updater.Config{
		Getenv: envMap(),
		HTTP:   &httpx.Options{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond},
	})

	c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
	t.Logf("%s: %s", c.Status, c.Error)
	wantStatus(t, c, updater.StatusFailed)
	var se *httpx.StatusError
	if !errors.As(c.Err, &se) || se.Code != http.StatusServiceUnavailable {
		t.Errorf("error %v is not the 503", c.Err)
	}
	if n := h.count("GET", "1.1.0.zip"); n != 3 {
		t.Errorf("%d GETs of the zip; want 3 (one try and the client's 2 retries)", n)
	}
	checkClean(t, root)
}

// flipTransport flips one byte in the middle of every body whose URL path
// contains match, as a bad proxy or a flaky disk cache might.
type flipTransport struct {
	match string
}

func (f flipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodGet || !strings.Contains(req.URL.Path, f.match) {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if len(body) > 0 {
		body[len(body)/2] ^= 0xff
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// TestGitHubAssetDigestChecked: the bytes of a release asset are checked
// against GitHub's digest; without a digest, zip's own checksums catch the
// flipped byte during extraction.
func TestGitHubAssetDigestChecked(t *testing.T) {
	tests := []struct {
		name       string
		omitDigest bool
		wantErr    error
	}{
		{name: "with digest", wantErr: updater.ErrChecksum},
		{name: "without digest", omitDigest: true, wantErr: archive.ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := githubtest.New(t)
			url := s.RepoURL("someone", "hello")
			zip := testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", url))
			s.AddRelease("someone", "hello", githubtest.Release{Tag: "1.1.0", OmitDigest: tc.omitDigest, Assets: map[string][]byte{"1.1.0.zip": zip}})
			s.SetManifest("someone", "hello", "HEAD", pointerJSON(t, "hello", "1.1.0", nil))
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			testpkg.WriteTree(t, dir, pkgFiles("hello", "1.0.0", url))
			before := treeHash(t, dir)
			u := newUpdater(t)
			u.Sources = updater.NewSources(updater.Config{
				Getenv: envMap(s.Env()...),
				HTTP: &httpx.Options{RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond,
					Transport: flipTransport{match: "/releases/download/"}},
			})

			c := u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{})
			t.Logf("%s: %s", c.Status, c.Error)
			wantStatus(t, c, updater.StatusFailed)
			if !errors.Is(c.Err, tc.wantErr) {
				t.Errorf("error %v is not %v", c.Err, tc.wantErr)
			}
			if n := s.Count("asset"); n != 1 {
				t.Errorf("%d asset downloads, want 1", n)
			}
			if treeHash(t, dir) != before {
				t.Error("the package changed")
			}
			checkClean(t, root)
		})
	}
}

// TestProgress reports a download from 0 to its size, with the total known
// from Content-Length, else from the declared zip_size, else -1.
func TestProgress(t *testing.T) {
	tests := []struct {
		name      string
		chunked   bool
		declare   bool // zip_size in the remote manifest
		wantTotal func(size int) int64
	}{
		{name: "content length", wantTotal: func(n int) int64 { return int64(n) }},
		{name: "declared size", chunked: true, declare: true, wantTotal: func(n int) int64 { return int64(n) }},
		{name: "unknown size", chunked: true, wantTotal: func(int) int64 { return -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newWebHost(t)
			zip := testpkg.Zip(t, "", pkgFiles("hello", "1.1.0", h.url()))
			extra := map[string]any{}
			if tc.declare {
				extra["zip_size"] = len(zip)
			}
			h.put("a2modsource.json", pointerJSON(t, "hello", "1.1.0", extra))
			h.put("1.1.0.zip", zip)
			if tc.chunked {
				h.handle("1.1.0.zip", serveChunked(zip))
			}
			root := t.TempDir()
			testpkg.WriteTree(t, filepath.Join(root, "hello"), pkgFiles("hello", "1.0.0", h.url()))
			type call struct{ done, total int64 }
			var calls []call
			u := newUpdater(t)
			u.Progress = func(name string, done, total int64) {
				if name != "hello" {
					t.Errorf("progress of %q", name)
				}
				calls = append(calls, call{done, total})
			}

			wantStatus(t, u.Update(t.Context(), load(t, root, "hello"), updater.UpdateOptions{}), updater.StatusUpdated)
			if len(calls) < 2 {
				t.Fatalf("progress calls %v", calls)
			}
			want := tc.wantTotal(len(zip))
			if calls[0] != (call{0, want}) {
				t.Errorf("first call %v, want {0 %d}", calls[0], want)
			}
			if last := calls[len(calls)-1]; last != (call{int64(len(zip)), want}) {
				t.Errorf("last call %v, want {%d %d}", last, len(zip), want)
			}
			for i := 1; i < len(calls); i++ {
				if calls[i].done < calls[i-1].done || calls[i].total != want {
					t.Errorf("call %d: %v after %v", i, calls[i], calls[i-1])
				}
			}
		})
	}
}
