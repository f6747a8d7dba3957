package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
)

// safeBuffer is a bytes.Buffer for a command running in a goroutine.
type safeBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *safeBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *safeBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemonWithAPI runs `modup daemon --listen 127.0.0.1:0` in-process over a
// root holding hello 1.0.0 (1.1.0 released in a folder) and notes (local),
// and returns the API's base URL and the environment of the CLI.
func daemonWithAPI(t *testing.T) (root, base string, kv []string) {
	t.Helper()
	dir := t.TempDir()
	root = filepath.Join(dir, "root")
	rel := filepath.Join(dir, "rel", "hello")
	testpkg.WriteFile(t, filepath.Join(rel, "a2modsource.json"), `{"name": "hello", "version": "1.1.0", "news": "says hello twice"}`)
	zip := testpkg.Zip(t, "", map[string]string{"a2modsource.json": testpkg.Manifest("hello", "1.1.0", ""), "mod.ahk": "; v1.1.0"})
	if err := os.WriteFile(filepath.Join(rel, "1.1.0.zip"), zip, 0o644); err != nil {
		t.Fatal(err)
	}
	testpkg.WriteFile(t, filepath.Join(root, "hello", "a2modsource.json"), testpkg.Manifest("hello", "1.0.0", rel))
	testpkg.WriteFile(t, filepath.Join(root, "notes", "a2modsource.json"), testpkg.Manifest("notes", "0.1.0", ""))
	kv = []string{"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "HOME=" + dir, "APPDATA=" + filepath.Join(dir, "config"), "MODUP_ROOTS=" + root}
	vars := map[string]string{"NO_COLOR": "1"}
	for _, s := range kv {
		k, v, _ := strings.Cut(s, "=")
		vars[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &safeBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"daemon", "--listen", "127.0.0.1:0", "--policy", "notify"}, env{
			stdin: strings.NewReader(""), stdout: io.Discard, stderr: stderr, getenv: func(k string) string { return vars[k] }})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("daemon exited %d:\n%s", code, stderr.String())
		}
	})
	listening := regexp.MustCompile(`msg="API listening" url=(http://127\.0\.0\.1:\d+)/`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil && strings.Count(stderr.String(), "msg=check ") == 2 {
			return root, m[1], kv
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not start and check:\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// apiJSON calls the API and decodes its answer.
func apiJSON(t *testing.T, method, url, token string) any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), method, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, v)
	}
	return v
}

func cliJSON(t *testing.T, kv []string, wantCode int, args ...string) any {
	t.Helper()
	code, out, errOut := runModup(t, kv, args...)
	if code != wantCode {
		t.Fatalf("modup %v exited %d, want %d: %s", args, code, wantCode, errOut)
	}
	var v any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("modup %v: %v\n%s", args, err, out)
	}
	return v
}

func sameJSON(t *testing.T, what string, cli, apiv any) {
	t.Helper()
	if !reflect.DeepEqual(cli, apiv) {
		c, _ := json.MarshalIndent(cli, "", "  ")
		a, _ := json.MarshalIndent(apiv, "", "  ")
		t.Errorf("%s: the CLI and the API disagree\nCLI:\n%s\nAPI:\n%s", what, c, a)
	}
}

