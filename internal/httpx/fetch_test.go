package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/sourcetest"
)

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

func TestFetchConditional(t *testing.T) {
	modTime := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		serve func(w http.ResponseWriter, r *http.Request, body string)
	}{
		{
			name: "ETag",
			serve: func(w http.ResponseWriter, r *http.Request, body string) {
				etag := fmt.Sprintf(`"%x"`, len(body))
				w.Header().Set("ETag", etag)
				if r.Header.Get("If-None-Match") == etag {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Write([]byte(body))
			},
		},
		{
			name: "Last-Modified",
			serve: func(w http.ResponseWriter, r *http.Request, body string) {
				mt := modTime
				if strings.Contains(body, "1.1") {
					mt = mt.Add(time.Hour)
				}
				http.ServeContent(w, r, "a2modsource.json", mt, strings.NewReader(body))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			body := `{"version": "1.0"}`
			var ok200, not304 atomic.Int32
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				b := body
				mu.Unlock()
				rec := &statusRecorder{ResponseWriter: w, code: 200}
				tt.serve(rec, r, b)
				switch rec.code {
				case 200:
					ok200.Add(1)
				case 304:
					not304.Add(1)
				}
			})
			cache := NewLogCache(filepath.Join(t.TempDir(), "http"))
			c := testClient(t, Options{})
			url := srv.URL + "/a2modsource.json"

			fetch := func(wantBody string, wantNM bool) {
				t.Helper()
				got, nm, err := c.Fetch(t.Context(), url, cache, 0)
				if err != nil || string(got) != wantBody || nm != wantNM {
					t.Fatalf("Fetch = %q, notModified %v, %v; want %q, %v", got, nm, err, wantBody, wantNM)
				}
			}
			fetch(body, false)
			fetch(body, true)
			fetch(body, true)
			if ok200.Load() != 1 || not304.Load() != 2 {
				t.Errorf("server answered 200×%d, 304×%d; want 1 and 2", ok200.Load(), not304.Load())
			}

			mu.Lock()
			body = `{"version": "1.1.0"}`
			mu.Unlock()
			fetch(`{"version": "1.1.0"}`, false)
			fetch(`{"version": "1.1.0"}`, true)
			if ok200.Load() != 2 || not304.Load() != 3 {
				t.Errorf("server answered 200×%d, 304×%d; want 2 and 3", ok200.Load(), not304.Load())
			}
		})
	}
}

func TestFetchWithoutValidatorsIsNotCached(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			t.Error("conditional request without validators")
		}
		w.Write([]byte(`{}`))
	})
	cache := &sourcetest.MemCache{}
	c := testClient(t, Options{})
	for range 2 {
		if b, nm, err := c.Fetch(t.Context(), srv.URL, cache, 0); err != nil || nm || string(b) != "{}" {
			t.Fatalf("Fetch = %q, %v, %v", b, nm, err)
		}
	}
	if e, cached := cache.Get(srv.URL); cached || srv.count() != 2 {
		t.Errorf("cached %v (%+v), %d requests; want nothing cached without validators, 2 requests", cached, e, srv.count())
	}
}

func TestFetchUnexpected304(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	_, _, err := testClient(t, Options{}).Fetch(t.Context(), srv.URL, &sourcetest.MemCache{}, 0)
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 304 {
		t.Fatalf("err = %v, want *StatusError 304", err)
	}
}

func TestFetchLimits(t *testing.T) {
	const max = 64
	tests := []struct {
		name    string
		handler http.HandlerFunc
		wantErr error // nil: success
	}{
		{
			name:    "exactly max",
			handler: func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte("a"), max)) },
		},
		{
			name: "over max with Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Write(bytes.Repeat([]byte("a"), max+1))
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "over max, chunked (no Content-Length)",
			handler: func(w http.ResponseWriter, r *http.Request) {
				for range 10 {
					w.Write(bytes.Repeat([]byte("a"), 32))
					w.(http.Flusher).Flush()
				}
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "huge declared Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.FormatInt(1<<40, 10))
				w.Write([]byte("{}"))
			},
			wantErr: ErrTooLarge,
		},
		{
			name: "body cut short of its Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "50")
				w.Write([]byte(`{"version":`))
			},
			wantErr: io.ErrUnexpectedEOF,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			url := srv.URL + "/a2modsource.json"
			b, _, err := testClient(t, Options{}).Fetch(t.Context(), url, nil, max)
			if tt.wantErr == nil {
				if err != nil || len(b) != max {
					t.Fatalf("Fetch = %d bytes, %v", len(b), err)
				}
				return
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), url) {
				t.Fatalf("err = %v, want %v naming %s", err, tt.wantErr, url)
			}
			if srv.count() != 1 {
				t.Errorf("%d requests (a bad body is not retried here)", srv.count())
			}
		})
	}
}

func TestFetchHTMLPage(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("\n  <!DOCTYPE html><html><body>Please log in to the hotel Wi-Fi</body></html>"))
	})
	b, _, err := testClient(t, Options{}).Fetch(t.Context(), srv.URL+"/a2modsource.json", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !LooksLikeHTML(b) {
		t.Error("captive portal page not recognised")
	}
}

