package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github/githubtest"
)

// slowHost is a web folder serving hello 1.1.0 whose zip download stops
// halfway until released, so that whoever downloads it holds the package's
// lock as long as the test wants.
type slowHost struct {
	*httptest.Server
	zip         []byte
	downloading chan struct{} // a GET of the zip has sent half of it
	release     chan struct{} // closed: send the rest
	gets        atomic.Int32
}

func newSlowHost(t *testing.T) *slowHost {
	t.Helper()
	src := t.TempDir()
	testpkg.WriteTree(t, src, helloFiles("1.1.0"))
	zip, err := zipDir(src)
	if err != nil {
		t.Fatal(err)
	}
	h := &slowHost{zip: zip, downloading: make(chan struct{}, 10), release: make(chan struct{})}
	manifest := `{"name": "hello", "version": "1.1.0"}`
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a2modsource.json":
			w.Write([]byte(manifest))
		case "/1.1.0.zip":
			w.Header().Set("Content-Length", strconv.Itoa(len(h.zip)))
			if r.Method == http.MethodHead {
				return
			}
			h.gets.Add(1)
			w.Write(h.zip[:len(h.zip)/2])
			http.NewResponseController(w).Flush()
			h.downloading <- struct{}{}
			select {
			case <-h.release:
			case <-r.Context().Done():
				return
			}
			w.Write(h.zip[len(h.zip)/2:])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		select {
		case <-h.release:
		default:
			close(h.release)
		}
		h.Close()
	})
	return h
}

func helloFiles(version string) map[string]string {
	return map[string]string{
		"a2modsource.json":         `{"name": "hello", "version": "` + version + `"}` + "\n",
		"greet/greet.ahk":          "MsgBox hello " + version + "\n",
		"only-" + version + ".txt": version + "\n",
	}
}

// modupProc is modup running as a child process: the test binary itself,
// which TestMain turns into the CLI when called as "modup".
type modupProc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

func startModup(t *testing.T, args ...string) *modupProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &modupProc{done: make(chan struct{})}
	p.cmd = exec.CommandContext(t.Context(), exe)
	p.cmd.Args = append([]string{"modup"}, args...)
	p.cmd.Env = append(os.Environ(), "MODUP_ROOTS=", "NO_COLOR=1", "GITHUB_TOKEN=", "GH_TOKEN=",
		"GORACE=atexit_sleep_ms=0") // -race: no 1s sleep at exit
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := p.cmd.Wait()
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			p.code = ee.ExitCode()
		default:
			p.code = -1
		}
		close(p.done)
	}()
	return p
}

// wait waits for p to end; the test's deadline bounds it.
func (p *modupProc) wait(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("modup %v did not end", p.cmd.Args[1:])
	}
}

// change is one entry of `update --json`.
type change struct {
	Name   string `json:"name"`
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
	Backup string `json:"backup"`
	Error  string `json:"error"`
}

func (p *modupProc) change(t *testing.T) change {
	t.Helper()
	var out struct {
		Packages []change `json:"packages"`
	}
	if err := json.Unmarshal(p.stdout.Bytes(), &out); err != nil || len(out.Packages) != 1 {
		t.Fatalf("modup %v: stdout %q (%v), stderr %q", p.cmd.Args[1:], p.stdout.String(), err, p.stderr.String())
	}
	return out.Packages[0]
}

// setUpHello makes a root holding hello 1.0.0 that updates from h.
func setUpHello(t *testing.T, h *slowHost) string {
	t.Helper()
	root := t.TempDir()
	files := helloFiles("1.0.0")
	files["a2modsource.json"] = `{"name": "hello", "version": "1.0.0", "update_url": "` + h.URL + `/"}` + "\n"
	testpkg.WriteTree(t, filepath.Join(root, "hello"), files)
	return root
}

