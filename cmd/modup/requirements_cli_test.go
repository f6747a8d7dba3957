package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/modup/modup/sources/github/githubtest"
	"github.com/modup/modup/sources/gitlab/gitlabtest"
)

// From a GitHub repository whose newest release needs a newer a2, check
// offers the newest older release that fits (read from the manifest at
// its tag), update installs it, and check then has nothing to offer.
// The same from a GitLab project (the manifest at each release's tag).
func TestHeldBackFromGitHubAndGitLab(t *testing.T) {
	manifest := func(version, needs string) string {
		return `{"manifest_version": 2, "name": "a2.modules", "version": "` + version + `", "requires": {"a2": "` + needs + `"}}`
	}
	releases := []struct{ version, needs string }{{"0.7.2", ">= 0.5.0"}, {"0.7.5", ">= 0.5.0"}, {"0.8.0", ">= 0.6.0"}}
	for _, host := range []string{"github", "gitlab"} {
		t.Run(host, func(t *testing.T) {
			var env []string
			var updateURL string
			switch host {
			case "github":
				s := githubtest.New(t)
				for _, r := range releases {
					s.AddRelease("acme", "a2.modules", githubtest.Release{Tag: r.version, Files: map[string]string{
						"a2modsource.json": manifest(r.version, r.needs), "mod/code.ahk": r.version}})
					s.SetManifest("acme", "a2.modules", r.version, []byte(manifest(r.version, r.needs)))
				}
				s.SetManifest("acme", "a2.modules", "HEAD", []byte(manifest("0.8.0", ">= 0.6.0")))
				env, updateURL = s.Env(), s.RepoURL("acme", "a2.modules")
			case "gitlab":
				s := gitlabtest.New(t)
				for _, r := range releases {
					s.AddRelease("acme/a2.modules", gitlabtest.Release{Tag: r.version, Files: map[string]string{
						"a2modsource.json": manifest(r.version, r.needs), "mod/code.ahk": r.version}})
					s.SetManifest("acme/a2.modules", r.version, []byte(manifest(r.version, r.needs)))
				}
				s.SetManifest("acme/a2.modules", "HEAD", []byte(manifest("0.8.0", ">= 0.6.0")))
				env, updateURL = s.Env(), s.ProjectURL("acme/a2.modules")
			}
			heldBackFallBack(t, host, env, updateURL)
		})
	}
}

func heldBackFallBack(t *testing.T, kind string, env []string, updateURL string) {
	root := t.TempDir()
	env = append(env, "MODUP_HOST_VERSION=0.5.7", "MODUP_CONFIG="+filepath.Join(t.TempDir(), "none.toml"))
	if code, out, errOut := runModup(t, env, "install", updateURL, "--to", "0.7.2", "--root", root); code != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut := runModup(t, env, "check", "--root", root)
	wantLines := []string{
		`^a2\.modules +0\.7\.2 +0\.7\.5 +held-back +` + kind + `$`,
		"^a2\\.modules: 0\\.8\\.0 held back: 0\\.8\\.0 needs a2 >= 0\\.6\\.0; a2 is 0\\.5\\.7; `modup update a2\\.modules` installs 0\\.7\\.5, the newest that fits$",
	}
	if code != exitAvailable || errOut != "" {
		t.Errorf("check: exit %d, stderr %q; want 100 (an update that fits)", code, errOut)
	}
	for _, re := range wantLines {
		if !regexp.MustCompile(`(?m)` + re).MatchString(out) {
			t.Errorf("check output lacks %s:\n%s", re, out)
		}
	}

	code, out, errOut = runModup(t, env, "update", "a2.modules", "--root", root)
	if code != 0 {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, re := range []string{`^a2\.modules +0\.7\.2 +0\.7\.5 +updated$`,
		`^a2\.modules: 0\.8\.0 held back: 0\.8\.0 needs a2 >= 0\.6\.0; a2 is 0\.5\.7; 0\.7\.5 is the newest that fits$`} {
		if !regexp.MustCompile(`(?m)` + re).MatchString(out) {
			t.Errorf("update output lacks %s:\n%s", re, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "a2.modules", "mod", "code.ahk")); err != nil || string(b) != "0.7.5" {
		t.Errorf("installed %q, %v; want 0.7.5", b, err)
	}
	code, out, _ = runModup(t, env, "check", "--root", root)
	if code != exitOK || !regexp.MustCompile(`(?m)^a2\.modules +0\.7\.5 +- +held-back +`+kind+`$`).MatchString(out) {
		t.Errorf("check after the update: exit %d\n%s", code, out)
	}
}