func TestLooksLikeHTML(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"<!DOCTYPE html>", true},
		{"<html>", true},
		{"  \r\n\t<html>", true},
		{"\xef\xbb\xbf<html>", true},
		{"\xef\xbb\xbf \n<HTML>", true},
		{"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>", true},
		{`{"name": "a2.modules"}`, false},
		{"\xef\xbb\xbf{\"name\": \"x\"}", false},
		{"  [1, 2]", false},
		{"PK\x03\x04", false},
		{"", false},
		{"   ", false},
		{"\xef\xbb\xbf", false},
	}
	for _, tt := range tests {
		if got := LooksLikeHTML([]byte(tt.in)); got != tt.want {
			t.Errorf("LooksLikeHTML(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestStat(t *testing.T) {
	type answer struct {
		code   int
		header map[string]string
	}
	tests := []struct {
		name     string
		head     answer
		get      *answer // nil: GET must not be asked
		want     int64
		wantErr  func(error) bool
		wantGets int
	}{
		{name: "HEAD with Content-Length", head: answer{200, map[string]string{"Content-Length": "1234"}}, want: 1234},
		{name: "HEAD without Content-Length", head: answer{200, nil}, want: -1},
		{
			name:     "405 falls back to a ranged GET",
			head:     answer{405, nil},
			get:      &answer{206, map[string]string{"Content-Range": "bytes 0-0/5000", "Content-Length": "1"}},
			want:     5000,
			wantGets: 1,
		},
		{
			name:     "501 falls back",
			head:     answer{501, nil},
			get:      &answer{206, map[string]string{"Content-Range": "bytes 0-0/*"}},
			want:     -1,
			wantGets: 1,
		},
		{
			name:     "403 (presigned S3 URL) falls back",
			head:     answer{403, nil},
			get:      &answer{206, map[string]string{"Content-Range": "bytes 0-0/77"}},
			want:     77,
			wantGets: 1,
		},
		{
			name:     "Range ignored: Content-Length of the 200",
			head:     answer{405, nil},
			get:      &answer{200, map[string]string{"Content-Length": "7000"}},
			want:     7000,
			wantGets: 1,
		},
		{
			name:     "empty file: 416 bytes */0",
			head:     answer{405, nil},
			get:      &answer{416, map[string]string{"Content-Range": "bytes */0"}},
			want:     0,
			wantGets: 1,
		},
		{
			name:     "fallback GET 404",
			head:     answer{405, nil},
			get:      &answer{404, nil},
			wantErr:  func(err error) bool { return errors.Is(err, sources.ErrNotFound) },
			wantGets: 1,
		},
		{
			name:    "HEAD 404",
			head:    answer{404, nil},
			wantErr: func(err error) bool { return errors.Is(err, sources.ErrNotFound) },
		},
		{
			name:    "403 rate limit does not fall back",
			head:    answer{403, map[string]string{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1893456000"}},
			wantErr: func(err error) bool { return errors.Is(err, sources.ErrRateLimited) },
		},
		{
			name: "HEAD 500 forever",
			head: answer{500, nil},
			wantErr: func(err error) bool {
				var se *StatusError
				return errors.As(err, &se) && se.Code == 500 && se.Attempts == 4
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gets atomic.Int32
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				a := tt.head
				if r.Method == http.MethodGet {
					gets.Add(1)
					if tt.get == nil || r.Header.Get("Range") != "bytes=0-0" {
						t.Errorf("unexpected GET, Range %q", r.Header.Get("Range"))
						w.WriteHeader(http.StatusTeapot)
						return
					}
					a = *tt.get
				}
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(a.code)
				if r.Method == http.MethodGet && a.code < 300 {
					w.Write([]byte("P"))
				}
			})
			url := srv.URL + "/x.zip"
			size, err := testClient(t, Options{}).Stat(t.Context(), url)
			if tt.wantErr != nil {
				if err == nil || !tt.wantErr(err) || !strings.Contains(err.Error(), url) {
					t.Fatalf("err = %v", err)
				}
			} else if err != nil || size != tt.want {
				t.Fatalf("Stat = %d, %v; want %d", size, err, tt.want)
			}
			if int(gets.Load()) != tt.wantGets {
				t.Errorf("%d GETs, want %d", gets.Load(), tt.wantGets)
			}
		})
	}
}

func TestStatServeContent(t *testing.T) {
	payload := bytes.Repeat([]byte("z"), 4321)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "x.zip", time.Time{}, bytes.NewReader(payload))
	})
	size, err := testClient(t, Options{}).Stat(t.Context(), srv.URL+"/x.zip")
	if err != nil || size != 4321 {
		t.Fatalf("Stat = %d, %v", size, err)
	}
}

