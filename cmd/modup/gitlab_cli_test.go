package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/sources/gitlab/gitlabtest"
)

// TestCLIWithFakeGitLab installs, checks, updates and rolls back a package
// from a project in nested groups on the fake GitLab, which the CLI finds
// through MODUP_GITLAB_URL and MODUP_GITLAB_API_URL: a public project, and
// a private one with GITLAB_TOKEN, which reaches the API alone.
func TestCLIWithFakeGitLab(t *testing.T) {
	t.Run("public", func(t *testing.T) { testCLIWithFakeGitLab(t, "") })
	t.Run("private", func(t *testing.T) { testCLIWithFakeGitLab(t, "glpat-private") })
}

func testCLIWithFakeGitLab(t *testing.T, token string) {
	const project = "someone/a2/hello"
	s := gitlabtest.New(t)
	url := s.ProjectURL(project) + "/-/tree/main"
	env := s.Env()
	if token != "" {
		s.SetPrivate(project, token)
		env = append(env, "GITLAB_TOKEN="+token)
	}
	files := func(version string) map[string]string {
		f := helloFiles(version)
		f["a2modsource.json"] = `{"update_url": "` + url + `", "version": "` + version + `"}` + "\n"
		return f
	}
	s.AddRelease(project, gitlabtest.Release{Tag: "v1.0.0", Files: files("1.0.0")})
	s.SetManifest(project, "main", []byte(`{"version": "1.0.0"}`))
	root := t.TempDir()

	// The manifest names no package: the folder is named after the project.
	code, out, errOut := runModup(t, env, "install", url, "--root", root, "--json")
	if code != 0 || !strings.Contains(out, `"status": "installed"`) || !strings.Contains(out, `"name": "hello"`) {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := s.Count("archive") + countAPIArchives(s); n != 1 {
		t.Errorf("install: %d tag archive downloads, want 1", n)
	}

	src := t.TempDir()
	testpkg.WriteTree(t, src, files("1.1.0"))
	zip, err := zipDir(src)
	if err != nil {
		t.Fatal(err)
	}
	s.AddRelease(project, gitlabtest.Release{Tag: "v1.1.0", Description: "says hello twice", Links: map[string][]byte{"1.1.0.zip": zip}})
	s.SetManifest(project, "main", []byte(`{"version": "1.1.0"}`))

	code, out, errOut = runModup(t, env, "check", "--root", root)
	if code != exitAvailable || !regexpMatch(`(?m)^hello +1\.0\.0 +1\.1\.0 +update-available +gitlab$`, out) {
		t.Errorf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runModup(t, env, "update", "hello", "--root", root, "--json")
	if code != 0 || !strings.Contains(out, `"status": "updated"`) || !strings.Contains(out, "says hello twice") {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
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
	code, out, errOut = runModup(t, env, "update", "hello", "--root", root, "--to", "1.1.0")
	if code != 0 || !regexpMatch(`(?m)^hello +1\.0\.0 +1\.1\.0 +updated$`, out) {
		t.Errorf("update --to: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, r := range s.Requests() {
		if r.Token != (token != "" && r.Host == "api") || r.Auth {
			t.Errorf("%s %s on %s: PRIVATE-TOKEN %v, Authorization %v", r.Method, r.Path, r.Host, r.Token, r.Auth)
		}
	}
	if token == "" {
		return
	}
	code, out, errOut = runModup(t, s.Env(), "check", "--root", root)
	if code != 1 || !strings.Contains(out+errOut, "set GITLAB_TOKEN") {
		t.Errorf("check without a token: exit %d\n%s\n%s", code, out, errOut)
	}
}

// countAPIArchives counts tag archives downloaded through the API (a
// private project's).
func countAPIArchives(s *gitlabtest.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, "/repository/archive.zip") {
			n++
		}
	}
	return n
}

// TestCLIWithSelfHostedGitLab: a [[gitlab]] table of the configuration file
// makes a self-hosted instance known, with the token of its token_env.
func TestCLIWithSelfHostedGitLab(t *testing.T) {
	s := gitlabtest.New(t)
	const project = "tools/hello"
	s.SetPrivate(project, "corp-secret")
	s.SetManifest(project, "HEAD", []byte(`{"name": "hello", "version": "2.0.0"}`))
	s.AddRelease(project, gitlabtest.Release{Tag: "2.0.0", Files: helloFiles("2.0.0")})
	cfg := filepath.Join(t.TempDir(), "config.toml")
	toml := "[[gitlab]]\nweb = \"" + s.Web.URL + "\"\napi = \"" + s.API.URL + "/api/v4\"\ntoken_env = \"CORP_GITLAB_TOKEN\"\n"
	if err := os.WriteFile(cfg, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"MODUP_CONFIG=" + cfg, "CORP_GITLAB_TOKEN=corp-secret", "GITLAB_TOKEN=gitlab-com-token"}
	root := t.TempDir()
	code, out, errOut := runModup(t, env, "install", s.ProjectURL(project), "--root", root)
	if code != 0 || !regexpMatch(`(?m)^hello +- +2\.0\.0 +installed$`, out) {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runModup(t, env, "config", "show")
	if code != 0 || !strings.Contains(out, "gitlab host "+s.Web.URL+"/: api "+s.API.URL+"/api/v4/, token from CORP_GITLAB_TOKEN") {
		t.Errorf("config show: exit %d\n%s", code, out)
	}
	for _, r := range s.Requests() {
		if r.Token != (r.Host == "api") {
			t.Errorf("%s %s on %s: PRIVATE-TOKEN %v", r.Method, r.Path, r.Host, r.Token)
		}
	}
}
