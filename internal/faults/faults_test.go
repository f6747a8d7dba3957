package faults

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var body = bytes.Repeat([]byte("0123456789"), 100)

func newTestServer(t *testing.T) *Server {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "1.0.0.zip"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	return New(t, dir)
}

// get fetches p without following redirects and reads the whole body.
func get(t *testing.T, s *Server, method, p string) (*http.Response, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+p, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestServesFolder(t *testing.T) {
	s := newTestServer(t)
	resp, b, err := get(t, s, http.MethodGet, "/1.0.0.zip")
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(b, body) {
		t.Fatalf("GET = %v, %v, %d bytes", resp, err, len(b))
	}
	resp, _, err = get(t, s, http.MethodHead, "/1.0.0.zip")
	if err != nil || resp.ContentLength != int64(len(body)) {
		t.Fatalf("HEAD = %v, %v", resp, err)
	}
	resp, _, _ = get(t, s, http.MethodGet, "/sub")
	if resp.StatusCode != 404 {
		t.Errorf("a folder answered %d, want 404", resp.StatusCode)
	}
	s.Put("/a2modsource.json", []byte("{}"))
	if got := s.Paths(); strings.Join(got, " ") != "/1.0.0.zip /a2modsource.json" {
		t.Errorf("Paths = %v", got)
	}
}

func TestFaults(t *testing.T) {
	s := newTestServer(t)
	const p = "/1.0.0.zip"

	t.Run("reset", func(t *testing.T) {
		s.Inject(p, Reset())
		_, b, err := get(t, s, http.MethodGet, p)
		if err == nil || len(b) >= len(body) {
			t.Fatalf("read %d bytes, err %v; want a broken body", len(b), err)
		}
		if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("err = %v, want a reset", err)
		}
	})
	t.Run("cut with length", func(t *testing.T) {
		s.Inject(p, CutShort(true))
		_, b, err := get(t, s, http.MethodGet, p)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(b) != len(body)/2 {
			t.Fatalf("read %d bytes, err %v; want half and an unexpected EOF", len(b), err)
		}
	})
	t.Run("cut without length", func(t *testing.T) {
		s.Inject(p, CutShort(false))
		resp, b, err := get(t, s, http.MethodGet, p)
		if err != nil || len(b) != len(body)/2 || resp.ContentLength != -1 {
			t.Fatalf("read %d bytes (length %d), err %v; want half and a clean EOF", len(b), resp.ContentLength, err)
		}
	})
	t.Run("only GET", func(t *testing.T) {
		s.Inject(p, OnlyGET(CutShort(false)))
		resp, _, err := get(t, s, http.MethodHead, p)
		if err != nil || resp.ContentLength != int64(len(body)) {
			t.Fatalf("HEAD = %v, %v; want it served normally", resp, err)
		}
		resp, b, err := get(t, s, http.MethodGet, p)
		if err != nil || resp.ContentLength != -1 || len(b) != len(body)/2 {
			t.Fatalf("GET: %d bytes, %v; want half", len(b), err)
		}
	})
	t.Run("status n times", func(t *testing.T) {
		s.Inject(p, Status(500, 2))
		for i, want := range []int{500, 500, 200, 200} {
			resp, _, err := get(t, s, http.MethodGet, p)
			if err != nil || resp.StatusCode != want {
				t.Fatalf("request %d: %v %v, want %d", i+1, resp, err, want)
			}
		}
	})
	t.Run("429", func(t *testing.T) {
		s.Inject(p, TooManyRequests(7, 1))
		resp, _, _ := get(t, s, http.MethodGet, p)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("got %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if resp, _, _ := get(t, s, http.MethodGet, p); resp.StatusCode != 200 {
			t.Fatalf("second request: %d", resp.StatusCode)
		}
	})
	t.Run("github rate limit", func(t *testing.T) {
		reset := time.Now().Add(time.Hour)
		s.Inject(p, GitHubRateLimit(reset))
		resp, _, _ := get(t, s, http.MethodGet, p)
		if resp.StatusCode != 403 || resp.Header.Get("X-Ratelimit-Remaining") != "0" || resp.Header.Get("X-Ratelimit-Reset") == "" {
			t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("drip", func(t *testing.T) {
		s.Put("/small", []byte("abc"))
		s.Inject("/small", Drip(time.Millisecond))
		_, b, err := get(t, s, http.MethodGet, "/small")
		if err != nil || string(b) != "abc" {
			t.Fatalf("got %q, %v", b, err)
		}
		// A client that goes away ends the drip.
		s.Inject(p, Drip(time.Hour))
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+p, nil)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil || n != 1 {
			t.Fatalf("read %d bytes, err %v; want 1 byte, then the deadline", n, err)
		}
	})
	t.Run("no headers", func(t *testing.T) {
		s.Inject(p, NoHeaders())
		for _, method := range []string{http.MethodHead, http.MethodGet} {
			ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, method, s.URL+p, nil)
			resp, err := s.Client().Do(req)
			cancel()
			if err == nil {
				resp.Body.Close()
				t.Fatalf("%s: answered %d; want no answer before the client gives up", method, resp.StatusCode)
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: %v, want the client's deadline", method, err)
			}
		}
	})
	t.Run("redirect loop", func(t *testing.T) {
		s.Inject(p, RedirectLoop())
		resp, _, _ := get(t, s, http.MethodGet, p)
		loc := resp.Header.Get("Location")
		resp2, _, _ := get(t, s, http.MethodGet, loc)
		if resp.StatusCode != 302 || resp2.StatusCode != 302 || resp2.Header.Get("Location") != p {
			t.Fatalf("got %d → %s, %d → %s", resp.StatusCode, loc, resp2.StatusCode, resp2.Header.Get("Location"))
		}
	})
	t.Run("redirect to", func(t *testing.T) {
		s.Inject(p, RedirectTo("http://127.0.0.1:1/x/"))
		resp, _, _ := get(t, s, http.MethodGet, p)
		if resp.StatusCode != 302 || resp.Header.Get("Location") != "http://127.0.0.1:1/x"+p {
			t.Fatalf("got %d → %s", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("html", func(t *testing.T) {
		s.Inject(p, HTML())
		resp, b, err := get(t, s, http.MethodGet, p)
		if err != nil || resp.StatusCode != 200 || string(b) != CaptivePage {
			t.Fatalf("got %d %q %v", resp.StatusCode, b, err)
		}
	})
	t.Run("huge length", func(t *testing.T) {
		s.Inject(p, HugeLength(1<<40))
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+p, nil)
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ContentLength != 1<<40 {
			t.Fatalf("Content-Length %d", resp.ContentLength)
		}
		if _, err := io.Copy(io.Discard, resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want an unexpected EOF", err)
		}
	})
	t.Run("flip and replace", func(t *testing.T) {
		s.Inject(p, FlipByte())
		_, b, _ := get(t, s, http.MethodGet, p)
		if len(b) != len(body) || bytes.Equal(b, body) {
			t.Fatal("FlipByte changed nothing")
		}
		s.Inject(p, Replace("other", []byte("other")))
		if _, b, _ := get(t, s, http.MethodGet, p); string(b) != "other" {
			t.Fatalf("Replace served %q", b)
		}
	})
	t.Run("records", func(t *testing.T) {
		s.Clear()
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+p, nil)
		req.Header.Set("Authorization", "Bearer x")
		resp, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		rs := s.Requests()
		if len(rs) != 1 || rs[0].Auth != "Bearer x" || rs[0].Path != p || rs[0].Fault != "" {
			t.Fatalf("Requests = %+v", rs)
		}
	})
}

func TestTLS(t *testing.T) {
	s := NewTLS(t, "")
	s.Put("/a", []byte("x"))
	resp, b, err := get(t, s, http.MethodGet, "/a")
	if err != nil || string(b) != "x" || resp.TLS == nil {
		t.Fatalf("got %q %v", b, err)
	}
}