func TestOpen(t *testing.T) {
	t.Run("size and body", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			w.Write([]byte("PK..."))
		})
		body, size, err := testClient(t, Options{}).Open(t.Context(), srv.URL+"/x.zip")
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		b, err := io.ReadAll(body)
		if err != nil || string(b) != "PK..." || size != 5 {
			t.Fatalf("read %q, %v, size %d", b, err, size)
		}
	})
	t.Run("unknown size", func(t *testing.T) {
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("PK"))
			w.(http.Flusher).Flush()
			w.Write([]byte("..."))
		})
		body, size, err := testClient(t, Options{}).Open(t.Context(), srv.URL+"/x.zip")
		if err != nil {
			t.Fatal(err)
		}
		defer body.Close()
		if b, err := io.ReadAll(body); err != nil || string(b) != "PK..." || size != -1 {
			t.Fatalf("read %q, %v, size %d", b, err, size)
		}
	})
	t.Run("404", func(t *testing.T) {
		srv := newServer(t, http.NotFound)
		body, _, err := testClient(t, Options{}).Open(t.Context(), srv.URL+"/x.zip")
		if body != nil || !errors.Is(err, sources.ErrNotFound) {
			t.Fatalf("Open = %v, %v", body, err)
		}
	})
}

// TestOpenStreams: Open returns while the server is still sending, so the
// body is not buffered anywhere on the way.
func TestOpenStreams(t *testing.T) {
	const chunk, chunks = 1 << 20, 32
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(chunk*chunks))
		buf := bytes.Repeat([]byte("z"), chunk)
		w.Write(buf)
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		for range chunks - 1 {
			w.Write(buf)
		}
	})
	body, size, err := testClient(t, Options{}).Open(t.Context(), srv.URL+"/big.zip")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if size != chunk*chunks {
		t.Errorf("size %d", size)
	}
	if _, err := io.ReadFull(body, make([]byte, chunk)); err != nil {
		t.Fatal(err)
	}
	close(release)
	n, err := io.Copy(io.Discard, body)
	if err != nil || n != chunk*(chunks-1) {
		t.Fatalf("copied %d, %v", n, err)
	}
}

func TestOpenBodyFailures(t *testing.T) {
	tests := []struct {
		name    string
		stall   time.Duration
		handler http.HandlerFunc
		wantIs  error // nil: any error
	}{
		{
			name:  "stall: one byte then silence",
			stall: 200 * time.Millisecond,
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "100")
				w.Write([]byte("P"))
				w.(http.Flusher).Flush()
				select {
				case <-r.Context().Done():
				case <-time.After(30 * time.Second):
				}
			},
			wantIs: ErrStalled,
		},
		{
			name: "cut short of Content-Length",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000")
				w.Write([]byte("PK\x03\x04"))
			},
			wantIs: io.ErrUnexpectedEOF,
		},
		{
			name: "connection reset mid-body",
			handler: func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
				buf.Write(bytes.Repeat([]byte("z"), 1000))
				buf.Flush()
				time.Sleep(20 * time.Millisecond)
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handler)
			url := srv.URL + "/x.zip"
			c := testClient(t, Options{StallTimeout: tt.stall})
			body, _, err := c.Open(t.Context(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer body.Close()
			start := time.Now()
			_, err = io.Copy(io.Discard, body)
			if err == nil {
				t.Fatal("body read to the end without an error")
			}
			t.Logf("error: %v", err)
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("err = %v, want %v", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), url) {
				t.Errorf("err %q does not name the URL", err)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestStallIsNotATotalTimeout: a slow consumer, or a slow but steady
// server, is not a stall.
func TestStallIsNotATotalTimeout(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		for range 6 {
			w.Write([]byte("z"))
			w.(http.Flusher).Flush()
			time.Sleep(40 * time.Millisecond)
		}
	})
	body, _, err := testClient(t, Options{StallTimeout: 150 * time.Millisecond}).Open(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	var got []byte
	buf := make([]byte, 1)
	for {
		n, err := body.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond) // longer than StallTimeout, outside Read
	}
	if string(got) != "zzzzzz" {
		t.Errorf("read %q", got)
	}
}

func TestOpenCancelMidBody(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("P"))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	body, _, err := testClient(t, Options{}).Open(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if _, err := body.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err = io.Copy(io.Discard, body)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrStalled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// TestAccept: FetchAccept and OpenAccept send their Accept header on every
// hop of a redirect; Fetch and Open send none of their own.
func TestAccept(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" "+r.Header.Get("Accept"))
		mu.Unlock()
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, "/end", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	})
	c := testClient(t, Options{})
	if _, _, err := c.FetchAccept(t.Context(), srv.URL+"/hop", "application/vnd.github.raw+json", nil, 0); err != nil {
		t.Fatal(err)
	}
	body, _, err := c.OpenAccept(t.Context(), srv.URL+"/end", "application/octet-stream")
	if err != nil {
		t.Fatal(err)
	}
	body.Close()
	if _, _, err := c.Fetch(t.Context(), srv.URL+"/end", nil, 0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"/hop application/vnd.github.raw+json",
		"/end application/vnd.github.raw+json",
		"/end application/octet-stream",
		"/end ",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