// checkWhollyNew requires hello to be exactly 1.1.0 (with its update_url
// kept) and 1.0.0 to be its one backup.
func checkWhollyNew(t *testing.T, root, updateURL string) {
	t.Helper()
	want := helloFiles("1.1.0")
	want["a2modsource.json"] = "{\n  \"name\": \"hello\",\n  \"update_url\": \"" + updateURL + "\",\n  \"version\": \"1.1.0\"\n}\n"
	dir := filepath.Join(root, "hello")
	var got []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		got = append(got, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Errorf("hello holds %v, want the %d files of 1.1.0", got, len(want))
	}
	for name, content := range want {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil || string(b) != content {
			t.Errorf("hello/%s: %q (%v), want %q", name, b, err, content)
		}
	}
	bs, err := pkgdir.Layout{Root: root}.Backups("hello")
	if err != nil || len(bs) != 1 || bs[0].Version != "1.0.0" {
		t.Errorf("backups %v (%v), want one of 1.0.0", bs, err)
	}
}

// TestConcurrentUpdatesShortLockTimeout runs two modup processes updating
// one package at once. The one that gets the lock downloads (slowly); the
// other gives up after --lock-timeout naming the holder's pid.
func TestConcurrentUpdatesShortLockTimeout(t *testing.T) {
	h := newSlowHost(t)
	root := setUpHello(t, h)
	args := []string{"update", "hello", "--root", root, "--lock-timeout", "200ms", "--json"}
	procs := []*modupProc{startModup(t, args...), startModup(t, args...)}

	select {
	case <-h.downloading:
	case <-time.After(2 * time.Minute):
		t.Fatal("nobody started downloading")
	}
	// The one still downloading holds the lock; the other ends on its own.
	var loser, winner *modupProc
	select {
	case <-procs[0].done:
		loser, winner = procs[0], procs[1]
	case <-procs[1].done:
		loser, winner = procs[1], procs[0]
	case <-time.After(2 * time.Minute):
		t.Fatal("neither process gave up on the lock")
	}
	close(h.release)
	winner.wait(t)

	if winner.code != 0 {
		t.Errorf("winner exited %d; stderr %q", winner.code, winner.stderr.String())
	}
	if c := winner.change(t); c.Status != "updated" || c.From != "1.0.0" || c.To != "1.1.0" || c.Backup == "" {
		t.Errorf("winner: %+v", c)
	}
	if loser.code != 1 {
		t.Errorf("loser exited %d; stderr %q", loser.code, loser.stderr.String())
	}
	c := loser.change(t)
	t.Logf("loser: %s", c.Error)
	wantMsg := fmt.Sprintf("is being changed by modup (pid %d", winner.cmd.Process.Pid)
	if c.Status != "failed" || !strings.Contains(c.Error, wantMsg) {
		t.Errorf("loser: %+v; want failed with %q", c, wantMsg)
	}
	if n := h.gets.Load(); n != 1 {
		t.Errorf("the zip was downloaded %d times", n)
	}
	checkWhollyNew(t, root, h.URL+"/")
}

// TestConcurrentUpdatesWait: with a long lock timeout the second process
// waits for the first, then finds the package up to date.
func TestConcurrentUpdatesWait(t *testing.T) {
	h := newSlowHost(t)
	root := setUpHello(t, h)
	args := []string{"update", "hello", "--root", root, "--lock-timeout", "2m", "--json"}
	first := startModup(t, args...)
	select {
	case <-h.downloading:
	case <-first.done:
		t.Fatalf("first process ended early: %q %q", first.stdout.String(), first.stderr.String())
	}
	second := startModup(t, args...)
	// Give the second process time to reach the lock (if it is slower,
	// it finds the update done all the same).
	select {
	case <-second.done:
		t.Fatalf("second process did not wait: %q %q", second.stdout.String(), second.stderr.String())
	case <-time.After(500 * time.Millisecond):
	}
	close(h.release)
	first.wait(t)
	second.wait(t)

	if c := first.change(t); first.code != 0 || c.Status != "updated" || c.To != "1.1.0" {
		t.Errorf("first: exit %d, %+v", first.code, c)
	}
	if c := second.change(t); second.code != 0 || c.Status != "up-to-date" || c.From != "1.1.0" {
		t.Errorf("second: exit %d, %+v; stderr %q", second.code, c, second.stderr.String())
	}
	if n := h.gets.Load(); n != 1 {
		t.Errorf("the zip was downloaded %d times", n)
	}
	checkWhollyNew(t, root, h.URL+"/")
}

