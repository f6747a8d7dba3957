package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/modup/modup/selfupdate/selfupdatetest"
	"github.com/modup/modup/sources/github/githubtest"
)

// buildModup builds this command into dir as a release would, with
// version, the release repository and the release key in -ldflags.
func buildModup(t *testing.T, dir, version, repo, key string) string {
	t.Helper()
	exe := filepath.Join(dir, "modup")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	ldflags := "-X main.version=" + version + " -X main.selfRepo=" + repo + " -X main.releaseKey=" + key
	cmd := exec.CommandContext(t.Context(), "go", "build", "-trimpath", "-ldflags", ldflags, "-o", exe, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// runExe runs exe with args in env and returns its exit code and output.
func runExe(t *testing.T, env []string, exe string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), exe, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stdout.String(), stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stdout.String(), stderr.String()
	}
	t.Fatalf("run %s: %v", exe, err)
	return -1, "", ""
}

// TestSelfUpdateReplacesTheBinary builds modup 1.0.0 and 1.1.0 into
// temporary folders, publishes 1.1.0 as a signed release on the fake
// GitHub, and lets 1.0.0 update itself: the executable at its path then
// says it is 1.1.0, and goes back to 1.0.0 with --to.
func TestSelfUpdateReplacesTheBinary(t *testing.T) {
	const repo = "acme/modup"
	key := selfupdatetest.NewKey(t)
	exe := buildModup(t, t.TempDir(), "1.0.0", repo, key.PublicText())
	oldBytes, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	newBytes, err := os.ReadFile(buildModup(t, t.TempDir(), "1.1.0", repo, key.PublicText()))
	if err != nil {
		t.Fatal(err)
	}
	target := runtime.GOOS + "/" + runtime.GOARCH
	srv := githubtest.New(t)
	srv.AddRelease("acme", "modup", githubtest.Release{Tag: "v1.0.0", Assets: selfupdatetest.Assets(t, key, "1.0.0", oldBytes, target)})
	srv.AddRelease("acme", "modup", githubtest.Release{Tag: "v1.1.0", Body: "Faster checks.", Assets: selfupdatetest.Assets(t, key, "1.1.0", newBytes, target)})
	env := append(os.Environ(), "GITHUB_TOKEN=", "GH_TOKEN=", "MODUP_SELF_REPO=", "MODUP_RELEASE_KEY=", "NO_COLOR=1")
	env = append(env, srv.Env()...)

	for _, step := range []struct {
		args     []string
		wantCode int
		wantOut  string
	}{
		{[]string{"version"}, 0, "modup 1.0.0 ("},
		{[]string{"self-update", "--check"}, 100, "modup 1.0.0 -> 1.1.0 available"},
		{[]string{"self-update"}, 0, "updated modup 1.0.0 -> 1.1.0 (" + exe + ")\n\nFaster checks.\n"},
		{[]string{"version"}, 0, "modup 1.1.0 ("},
		{[]string{"self-update", "--check"}, 0, "modup 1.1.0 is up to date (newest release: 1.1.0)"},
		{[]string{"self-update"}, 0, "modup 1.1.0 is up to date"},
		{[]string{"self-update", "--to", "1.0.0"}, 0, "updated modup 1.1.0 -> 1.0.0"},
		{[]string{"version"}, 0, "modup 1.0.0 ("},
		{[]string{"self-update", "--to", "0.5.0"}, 1, ""},
	} {
		code, out, errOut := runExe(t, env, exe, step.args...)
		if code != step.wantCode || !strings.Contains(out, step.wantOut) {
			t.Fatalf("modup %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(step.args, " "), code, step.wantCode, step.wantOut, out, errOut)
		}
		if step.wantCode == 1 && !strings.Contains(errOut, "has no release 0.5.0") {
			t.Errorf("--to a missing version: %s", errOut)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(exe))
	if len(entries) != 1 {
		t.Errorf("beside the executable: %d entries, want it alone", len(entries))
	}
	// Everything came from the fake: the API for releases, the web host
	// for the files.
	if n := srv.Count("asset"); n != 6 {
		t.Errorf("%d asset downloads, want 6 (two updates of an archive, checksums and signature)", n)
	}
}
