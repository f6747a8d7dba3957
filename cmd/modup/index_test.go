package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/index/doc"
	"github.com/modup/modup/internal/indextest"
)

// TestIndexServe: `index serve --addr 127.0.0.1:0` prints the address it
// chose, answers the documents there, refreshes in the background (a new
// release shows up without a restart) and stops on cancel.
func TestIndexServe(t *testing.T) {
	web := indextest.NewWeb(t)
	web.Publish(t, "/hello", "hello", "1.0.0", nil)
	dir := t.TempDir()
	list := filepath.Join(dir, "sources.txt")
	if err := os.WriteFile(list, []byte(web.URL+"/hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "index.db")
	env := func(string) string { return "" }
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"index", "build", "--sources", list, "--db", db}, envWith(nil, &out, &errOut, env)); code != 0 {
		t.Fatalf("build: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}

	ctx, cancel := context.WithCancel(t.Context())
	stdout := newLineBuffer()
	var serveErr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"index", "serve", "--db", db, "--addr", "127.0.0.1:0", "--refresh", "200ms"}, envWith(nil, stdout, &serveErr, env))
	}()
	line := stdout.waitFor(t, regexp.MustCompile(`^url: (http://127\.0\.0\.1:\d+/)$`), 10*time.Second)
	base := line[1]
	if strings.HasSuffix(base, ":0/") {
		t.Fatalf("printed %q, not the chosen port", base)
	}
	latest := func() string {
		resp, err := http.Get(base + "list/packages.json")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var l doc.PackageList
		if err := doc.Decode(body, "list/packages.json", &l); err != nil || len(l.Packages) != 1 {
			t.Fatalf("list/packages.json: %s %s (%v)", resp.Status, body, err)
		}
		return l.Packages[0].Version
	}
	if v := latest(); v != "1.0.0" {
		t.Fatalf("served %s, want 1.0.0", v)
	}
	web.Publish(t, "/hello", "hello", "1.1.0", nil)
	deadline := time.Now().Add(15 * time.Second)
	for latest() != "1.1.0" {
		if time.Now().After(deadline) {
			t.Fatalf("the background refresh did not pick up 1.1.0; stderr:\n%s", serveErr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stdout.String(), "stopped") {
			t.Errorf("serve: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout.String(), serveErr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(serveErr.String(), "msg=refresh") {
		t.Errorf("no refresh logged:\n%s", serveErr.String())
	}
}

func envWith(stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) env {
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	return env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
}

// lineBuffer collects output written from another goroutine.
type lineBuffer struct {
	mu      sync.Mutex
	buf     strings.Builder
	written chan struct{}
}

func newLineBuffer() *lineBuffer { return &lineBuffer{written: make(chan struct{}, 1)} }

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf.Write(p)
	b.mu.Unlock()
	select {
	case b.written <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits until a line matches re and returns its submatches.
func (b *lineBuffer) waitFor(t *testing.T, re *regexp.Regexp, limit time.Duration) []string {
	t.Helper()
	deadline := time.After(limit)
	for {
		for _, l := range strings.Split(b.String(), "\n") {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		select {
		case <-b.written:
		case <-deadline:
			t.Fatalf("no line matching %s in:\n%s", re, b.String())
		}
	}
}
