package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/updater"
)

// logSink collects the daemon's JSON log lines.
type logSink struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []map[string]any
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf.Write(p)
	for {
		line, err := s.buf.ReadBytes('\n')
		if err != nil {
			s.buf.Write(line) // incomplete: keep it for the next write
			break
		}
		var m map[string]any
		if json.Unmarshal(line, &m) == nil {
			s.lines = append(s.lines, m)
		}
	}
	return len(p), nil
}

// count counts log lines with msg about pkg (and the given field values).
func (s *logSink) count(msg, pkg string, kv ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
next:
	for _, l := range s.lines {
		p, _ := l["package"].(string)
		if l["msg"] != msg || p != pkg {
			continue
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if fmt.Sprint(l[kv[i]]) != kv[i+1] {
				continue next
			}
		}
		n++
	}
	return n
}

func (s *logSink) dump() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, l := range s.lines {
		j, _ := json.Marshal(l)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

func waitFor(t *testing.T, what string, logs *logSink, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// fsRelease publishes version of package name in folder rel.
func fsRelease(t *testing.T, rel, name, version string) {
	t.Helper()
	testpkg.WriteFile(t, filepath.Join(rel, "a2modsource.json"), testpkg.Manifest(name, version, ""))
	z := testpkg.Zip(t, "", map[string]string{
		"a2modsource.json":  testpkg.Manifest(name, version, ""),
		"mod/a2module.json": `[{"typ": "nfo", "version": "` + version + `"}]`,
		"mod/code.ahk":      "version " + version,
	})
	if err := os.WriteFile(filepath.Join(rel, version+".zip"), z, 0o644); err != nil {
		t.Fatal(err)
	}
}

func installed(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "mod", "code.ahk"))
	if err != nil {
		return ""
	}
	return string(b)
}

type fixture struct {
	root   string
	rels   string
	logs   *logSink
	opts   Options
	getenv func(string) string
	d      *Daemon // the running daemon, once started
}

func newFixture(t *testing.T) *fixture {
	base := t.TempDir()
	f := &fixture{root: filepath.Join(base, "root"), rels: filepath.Join(base, "releases"), logs: &logSink{}}
	if err := os.MkdirAll(f.root, 0o755); err != nil {
		t.Fatal(err)
	}
	f.getenv = func(string) string { return "" }
	f.opts = Options{
		Roots: []string{f.root}, Interval: time.Hour, Debounce: 50 * time.Millisecond,
		StartSpread: time.Millisecond, Concurrency: 2, ShutdownGrace: 10 * time.Second,
		RootPoll: 50 * time.Millisecond,
	}
	return f
}

// start runs a daemon until the test ends (or the returned stop is called).
func (f *fixture) start(t *testing.T) (stop func()) {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts := f.opts
	opts.Logger = logger
	opts.Updater = &updater.Updater{
		Sources: updater.NewSources(updater.Config{Getenv: f.getenv, HTTP: &httpx.Options{
			RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond, StallTimeout: 5 * time.Second}}),
		Logger: logger, RetryWait: time.Millisecond,
	}
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	f.d = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitFor(t, "daemon start", f.logs, func() bool { return f.logs.count("daemon started", "") > 0 })
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run returned %v, want nil", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("daemon did not stop")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// A package folder dropped into a running daemon's root is checked and
// installed; modup's own swap of it triggers no further check.
func TestNewPackageIsCheckedAndInstalled(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	f.start(t)

	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	waitFor(t, "install", f.logs, func() bool { return f.logs.count("install", "pkg", "status", "updated") == 1 })
	if got := installed(t, dir); got != "version 1.1.0" {
		t.Fatalf("installed content = %q", got)
	}
	// Our own swap replaced the folder and its manifest: no check follows.
	time.Sleep(10 * f.opts.Debounce)
	if n := f.logs.count("check", "pkg"); n != 1 {
		t.Errorf("checks of pkg = %d, want 1 (own swap must not trigger one); log:\n%s", n, f.logs.dump())
	}
	if n := f.logs.count("package changed", "pkg"); n != 0 {
		t.Errorf("own swap reported as a change")
	}
	st, err := ReadState(f.root, "pkg")
	if err != nil || st.Installed != "1.1.0" || st.LastUpdate == nil || st.LastUpdate.Status != updater.StatusUpdated {
		t.Errorf("state = %+v, %v", st, err)
	}
}

// A package changed by hand is re-checked (and, being behind, updated).
func TestHandEditedManifestIsRechecked(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.0.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return f.logs.count("check", "pkg", "status", "up-to-date") == 1 })

	// The author's new release appears, and the user points the package
	// at it by editing the manifest (as a2's UI would).
	fsRelease(t, filepath.Join(f.rels, "pkg2"), "pkg", "2.0.0")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg2")))
	waitFor(t, "re-check after the edit", f.logs, func() bool { return f.logs.count("install", "pkg", "to", "2.0.0") == 1 })
	if got := installed(t, dir); got != "version 2.0.0" {
		t.Errorf("installed content = %q", got)
	}
}