// The CLI's --json and the API's JSON are the same values: status and
// /v1/packages, check and /v1/check, history and /v1/history, the changes
// of update and /v1/update.
func TestCLIAndAPIAgree(t *testing.T) {
	root, base, kv := daemonWithAPI(t)
	_, token, _ := runModup(t, kv, "api-token")
	token = strings.TrimSpace(token)
	if len(token) != 43 {
		t.Fatalf("api-token printed %q", token)
	}

	sameJSON(t, "status", cliJSON(t, kv, 0, "status", "--json"), apiJSON(t, "GET", base+"/v1/packages", token))
	pkgs := apiJSON(t, "GET", base+"/v1/packages", token).(map[string]any)["packages"].([]any)
	sameJSON(t, "one package", pkgs[0], apiJSON(t, "GET", base+"/v1/packages/hello", token))
	if p := pkgs[0].(map[string]any); p["news"] != "says hello twice" || p["status"] != "update-available" || p["source"] != "fs" {
		t.Errorf("status of hello: %v", p)
	}

	sameJSON(t, "check", cliJSON(t, kv, exitAvailable, "check", "--json"), apiJSON(t, "POST", base+"/v1/check", token))

	apiUpdate := apiJSON(t, "POST", base+"/v1/update/hello", token)
	rollback := cliJSON(t, kv, 0, "rollback", "hello", "--json")
	cliUpdate := cliJSON(t, kv, 0, "update", "hello", "--json")
	// The same change, made twice: only the backup's folder differs.
	for _, v := range []any{apiUpdate, cliUpdate} {
		delete(v.(map[string]any)["packages"].([]any)[0].(map[string]any), "backup")
	}
	sameJSON(t, "update", cliUpdate, apiUpdate)
	if ch := rollback.(map[string]any)["packages"].([]any)[0].(map[string]any); ch["status"] != "rolled-back" {
		t.Errorf("rollback: %v", ch)
	}

	cliHist := cliJSON(t, kv, 0, "history", "--json")
	sameJSON(t, "history", cliHist, apiJSON(t, "GET", base+"/v1/history", token))
	sameJSON(t, "history of one package", cliJSON(t, kv, 0, "history", "hello", "--limit", "2", "--json"),
		apiJSON(t, "GET", base+"/v1/history?name=hello&limit=2", token))
	var by []string
	for _, e := range cliHist.(map[string]any)["history"].([]any) {
		m := e.(map[string]any)
		by = append(by, m["action"].(string)+":"+m["by"].(string))
	}
	if strings.Join(by, " ") != "update:api rollback:cli update:cli" {
		t.Errorf("history: %v", by)
	}
	sameJSON(t, "status after the changes", cliJSON(t, kv, 0, "status", "--json"), apiJSON(t, "GET", base+"/v1/packages", token))
	_ = root
}

// modup ui opens http://127.0.0.1:PORT/#code=... with $BROWSER, or
// prints it with --no-open: a login code the page trades for the token
// once, so the browser's command line never holds the token; without a
// daemon it says what to start.
func TestUI(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the stand-in browser is a shell script")
	}
	_, base, kv := daemonWithAPI(t)
	_, token, _ := runModup(t, kv, "api-token")
	token = strings.TrimSpace(token)
	port := base[strings.LastIndex(base, ":")+1:]
	codeURL := regexp.MustCompile(`^` + regexp.QuoteMeta(base) + `/#code=([A-Za-z0-9_-]{43})$`)
	// trade is what the page does with the code: POST /v1/login, once.
	trade := func(url string) {
		t.Helper()
		m := codeURL.FindStringSubmatch(url)
		if m == nil {
			t.Fatalf("the URL %q is not %s/#code=CODE", url, base)
		}
		for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
			resp, err := http.Post(base+"/v1/login", "application/json", strings.NewReader(`{"code":"`+m[1]+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			var body struct{ Token, Error string }
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if resp.StatusCode != want || (i == 0 && body.Token != token) || (i == 1 && !strings.Contains(body.Error, "used already or has expired")) {
				t.Errorf("login %d with the code: %s %+v", i+1, resp.Status, body)
			}
		}
	}

	code, out, errOut := runModup(t, kv, "ui", "--listen", "127.0.0.1:"+port, "--no-open")
	if code != 0 || strings.Contains(out, token) {
		t.Errorf("ui --no-open: %d %q %q", code, out, errOut)
	}
	trade(strings.TrimSpace(out))

	dir := t.TempDir()
	opened := filepath.Join(dir, "opened")
	browser := filepath.Join(dir, "browser")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+opened+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The port from the configuration's daemon.listen, as a user sets it.
	kvUI := append(kv, "BROWSER="+browser, "MODUP_DAEMON_LISTEN=0.0.0.0:"+port)
	code, out, errOut = runModup(t, kvUI, "ui")
	if code != 0 || !strings.Contains(out, "opened "+base+"/ in the browser") || strings.Contains(out, token) {
		t.Errorf("ui: %d %q %q", code, out, errOut)
	}
	b, err := os.ReadFile(opened)
	if err != nil || strings.Contains(string(b), token) {
		t.Fatalf("the browser was given %q (%v)", b, err)
	}
	trade(string(b))

	code, _, errOut = runModup(t, kv, "ui", "--listen", "127.0.0.1:1")
	if code != 1 || !strings.Contains(errOut, "no daemon answers at http://127.0.0.1:1/") {
		t.Errorf("ui without a daemon: %d %q", code, errOut)
	}
	code, _, errOut = runModup(t, kv, "ui")
	if code != 1 || !strings.Contains(errOut, "the daemon's API is off: start it with `modup daemon --listen 127.0.0.1:7391`") {
		t.Errorf("ui without a listen address: %d %q", code, errOut)
	}
}
