package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/sources/gist/gisttest"
)

// TestCLIWithFakeGist installs a single-module package from a gist (the
// gist's flat files become the manifest beside one module folder), updates
// it when a revision changes the version, ignores a revision that does not,
// and rolls back and goes --to an older version.
func TestCLIWithFakeGist(t *testing.T) {
	const id = "0123456789abcdef0123"
	s := gisttest.New(t)
	url := s.GistURL("someone", id)
	env := append(s.Env(), "GITHUB_TOKEN=ghp_gist")
	files := func(version, script string) map[string]string {
		return map[string]string{
			"a2modsource.json": `{"name": "greeter", "module": "greet", "version": "` + version + `"}`,
			"a2module.json":    `{"name": "greet"}`,
			"greet.ahk":        script,
		}
	}
	s.Commit("someone", id, files("1.0.0", "MsgBox one"))
	root := t.TempDir()
	pkg := filepath.Join(root, "greeter")

	code, out, errOut := runModup(t, env, "install", url, "--root", root)
	if code != 0 || !regexpMatch(`(?m)^greeter +- +1\.0\.0 +installed$`, out) {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	want := func(version, script string) {
		t.Helper()
		if b, err := os.ReadFile(filepath.Join(pkg, "greet", "greet.ahk")); err != nil || string(b) != script {
			t.Errorf("greet/greet.ahk = %q, %v; want %q", b, err, script)
		}
		b, err := os.ReadFile(filepath.Join(pkg, "a2modsource.json"))
		if err != nil || !strings.Contains(string(b), `"version": "`+version+`"`) || !strings.Contains(string(b), url) {
			t.Errorf("a2modsource.json = %s, %v; want version %s and update_url %s", b, err, version, url)
		}
		entries, _ := os.ReadDir(pkg)
		if len(entries) != 2 {
			t.Errorf("the package folder holds %d entries, want a2modsource.json and greet/", len(entries))
		}
	}
	want("1.0.0", "MsgBox one")

	s.Commit("someone", id, files("1.0.0", "MsgBox one, fixed")) // no new version: no release
	code, out, errOut = runModup(t, env, "check", "--root", root)
	if code != 0 || !regexpMatch(`(?m)^greeter +1\.0\.0 +1\.0\.0 +up-to-date +gist$`, out) {
		t.Errorf("check after an edit that kept the version: exit %d\n%s\n%s", code, out, errOut)
	}
	s.Commit("someone", id, files("1.1.0", "MsgBox two"))
	code, out, errOut = runModup(t, env, "update", "--all", "--root", root)
	if code != 0 || !regexpMatch(`(?m)^greeter +1\.0\.0 +1\.1\.0 +updated$`, out) {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
	}
	want("1.1.0", "MsgBox two")
	code, out, errOut = runModup(t, env, "rollback", "greeter", "--root", root)
	if code != 0 || !regexpMatch(`(?m)^greeter +1\.1\.0 +1\.0\.0 +rolled-back$`, out) {
		t.Fatalf("rollback: exit %d\n%s\n%s", code, out, errOut)
	}
	want("1.0.0", "MsgBox one")
	code, out, errOut = runModup(t, env, "update", "greeter", "--to", "1.1.0", "--root", root)
	if code != 0 {
		t.Fatalf("update --to: exit %d\n%s\n%s", code, out, errOut)
	}
	want("1.1.0", "MsgBox two")
	for _, r := range s.Requests() {
		if r.Auth != (r.Host == "api") {
			t.Errorf("%s %s on %s: Authorization %v", r.Method, r.Path, r.Host, r.Auth)
		}
	}
}
