package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/sources/github/githubtest"
)

// A package on github.com (whose endpoints the environment moves to a
// fake, as tests and mirrors do) and one on a GitHub Enterprise host from
// the configuration file are checked and updated in one run, each at its
// own host with its own token; neither token reaches the other host, and
// an update_url spelled https://github.com/... is still a GitHub package.
func TestSeveralGitHubHosts(t *testing.T) {
	pub := githubtest.New(t) // github.com, moved by MODUP_GITHUB_*
	ghe := githubtest.New(t) // an Enterprise host from [[github]]
	const pubToken, gheToken = "ghp_public_host", "ghe_enterprise_host"
	pub.SetPrivate("a2", "one", pubToken)
	ghe.SetPrivate("corp", "two", gheToken)
	pub.RefuseToken(gheToken)
	ghe.RefuseToken(pubToken)

	publish := func(s *githubtest.Server, owner, name, version string) {
		s.AddRelease(owner, name, githubtest.Release{Tag: version, Files: map[string]string{
			"a2modsource.json":  `{"name": "` + name + `", "version": "` + version + `"}`,
			"mod/a2module.json": `[{"typ": "nfo", "version": "` + version + `"}]`,
			"mod/code.ahk":      "v" + version,
		}})
		s.SetManifest(owner, name, "HEAD", []byte(`{"name": "`+name+`", "version": "`+version+`"}`))
	}
	publish(pub, "a2", "one", "1.1.0")
	publish(ghe, "corp", "two", "2.1.0")

	root := t.TempDir()
	write := func(name, updateURL, version string) {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		m := `{"name": "` + name + `", "version": "` + version + `", "update_url": "` + updateURL + `"}`
		if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("one", "https://github.com/a2/one", "1.0.0") // the real spelling: must reach the moved endpoints
	write("two", ghe.RepoURL("corp", "two"), "2.0.0")

	cfg := filepath.Join(t.TempDir(), "config.toml")
	conf := "[[github]]\nweb = \"" + ghe.Web.URL + "\"\napi = \"" + ghe.API.URL + "\"\nraw = \"" + ghe.Raw.URL + "\"\ntoken_env = \"GHE_TOKEN\"\n"
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(pub.Env(), "GITHUB_TOKEN="+pubToken, "GHE_TOKEN="+gheToken, "MODUP_CONFIG="+cfg)

	code, out, errOut := runModup(t, env, "check", "--root", root, "--json")
	if code != exitAvailable {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}
	var res struct {
		Packages []struct{ Name, Status, Available, Source string }
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"one": "1.1.0", "two": "2.1.0"}
	for _, p := range res.Packages {
		if p.Status != "update-available" || p.Available != want[p.Name] || p.Source != "github" {
			t.Errorf("%s: %+v", p.Name, p)
		}
	}
	code, out, errOut = runModup(t, env, "update", "--all", "--root", root)
	if code != 0 {
		t.Fatalf("update: exit %d\n%s\n%s", code, out, errOut)
	}
	for name, version := range want {
		b, err := os.ReadFile(filepath.Join(root, name, "mod", "code.ahk"))
		if err != nil || string(b) != "v"+version {
			t.Errorf("%s holds %q, %v", name, b, err)
		}
	}
	for host, s := range map[string]*githubtest.Server{"github.com": pub, "enterprise": ghe} {
		for _, r := range s.Requests() {
			if r.Status == 401 {
				t.Errorf("%s refused a token: %+v", host, r)
			}
			if r.Auth && r.Host != "api" {
				t.Errorf("%s: a token reached the %s host: %+v", host, r.Host, r)
			}
		}
		if s.Count("api") == 0 {
			t.Errorf("%s: the private repository was not read through its API", host)
		}
	}

	// Without the Enterprise table, its package is a plain web folder that
	// cannot be checked, and github.com's still works.
	env = append(pub.Env(), "GITHUB_TOKEN="+pubToken, "MODUP_CONFIG="+filepath.Join(t.TempDir(), "none.toml"))
	_, out, _ = runModup(t, env, "check", "--root", root)
	if !strings.Contains(out, "one ") || !strings.Contains(out, "up-to-date") {
		t.Errorf("github.com package not checked without the config:\n%s", out)
	}
}

// check shows the manifest's news whatever the API says, and the
// release's own notes as release_notes when they say something else.
func TestNewsAndReleaseNotes(t *testing.T) {
	tests := []struct {
		name, body, wantNotes string
	}{
		{name: "different body", body: "## 1.1.0\nfixed the thing", wantNotes: "## 1.1.0\nfixed the thing"},
		{name: "same as the news", body: "* the news", wantNotes: ""},
		{name: "empty body", body: "", wantNotes: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := githubtest.New(t)
			s.AddRelease("a2", "one", githubtest.Release{Tag: "1.1.0", Body: tc.body, Files: map[string]string{"a2modsource.json": `{"name": "one", "version": "1.1.0"}`}})
			s.SetManifest("a2", "one", "HEAD", []byte(`{"name": "one", "version": "1.1.0", "news": "* the news"}`))
			root := t.TempDir()
			dir := filepath.Join(root, "one")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(`{"name": "one", "version": "1.0.0", "update_url": "`+s.RepoURL("a2", "one")+`"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			_, out, errOut := runModup(t, s.Env(), "check", "--root", root, "--json")
			var res struct {
				Packages []map[string]any
			}
			if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Packages) != 1 {
				t.Fatalf("%v\n%s\n%s", err, out, errOut)
			}
			p := res.Packages[0]
			notes, hasNotes := p["release_notes"]
			if p["news"] != "* the news" || (tc.wantNotes == "") == hasNotes || (hasNotes && notes != tc.wantNotes) {
				t.Errorf("news %q, release_notes %q (present %v); want %q", p["news"], notes, hasNotes, tc.wantNotes)
			}
		})
	}
}

// self-update reads where modup's releases are from the configuration
// file ([self_update] repo), below the environment and the flag.
func TestSelfUpdateRepoFromConfig(t *testing.T) {
	s := githubtest.New(t)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(cfg, []byte("[self_update]\nrepo = \"someone/modup-fork\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(s.Env(), "MODUP_CONFIG="+cfg)
	_, _, errOut := runModup(t, env, "self-update", "--check")
	if !strings.Contains(errOut, "someone/modup-fork") {
		t.Errorf("the configured repository was not asked: %s", errOut)
	}
	_, _, errOut = runModup(t, append(env, "MODUP_SELF_REPO=other/fork"), "self-update", "--check")
	if !strings.Contains(errOut, "other/fork") {
		t.Errorf("MODUP_SELF_REPO does not beat the file: %s", errOut)
	}
	_, _, errOut = runModup(t, append(env, "MODUP_SELF_REPO=other/fork"), "self-update", "--check", "--repo", "flag/fork")
	if !strings.Contains(errOut, "flag/fork") {
		t.Errorf("--repo does not beat the environment: %s", errOut)
	}
}