// runModup runs the CLI in-process with the environment kv.
func runModup(t *testing.T, kv []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	vars := map[string]string{"NO_COLOR": "1"}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		vars[k] = v
	}
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] }})
	return code, out.String(), errOut.String()
}

// TestCLIWithFakeGitHub installs, checks, updates and rolls back a package
// from the fake GitHub through the CLI, which finds it from the
// environment as users point modup at GitHub Enterprise: from a public
// repository, and from a private one with GITHUB_TOKEN, which reaches the
// API host alone.
func TestCLIWithFakeGitHub(t *testing.T) {
	t.Run("public", func(t *testing.T) { testCLIWithFakeGitHub(t, "") })
	t.Run("private", func(t *testing.T) { testCLIWithFakeGitHub(t, "ghp_private") })
}

func testCLIWithFakeGitHub(t *testing.T, token string) {
	s := githubtest.New(t)
	url := s.RepoURL("someone", "hello")
	env := s.Env()
	if token != "" {
		s.SetPrivate("someone", "hello", token)
		env = append(env, "GITHUB_TOKEN="+token)
	}
	files := func(version string) map[string]string {
		f := helloFiles(version)
		f["a2modsource.json"] = `{"name": "hello", "update_url": "` + url + `", "version": "` + version + `"}` + "\n"
		return f
	}
	s.AddRelease("someone", "hello", githubtest.Release{Tag: "v1.0.0", Files: files("1.0.0")})
	s.SetManifest("someone", "hello", "HEAD", []byte(`{"name": "hello", "version": "1.0.0"}`))
	root := t.TempDir()

	code, out, errOut := runModup(t, env, "install", url, "--root", root, "--json")
	if code != 0 || !strings.Contains(out, `"status": "installed"`) || !strings.Contains(out, `"to": "1.0.0"`) {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := s.Count("archive"); n != 1 {
		t.Errorf("install: %d tag archive downloads, want 1", n)
	}

	src := t.TempDir()
	testpkg.WriteTree(t, src, files("1.1.0"))
	zip, err := zipDir(src)
	if err != nil {
		t.Fatal(err)
	}
	s.AddRelease("someone", "hello", githubtest.Release{Tag: "v1.1.0", Body: "says hello twice", Assets: map[string][]byte{"1.1.0.zip": zip}})
	s.SetManifest("someone", "hello", "HEAD", []byte(`{"name": "hello", "version": "1.1.0"}`))

	code, out, errOut = runModup(t, env, "check", "--root", root)
	if code != exitAvailable || !regexpMatch(`(?m)^hello +1\.0\.0 +1\.1\.0 +update-available +github$`, out) {
		t.Errorf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runModup(t, env, "update", "hello", "--root", root)
	if code != 0 || !regexpMatch(`(?m)^hello +1\.0\.0 +1\.1\.0 +updated$`, out) {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := s.Count("asset"); n != 1 {
		t.Errorf("update: %d asset downloads, want 1", n)
	}
	for name, content := range files("1.1.0") {
		if b, err := os.ReadFile(filepath.Join(root, "hello", filepath.FromSlash(name))); err != nil || string(b) != content {
			t.Errorf("hello/%s after update: %q (%v)", name, b, err)
		}
	}
	code, out, errOut = runModup(t, env, "rollback", "hello", "--root", root)
	if code != 0 || !regexpMatch(`(?m)^hello +1\.1\.0 +1\.0\.0 +rolled-back$`, out) {
		t.Errorf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "hello", "only-1.0.0.txt")); string(b) != "1.0.0\n" {
		t.Error("rollback did not bring 1.0.0 back")
	}
	for _, r := range s.Requests() {
		if r.Auth != (token != "" && r.Host == "api") {
			t.Errorf("%s %s on %s: Authorization present = %v", r.Method, r.Path, r.Host, r.Auth)
		}
	}
	if token == "" {
		return
	}
	// Without the token the private package cannot be checked, and the
	// error says what to do.
	code, out, errOut = runModup(t, s.Env(), "check", "--root", root)
	if code != 1 || !strings.Contains(out+errOut, "set GITHUB_TOKEN or GH_TOKEN") {
		t.Errorf("check without a token: exit %d\n%s\n%s", code, out, errOut)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
