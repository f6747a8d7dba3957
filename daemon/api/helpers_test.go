package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/daemon/api"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/updater"
)

const testToken = "test-token-0123456789abcdef"

// service is a running daemon (policy notify: checks never install) with
// its HTTP service on a loopback port, over one root holding:
//
//	pkg    1.0.0, 1.1.0 released in a folder (fs source)
//	slow   1.0.0, 2.0.0 released on a web host whose zip waits for gate
//	local  no update_url
type service struct {
	root    string
	base    string // http://127.0.0.1:PORT
	d       *daemon.Daemon
	hub     *api.Hub
	metrics *api.Metrics
	zipSize int64 // bytes of pkg's 1.1.0.zip
	gate    chan struct{}
	asked   chan struct{} // a request for slow's zip arrived
	once    sync.Once
}

// release lets slow's zip be downloaded.
func (s *service) release() { s.once.Do(func() { close(s.gate) }) }

type serviceOpts struct {
	metricsPublic bool
	maxStreams    int
	maxBody       int64
	now           func() time.Time
}

func pkgZip(t *testing.T, name, version string) []byte {
	return testpkg.Zip(t, "", map[string]string{
		"a2modsource.json":  testpkg.Manifest(name, version, ""),
		"mod/a2module.json": `[{"typ": "nfo", "version": "` + version + `"}]`,
		"mod/code.ahk":      "version " + version,
	})
}

func startService(t *testing.T, o serviceOpts) *service {
	t.Helper()
	base := t.TempDir()
	s := &service{root: filepath.Join(base, "root"), gate: make(chan struct{}), asked: make(chan struct{}, 10)}
	rel := filepath.Join(base, "releases", "pkg")
	z := pkgZip(t, "pkg", "1.1.0")
	s.zipSize = int64(len(z))
	testpkg.WriteFile(t, filepath.Join(rel, "a2modsource.json"), testpkg.Manifest("pkg", "1.1.0", ""))
	if err := os.WriteFile(filepath.Join(rel, "1.1.0.zip"), z, 0o644); err != nil {
		t.Fatal(err)
	}
	testpkg.WriteFile(t, filepath.Join(s.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	testpkg.WriteFile(t, filepath.Join(s.root, "pkg", "mod", "code.ahk"), "version 1.0.0")
	testpkg.WriteFile(t, filepath.Join(s.root, "local", "a2modsource.json"), testpkg.Manifest("local", "0.1.0", ""))

	slowZip := pkgZip(t, "slow", "2.0.0")
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow/a2modsource.json":
			io.WriteString(w, testpkg.Manifest("slow", "2.0.0", ""))
		case "/slow/2.0.0.zip":
			if r.Method == http.MethodGet {
				s.asked <- struct{}{}
				<-s.gate
			}
			w.Header().Set("Content-Length", itoa(len(slowZip)))
			w.Write(slowZip)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(web.Close)
	t.Cleanup(s.release)
	testpkg.WriteFile(t, filepath.Join(s.root, "slow", "a2modsource.json"), testpkg.Manifest("slow", "1.0.0", web.URL+"/slow/"))

	logger := slog.New(slog.DiscardHandler)
	u := &updater.Updater{
		Sources: updater.NewSources(updater.Config{Getenv: func(string) string { return "" }, HTTP: &httpx.Options{
			RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}),
		Logger: logger, RetryWait: time.Millisecond, Actor: "daemon",
	}
	streams := o.maxStreams
	if streams == 0 {
		streams = api.DefaultMaxStreams
	}
	s.hub = api.NewHub(streams)
	s.metrics = api.NewMetrics()
	d, err := daemon.New(daemon.Options{
		Roots: []string{s.root}, Interval: time.Hour, Policy: daemon.PolicyNotify, Concurrency: 2,
		StartSpread: time.Millisecond, NoWatch: true, Updater: u, Logger: logger, Version: "1.2.3-test",
		Observers: []daemon.Observer{s.hub, s.metrics},
	})
	if err != nil {
		t.Fatal(err)
	}
	s.d = d
	s.metrics.ReadFrom(d)
	srv, err := api.New(api.Options{Backend: d, Token: testToken, MetricsPublic: o.metricsPublic, MaxBody: o.maxBody, Now: o.now,
		Hub: s.hub, Metrics: s.metrics, Heartbeat: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.base = "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.Run(ctx) })
	wg.Go(func() { srv.Serve(ctx, ln) })
	t.Cleanup(func() {
		s.release()
		cancel()
		wg.Wait()
	})
	// Every package checked once before the test begins.
	deadline := time.Now().Add(15 * time.Second)
	for {
		sts, err := daemon.Statuses([]string{s.root}, "")
		if err == nil && len(sts) == 3 && sts[0].LastCheck != nil && sts[1].LastCheck != nil && sts[2].LastCheck != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not check every package: %+v, %v", sts, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// call sends a request with the test token (unless header overrides
// Authorization) and returns the answer and its body.
func (s *service) call(t *testing.T, method, path, body string, header ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
			continue
		}
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// errorOf decodes an error answer.
func errorOf(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("not a JSON error: %q", data)
	}
	if _, ok := m["error"].(string); !ok {
		t.Fatalf("no \"error\" in %s", data)
	}
	return m
}

// sse is an open event stream.
type sse struct {
	resp   *http.Response
	events chan sseEvent
}

type sseEvent struct {
	name string
	data daemon.Event
}

// openEvents opens /v1/events; the stream is read in the background.
func (s *service) openEvents(t *testing.T) (*sse, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.base+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, resp
	}
	st := &sse{resp: resp, events: make(chan sseEvent, 1000)}
	go func() {
		defer close(st.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
			case line == "" && ev.name != "":
				st.events <- ev
				ev = sseEvent{}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return st, resp
}

// next waits for the next event named name about pkg, skipping others.
func (st *sse) next(t *testing.T, name, pkg string) daemon.Event {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-st.events:
			if !ok {
				t.Fatalf("the stream ended before a %s event about %s", name, pkg)
			}
			if ev.name == name && ev.data.Package == pkg {
				if string(ev.data.Type) != name {
					t.Fatalf("event %q carries type %q", name, ev.data.Type)
				}
				return ev.data
			}
		case <-timeout:
			t.Fatalf("no %s event about %s", name, pkg)
		}
	}
}