// --policy notify records an available update and installs nothing.
func TestNotifyPolicyOnlyRecords(t *testing.T) {
	f := newFixture(t)
	f.opts.Policy = PolicyNotify
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	f.start(t)
	waitFor(t, "check", f.logs, func() bool { return f.logs.count("check", "pkg", "status", "update-available") == 1 })
	waitFor(t, "state", f.logs, func() bool {
		st, err := ReadState(f.root, "pkg")
		return err == nil && st.Available == "1.1.0" && st.Status == updater.StatusUpdateAvailable
	})
	if f.logs.count("install", "pkg") != 0 {
		t.Error("notify policy installed")
	}
	if _, err := os.Stat(filepath.Join(dir, "mod")); err == nil {
		t.Error("package folder changed under notify")
	}
}

// A restart keeps the schedule: a package checked by the first run is not
// checked again by the second before its next check.
func TestRestartKeepsSchedule(t *testing.T) {
	f := newFixture(t)
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.0.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	stop := f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return f.logs.count("check", "pkg") == 1 })
	waitFor(t, "state written", f.logs, func() bool { _, err := ReadState(f.root, "pkg"); return err == nil })
	stop()
	before, err := ReadState(f.root, "pkg")
	if err != nil {
		t.Fatal(err)
	}
	if d := before.NextCheck.Sub(before.LastCheck); d < 54*time.Minute || d > 66*time.Minute {
		t.Errorf("next check %v after the last, want the interval (1h) ±10%%", d)
	}

	f.logs = &logSink{}
	f.start(t)
	time.Sleep(20 * f.opts.Debounce)
	if n := f.logs.count("check", "pkg"); n != 0 {
		t.Errorf("restart re-checked pkg %d times; log:\n%s", n, f.logs.dump())
	}
	after, _ := ReadState(f.root, "pkg")
	if !after.NextCheck.Equal(before.NextCheck) {
		t.Errorf("next check moved from %v to %v", before.NextCheck, after.NextCheck)
	}
}

// --on-update receives the package, versions and path in its environment;
// its failure does not undo the install.
func TestOnUpdateEnvironment(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the hook is a POSIX shell command here")
	}
	f := newFixture(t)
	out := filepath.Join(t.TempDir(), "hook.env")
	f.opts.OnUpdate = `env | grep '^MODUP_' | sort > ` + out + `; exit 3`
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	f.start(t)
	waitFor(t, "hook", f.logs, func() bool { return f.logs.count("on-update command failed; the install stands", "pkg") == 1 })
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "MODUP_FROM=1.0.0\nMODUP_PACKAGE=pkg\nMODUP_PATH=" + dir + "\nMODUP_TO=1.1.0\n"
	if string(got) != want {
		t.Errorf("hook environment:\n%s\nwant:\n%s", got, want)
	}
	if installed(t, dir) != "version 1.1.0" {
		t.Error("a failing hook undid the install")
	}
}

