package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// authorBuffer is an output that a command running in another goroutine
// writes while the test reads it.
type authorBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (a *authorBuffer) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.b.Write(p)
}

func (a *authorBuffer) String() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.b.String()
}

// authorEnv is an environment with nothing from the test's own (no
// MODUP_ROOTS, no GitHub token).
func authorEnv(stdout, stderr *authorBuffer) env {
	return env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(string) string { return "" }}
}

// authorRun runs modup in-process and returns its exit code and output.
func authorRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut authorBuffer
	code := run(t.Context(), args, authorEnv(&out, &errOut))
	return code, out.String(), errOut.String()
}

func authorMust(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := authorRun(t, args...)
	if code != 0 {
		t.Fatalf("modup %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func authorWrite(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func authorRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var servedURL = regexp.MustCompile(`(?m)^update_url: (http://127\.0\.0\.1:[0-9]+)$`)

// startServe runs `modup serve DIR --addr 127.0.0.1:0` in a goroutine and
// returns the update_url it prints, and a stop function that cancels it
// and returns its exit code.
func startServe(t *testing.T, dir string) (url string, logs *authorBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var out authorBuffer
	logs = &authorBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"serve", dir, "--addr", "127.0.0.1:0"}, authorEnv(&out, logs)) }()
	stopped := false
	stop = func() int {
		t.Helper()
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not return after its context was cancelled")
			return -1
		}
	}
	t.Cleanup(func() {
		if !stopped {
			stop()
		}
	})
	url, err := awaitServe(&out, logs, done)
	if err != nil {
		t.Fatal(err)
	}
	return url, logs, stop
}

