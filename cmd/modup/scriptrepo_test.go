package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// indexURL is the line `modup index serve` prints its address in.
var indexURL = regexp.MustCompile(`(?m)^url: (http://127\.0\.0\.1:[0-9]+/)$`)

// indexServeCmd is "indexserve DB [ARGS...]": `modup index serve --db DB
// --addr 127.0.0.1:0 --refresh 0 ARGS...` in-process until the script
// ends, its base URL in $INDEX.
func indexServeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: indexserve DB [ARGS...]")
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs authorBuffer
	done := make(chan int, 1)
	finished := make(chan struct{})
	// It runs in this process, whose working folder is not $WORK: the
	// paths the flags name are made absolute, as a shell would find them.
	rest := slices.Clone(args[1:])
	for i := 1; i < len(rest); i++ {
		switch rest[i-1] {
		case "--mirror", "--sign", "--sources", "--export":
			rest[i] = ts.MkAbs(rest[i])
		}
	}
	argv := append([]string{"index", "serve", "--db", ts.MkAbs(args[0]), "--addr", "127.0.0.1:0", "--refresh", "0"}, rest...)
	go func() {
		defer close(finished)
		done <- run(ctx, argv, authorEnv(&out, &logs))
	}()
	ts.Defer(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(10 * time.Second):
			ts.Logf("index serve did not stop within 10s")
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := indexURL.FindStringSubmatch(out.String()); m != nil {
			ts.Setenv("INDEX", m[1])
			return
		}
		select {
		case code := <-done:
			ts.Fatalf("index serve exited %d:\n%s\n%s", code, out.String(), logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%v", fmt.Errorf("index serve printed no url:\n%s", out.String()))
		}
	}
}

// staticServeCmd is "staticserve DIR": a plain static file server (Go's
// http.FileServer, with an ETag of each file's size and modification time,
// as nginx makes them) over DIR until the script ends, its URL in $STATIC.
// Each request is appended to $WORK/static.log as "METHOD PATH STATUS".
func staticServeCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: staticserve DIR")
	}
	dir := ts.MkAbs(args[0])
	logPath := ts.MkAbs("static.log")
	var mu sync.Mutex
	files := http.FileServer(http.Dir(dir))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(path.Clean("/"+r.URL.Path)))); err == nil && st.Mode().IsRegular() {
			w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, st.ModTime().UnixNano(), st.Size()))
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		files.ServeHTTP(rec, r)
		mu.Lock()
		defer mu.Unlock()
		if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			fmt.Fprintf(f, "%s %s %d\n", r.Method, r.URL.Path, rec.status)
			f.Close()
		}
	}))
	ts.Defer(srv.Close)
	ts.Setenv("STATIC", srv.URL)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}