// Stopping the daemon while it downloads leaves the old version in place
// and no partial files, and Run returns promptly.
func TestStopDuringDownloadKeepsOldVersion(t *testing.T) {
	f := newFixture(t)
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	z := testpkg.Zip(t, "", map[string]string{"a2modsource.json": testpkg.Manifest("pkg", "2.0.0", ""), "mod/code.ahk": "version 2.0.0"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/pkg/a2modsource.json":
			w.Write([]byte(testpkg.Manifest("pkg", "2.0.0", "")))
		case "/pkg/2.0.0.zip":
			if r.Method == http.MethodHead {
				w.Header().Set("Content-Length", fmt.Sprint(len(z)))
				return
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(z)))
			w.Write(z[:10])
			w.(http.Flusher).Flush()
			select {
			case started <- struct{}{}:
			default:
			}
			select { // hang until the test ends
			case <-release:
			case <-r.Context().Done():
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", srv.URL+"/pkg"))
	testpkg.WriteFile(t, filepath.Join(dir, "mod", "code.ahk"), "version 1.0.0")
	stop := f.start(t)
	select {
	case <-started:
	case <-time.After(15 * time.Second):
		t.Fatalf("download never started; log:\n%s", f.logs.dump())
	}
	stop()
	if got := installed(t, dir); got != "version 1.0.0" {
		t.Errorf("after stop the package holds %q, want the old version", got)
	}
	for _, sub := range []string{"tmp", "staging", "journal"} {
		entries, _ := os.ReadDir(filepath.Join(f.root, ".modup", sub, "pkg"))
		if sub == "journal" {
			entries, _ = os.ReadDir(filepath.Join(f.root, ".modup", sub))
		}
		if len(entries) != 0 {
			t.Errorf(".modup/%s holds %d leftovers", sub, len(entries))
		}
	}
	if f.logs.count("install", "pkg", "status", "failed", "error", "stopped by shutdown; the installed version is unchanged") != 1 {
		t.Errorf("the interrupted install was not logged as stopped by shutdown; log:\n%s", f.logs.dump())
	}
	// status reads the same words, not "context canceled".
	st, err := ReadState(f.root, "pkg")
	if err != nil || st.LastUpdate == nil || st.LastUpdate.Error != "stopped by shutdown; the installed version is unchanged" {
		t.Errorf("state after the stop: %+v, %v", st.LastUpdate, err)
	}
}

// A rate-limited GitHub API pauses only API look-ups: raw manifest checks
// go on and installs fall back to the tag archive.
func TestRateLimitedAPIPausesOnlyAPILookups(t *testing.T) {
	f := newFixture(t)
	gh := githubtest.New(t)
	env := map[string]string{}
	for _, kv := range gh.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	f.getenv = func(k string) string { return env[k] }
	gh.RateLimit(time.Now().Add(time.Hour))
	for _, name := range []string{"one", "two"} {
		gh.SetManifest("a2", name, "HEAD", []byte(testpkg.Manifest(name, "1.1.0", "")))
		gh.AddRelease("a2", name, githubtest.Release{Tag: "1.1.0", Files: map[string]string{
			"a2modsource.json": testpkg.Manifest(name, "1.1.0", ""), "mod/code.ahk": "version 1.1.0"}})
		testpkg.WriteFile(t, filepath.Join(f.root, name, "a2modsource.json"), testpkg.Manifest(name, "1.0.0", gh.RepoURL("a2", name)))
	}
	f.opts.Concurrency = 1 // one after the other: the second must not touch the API
	f.start(t)
	for _, name := range []string{"one", "two"} {
		waitFor(t, name+" installed", f.logs, func() bool { return f.logs.count("install", name, "status", "updated") == 1 })
		if got := installed(t, filepath.Join(f.root, name)); got != "version 1.1.0" {
			t.Errorf("%s holds %q", name, got)
		}
	}
	if n := gh.Count("api"); n > 1 {
		t.Errorf("API requests = %d, want at most the one that met the limit", n)
	}
	if gh.Count("raw") < 2 || gh.Count("archive") < 2 {
		t.Errorf("raw = %d, archive = %d: checks and tag-archive installs should go on", gh.Count("raw"), gh.Count("archive"))
	}
}

// A hook that hangs (its child keeps the output pipe open) neither blocks
// the checks and installs of other packages nor shutdown: it is killed
// with its process group when the daemon stops.
func TestHangingHookBlocksNothing(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the hook is a POSIX shell command here")
	}
	f := newFixture(t)
	f.opts.Concurrency = 1
	f.opts.HookTimeout = time.Hour
	marker := filepath.Join(t.TempDir(), "hook-started")
	f.opts.OnUpdate = `if [ "$MODUP_PACKAGE" = first ]; then touch ` + marker + `; sleep 100000; true; fi`
	fsRelease(t, filepath.Join(f.rels, "first"), "first", "1.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "first", "a2modsource.json"), testpkg.Manifest("first", "1.0.0", filepath.Join(f.rels, "first")))
	stop := f.start(t)
	waitFor(t, "first install", f.logs, func() bool { return f.logs.count("install", "first", "status", "updated") == 1 })
	waitFor(t, "the hook to hang", f.logs, func() bool { _, err := os.Stat(marker); return err == nil })

	// With one worker and the first hook hanging, a second package is
	// still checked and installed.
	fsRelease(t, filepath.Join(f.rels, "second"), "second", "2.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "second", "a2modsource.json"), testpkg.Manifest("second", "2.0.0", filepath.Join(f.rels, "second")))
	waitFor(t, "second install while the hook hangs", f.logs, func() bool { return f.logs.count("install", "second", "status", "updated") == 1 })

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(15 * time.Second):
		t.Fatalf("shutdown waited on the hanging hook; log:\n%s", f.logs.dump())
	}
	if f.logs.count("on-update command failed; the install stands", "first") != 1 {
		t.Errorf("the killed hook was not logged; log:\n%s", f.logs.dump())
	}
}

// A hook that runs past --hook-timeout is killed and logged as such; the
// install stands.
func TestHookTimeout(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the hook is a POSIX shell command here")
	}
	f := newFixture(t)
	f.opts.HookTimeout = 200 * time.Millisecond
	f.opts.OnUpdate = `echo working; sleep 100000; true`
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.1.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	f.start(t)
	waitFor(t, "hook killed", f.logs, func() bool {
		return f.logs.count("on-update command failed; the install stands", "pkg", "output", "working\n") == 1
	})
	if !strings.Contains(f.logs.dump(), "killed after 200ms: timed out") {
		t.Errorf("the log does not say the hook timed out:\n%s", f.logs.dump())
	}
	if installed(t, dir) != "version 1.1.0" {
		t.Error("a hook timeout undid the install")
	}
}

// State dated in the future (the clock was ahead when the last check ran)
// does not stop checks until that date: the next check is never later
// than now + interval.
func TestFutureStateIsCapped(t *testing.T) {
	f := newFixture(t)
	f.opts.Interval = 300 * time.Millisecond
	fsRelease(t, filepath.Join(f.rels, "pkg"), "pkg", "1.0.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", filepath.Join(f.rels, "pkg")))
	future := time.Now().AddDate(1, 0, 0)
	if err := WriteState(f.root, State{Name: "pkg", LastCheck: future, NextCheck: future.Add(time.Hour), Status: updater.StatusUpToDate}); err != nil {
		t.Fatal(err)
	}
	f.start(t)
	waitFor(t, "a check despite the future state", f.logs, func() bool { return f.logs.count("check", "pkg") >= 1 })
	waitFor(t, "the state rewritten", f.logs, func() bool {
		st, err := ReadState(f.root, "pkg")
		return err == nil && st.LastCheck.Before(time.Now().Add(time.Minute)) && st.NextCheck.Before(time.Now().Add(time.Minute))
	})
}

// A rate-limit reset far in the future (a hostile or broken server) delays
// the next check by one interval at most.
func TestNextCheckCappedAtInterval(t *testing.T) {
	f := newFixture(t)
	d, err := New(Options{Roots: []string{f.root}, Interval: time.Hour, Updater: &updater.Updater{}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	res := jobResult{err: fmt.Errorf("check: %w", &sources.RateLimitError{Host: "api.example", Reset: now.AddDate(10, 0, 0)})}
	if got := d.next(res, now); got.After(now.Add(time.Hour)) {
		t.Errorf("next check at %v, more than one interval after %v", got, now)
	}
	res.err = fmt.Errorf("check: %w", &sources.RateLimitError{Host: "api.example", Reset: now.Add(10 * time.Minute)})
	if got := d.next(res, now); got.Before(now.Add(10*time.Minute)) || got.After(now.Add(11*time.Minute)) {
		t.Errorf("next check at %v, want at the reset (+ up to a minute)", got.Sub(now))
	}
}