// awaitServe waits up to 10s for a serve running in another goroutine to
// print its update_url on out, and returns it.
func awaitServe(out, logs *authorBuffer, done <-chan int) (string, error) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := servedURL.FindStringSubmatch(out.String()); m != nil {
			return m[1], nil
		}
		select {
		case code := <-done:
			return "", fmt.Errorf("serve exited %d before serving:\n%s\n%s", code, out.String(), logs.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("serve printed no update_url:\n%s", out.String())
}

// TestAuthorPackServeInstallUpdate is the author's loop from the README:
// pack, serve, install from the served folder, change and pack a new
// version, update, all in-process over loopback HTTP.
func TestAuthorPackServeInstallUpdate(t *testing.T) {
	base := t.TempDir()
	pkg := filepath.Join(base, "src", "hello")
	authorWrite(t, pkg, map[string]string{
		"a2modsource.json":    "\uFEFF{\n  \"name\": \"hello\",\n  \"news\": \"First.\",\n  \"x_custom\": [1, 2],\n  \"version\": \"1.0.0\"\n}\n",
		"greet/a2module.json": `[{"typ": "nfo", "version": "1.0.0", "description": "Says hello."}]`,
		"greet/greet.ahk":     "MsgBox hello\n",
		".modupignore":        "*.log\n",
		"greet/debug.log":     "not for users",
	})
	site := filepath.Join(base, "site")
	root := filepath.Join(base, "root")

	out := authorMust(t, "pack", pkg, "-o", site)
	for _, want := range []string{"packed hello 1.0.0 (", filepath.Join(site, "1.0.0.zip"), "modup serve " + site, "modup release check " + pkg} {
		if !strings.Contains(out, want) {
			t.Errorf("pack output lacks %q:\n%s", want, out)
		}
	}

	url, logs, stop := startServe(t, site)

	out = authorMust(t, "install", url, "--root", root)
	if !regexp.MustCompile(`(?m)^hello +- +1\.0\.0 +installed$`).MatchString(out) {
		t.Errorf("install output:\n%s", out)
	}
	installed := filepath.Join(root, "hello")
	if got := authorRead(t, filepath.Join(installed, "greet", "greet.ahk")); got != "MsgBox hello\n" {
		t.Errorf("installed greet.ahk = %q", got)
	}
	if _, err := os.Stat(filepath.Join(installed, "greet", "debug.log")); err == nil {
		t.Error(".modupignore was not honoured: debug.log installed")
	}

	// The author changes the package and releases a minor version.
	authorWrite(t, pkg, map[string]string{"greet/greet.ahk": "MsgBox hello, twice\n", "greet/new.ahk": "new file\n"})
	out = authorMust(t, "pack", pkg, "--bump", "minor", "-o", site)
	if !strings.Contains(out, "bumped "+filepath.Join(pkg, "a2modsource.json")+": 1.0.0 -> 1.1.0") || !strings.Contains(out, "earlier releases kept: 1.0.0.zip") {
		t.Errorf("pack --bump output:\n%s", out)
	}
	own := authorRead(t, filepath.Join(pkg, "a2modsource.json"))
	bumped, err := pkgdir.ReadManifest(pkg)
	if err != nil {
		t.Fatal(err)
	}
	custom, _ := bumped.Raw("x_custom")
	var compact bytes.Buffer
	if err := json.Compact(&compact, custom); err != nil || compact.String() != "[1,2]" || !bumped.HasBOM() || bumped.Version != "1.1.0" || bumped.News != "First." {
		t.Errorf("bumped manifest lost its BOM or fields:\n%s", own)
	}

	code, out, errOut := authorRun(t, "check", "--root", root)
	if code != exitAvailable || !regexp.MustCompile(`(?m)^hello +1\.0\.0 +1\.1\.0 +update-available +web$`).MatchString(out) {
		t.Errorf("check: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = authorRun(t, "update", "hello", "--root", root)
	if code != 0 || !regexp.MustCompile(`(?m)^hello +1\.0\.0 +1\.1\.0 +updated$`).MatchString(out) {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
	}
	m, err := pkgdir.ReadManifest(installed)
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "1.1.0" || m.UpdateURL != url {
		t.Errorf("installed manifest: version %q update_url %q", m.Version, m.UpdateURL)
	}
	if got := authorRead(t, filepath.Join(installed, "greet", "greet.ahk")); got != "MsgBox hello, twice\n" {
		t.Errorf("updated greet.ahk = %q", got)
	}
	if got := authorRead(t, filepath.Join(installed, "greet", "new.ahk")); got != "new file\n" {
		t.Errorf("updated new.ahk = %q", got)
	}

	// The published release passes every check.
	out = authorMust(t, "release", "check", url)
	if !strings.Contains(out, "release OK") || strings.Contains(out, "FAIL") {
		t.Errorf("release check:\n%s", out)
	}

	if code := stop(); code != 0 {
		t.Errorf("serve exited %d after Ctrl-C", code)
	}
	for _, want := range []string{"method=GET path=/a2modsource.json status=200", "method=GET path=/1.1.0.zip status=200 bytes=", "duration="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("serve's log lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestAuthorReleaseCheckJSON(t *testing.T) {
	base := t.TempDir()
	pkg := filepath.Join(base, "hello")
	authorWrite(t, pkg, map[string]string{
		"a2modsource.json":    `{"name": "hello", "version": "0.6.0", "update_url": "../hello-release"}`,
		"greet/a2module.json": `[{"typ": "nfo", "version": "1.0.0"}]`,
	})
	authorMust(t, "pack", pkg)

	type report struct {
		Checks []struct {
			Name, Status, Detail, Hint string
		} `json:"checks"`
		OK bool `json:"ok"`
	}
	decode := func(s string) report {
		t.Helper()
		var r report
		dec := json.NewDecoder(strings.NewReader(s))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("release check --json: %v\n%s", err, s)
		}
		return r
	}

	code, out, _ := authorRun(t, "release", "check", pkg, "--json")
	r := decode(out)
	if code != 0 || !r.OK || len(r.Checks) != 12 || r.Checks[0].Name != "manifest" || r.Checks[0].Status != "pass" {
		t.Errorf("clean release: exit %d, %+v", code, r)
	}
	if c := r.Checks[2]; c.Name != "requirements" || c.Status != "pass" || c.Detail != "declares no requirements (any host version, any platform)" {
		t.Errorf("requirements check: %+v", c)
	}

	// The same zip published as 0.6.1: a stale manifest inside. Exit 1.
	rel := filepath.Join(base, "hello-release")
	if err := os.WriteFile(filepath.Join(rel, "0.6.1.zip"), []byte(authorRead(t, filepath.Join(rel, "0.6.0.zip"))), 0o644); err != nil {
		t.Fatal(err)
	}
	authorWrite(t, rel, map[string]string{"a2modsource.json": `{"name": "hello", "version": "0.6.1"}`})
	code, out, _ = authorRun(t, "release", "check", rel, "--json")
	r = decode(out)
	if code != 1 || r.OK {
		t.Errorf("stale release: exit %d ok %v", code, r.OK)
	}
	found := false
	for _, c := range r.Checks {
		if c.Name == "zip-manifest" {
			found = true
			if c.Status != "fail" || c.Detail != "the zip's a2modsource.json says 0.6.0 but the release is 0.6.1" || c.Hint != "run `modup pack DIR --version 0.6.1` and re-upload" {
				t.Errorf("zip-manifest check: %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("no zip-manifest check: %+v", r)
	}
}

func TestAuthorCommandErrors(t *testing.T) {
	base := t.TempDir()
	pkg := filepath.Join(base, "hello")
	authorWrite(t, pkg, map[string]string{"a2modsource.json": `{"name": "hello", "version": "1.0.0"}`})
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"pack", pkg, "--bump", "huge"}, exitUsage, `--bump "huge": want patch, minor or major`},
		{[]string{"pack", pkg, "--bump", "patch", "--version", "2.0.0"}, exitUsage, "exclude each other"},
		{[]string{"pack", pkg, "--version", "2.0"}, exitFailure, `"2.0" is not semver: write it as 2.0.0`},
		{[]string{"pack", filepath.Join(base, "nothing")}, exitFailure, "holds no a2modsource.json"},
		{[]string{"serve", filepath.Join(pkg, "a2modsource.json"), "--addr", "127.0.0.1:0"}, exitFailure, "not a folder"},
		{[]string{"serve", pkg, "--addr", "not-an-address"}, exitFailure, "serve: listen tcp"},
		{[]string{"release", "check", filepath.Join(base, "nothing")}, exitUsage, "pass a package folder, a release folder or an update_url"},
		{[]string{"release", "check", pkg}, exitFailure, ""},
	} {
		code, out, errOut := authorRun(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("modup %s: exit %d, stderr %q (stdout %q); want exit %d and %q", strings.Join(tc.args, " "), code, errOut, out, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "hello-release")); err == nil {
		t.Error("a refused pack created the release folder")
	}
}

// TestAuthorServeWarnsAndStops: serving a folder that is not a release says
// so, and serve stops cleanly even with a client connected.
func TestAuthorServeWarnsAndStops(t *testing.T) {
	dir := t.TempDir()
	authorWrite(t, dir, map[string]string{"a2modsource.json": `{"name": "hello", "version": "2.0.0"}`})
	url, logs, stop := startServe(t, dir)
	resp, err := http.Get(url + "/2.0.0.zip")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing zip: %d", resp.StatusCode)
	}
	// An idle keep-alive connection does not hold shutdown up.
	if code := stop(); code != 0 {
		t.Errorf("serve exited %d", code)
	}
	if !strings.Contains(logs.String(), "names version 2.0.0 but 2.0.0.zip is not there") {
		t.Errorf("no warning about the missing zip:\n%s", logs.String())
	}
	if _, err := http.Get(url + "/a2modsource.json"); err == nil {
		t.Error("still serving after stop")
	}
}
