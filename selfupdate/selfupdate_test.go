package selfupdate_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/selfupdate"
	"github.com/modup/modup/selfupdate/selfupdatetest"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/sources/github/githubtest"
)

const (
	owner = "acme"
	repo  = "modup"
)

type fixture struct {
	srv *githubtest.Server
	key selfupdatetest.Key
	exe string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{srv: githubtest.New(t), key: selfupdatetest.NewKey(t), exe: filepath.Join(t.TempDir(), "modup")}
	if err := os.WriteFile(f.exe, []byte("old modup"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) publish(tag string, prerelease bool, assets map[string][]byte) {
	f.srv.AddRelease(owner, repo, githubtest.Release{Tag: tag, Prerelease: prerelease, Body: "notes of " + tag, Assets: assets})
}

func (f *fixture) updater(t *testing.T, goos, goarch, key string) *selfupdate.Updater {
	t.Helper()
	u, err := selfupdate.New(selfupdate.Config{
		Repo: owner + "/" + repo, PublicKey: key, Current: "1.0.0", GOOS: goos, GOARCH: goarch,
		APIURL: f.srv.API.URL + "/", Client: f.srv.Client(""),
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// leftovers lists what is beside the executable besides it.
func leftovers(t *testing.T, exe string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(exe))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != filepath.Base(exe) {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestFindAndInstall(t *testing.T) {
	for _, tc := range []struct {
		name          string
		goos, goarch  string
		to            string
		wantVersion   string
		wantNotes     string
		wantArchiveOf string
	}{
		{name: "newest stable, tar.gz", goos: "linux", goarch: "amd64", wantVersion: "1.1.0", wantArchiveOf: ".tar.gz"},
		{name: "newest stable, zip on windows", goos: "windows", goarch: "arm64", wantVersion: "1.1.0", wantArchiveOf: ".zip"},
		{name: "an older version asked for", goos: "darwin", goarch: "arm64", to: "v0.9.0", wantVersion: "0.9.0", wantArchiveOf: ".tar.gz"},
		{name: "a pre-release asked for", goos: "linux", goarch: "arm64", to: "1.2.0-rc.1", wantVersion: "1.2.0-rc.1", wantArchiveOf: ".tar.gz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			targets := []string{"linux/amd64", "linux/arm64", "darwin/arm64", "windows/arm64"}
			for _, r := range []struct {
				tag string
				pre bool
			}{{"v0.9.0", false}, {"v1.1.0", false}, {"v1.0.0", false}, {"v1.2.0-rc.1", true}} {
				f.publish(r.tag, r.pre, selfupdatetest.Assets(t, f.key, r.tag, []byte("modup "+r.tag), targets...))
			}
			u := f.updater(t, tc.goos, tc.goarch, f.key.PublicText())
			rel, err := u.Find(t.Context(), tc.to)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Version != tc.wantVersion || !strings.HasSuffix(rel.Archive.Name, tc.wantArchiveOf) || rel.Notes != "notes of v"+tc.wantVersion {
				t.Fatalf("Find = %+v", rel)
			}
			if err := u.Install(t.Context(), rel, f.exe); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(f.exe)
			if err != nil || string(b) != "modup v"+tc.wantVersion {
				t.Errorf("the executable holds %q (%v)", b, err)
			}
			if fi, err := os.Stat(f.exe); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o755) {
				t.Errorf("mode: %v, %v", fi.Mode(), err)
			}
			if l := leftovers(t, f.exe); len(l) != 0 {
				t.Errorf("left beside the executable: %v", l)
			}
		})
	}
}

func TestNewer(t *testing.T) {
	f := newFixture(t)
	u := f.updater(t, "linux", "amd64", "")
	for v, want := range map[string]bool{"1.0.1": true, "1.0.0": false, "0.9.0": false, "2.0.0-rc.1": true} {
		if got := u.Newer(selfupdate.Release{Version: v}); got != want {
			t.Errorf("Newer(%s) with 1.0.0 running = %v", v, got)
		}
	}
}

// TestRefusals: nothing that fails to verify replaces the executable, and
// every refusal says why.
func TestRefusals(t *testing.T) {
	other := selfupdatetest.NewKey(t)
	for _, tc := range []struct {
		name    string
		assets  func(t *testing.T, f *fixture) map[string][]byte
		key     func(f *fixture) string
		wantErr error
		wantMsg string
	}{
		{
			name: "signed by another key",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				return selfupdatetest.Assets(t, other, "1.1.0", []byte("evil"), "linux/amd64")
			},
			wantErr: selfupdate.ErrVerify, wantMsg: "does not verify with the release key",
		},
		{
			name: "archive changed after signing",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				a := selfupdatetest.Assets(t, f.key, "1.1.0", []byte("good"), "linux/amd64")
				a["modup_1.1.0_linux_amd64.tar.gz"] = selfupdatetest.Archive(t, "modup_1.1.0_linux_amd64.tar.gz", []byte("evil"))
				return a
			},
			wantErr: selfupdate.ErrVerify, wantMsg: "checksums.txt lists",
		},
		{
			name: "checksums.txt changed after signing",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				a := selfupdatetest.Assets(t, f.key, "1.1.0", []byte("good"), "linux/amd64")
				a[selfupdate.ChecksumsFile] = append(a[selfupdate.ChecksumsFile], "0000  extra\n"...)
				return a
			},
			wantErr: selfupdate.ErrVerify, wantMsg: "does not verify",
		},
		{
			name: "no signature",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				a := selfupdatetest.Assets(t, f.key, "1.1.0", []byte("good"), "linux/amd64")
				delete(a, selfupdate.SignatureFile)
				return a
			},
			wantErr: selfupdate.ErrVerify, wantMsg: "checksums.txt.minisig",
		},
		{
			name: "no archive for this system",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				return selfupdatetest.Assets(t, f.key, "1.1.0", []byte("good"), "windows/amd64", "darwin/arm64")
			},
			wantErr: selfupdate.ErrNoRelease, wantMsg: "no archive for linux/amd64",
		},
		{
			name: "archive without the executable",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				name := "modup_1.1.0_linux_amd64.tar.gz"
				a := map[string][]byte{name: selfupdatetest.ArchiveAs(t, name, "other", []byte("x"))}
				f.key.SignInto(a)
				return a
			},
			wantMsg: "holds no modup executable",
		},
		{
			name: "built without a release key",
			assets: func(t *testing.T, f *fixture) map[string][]byte {
				return selfupdatetest.Assets(t, f.key, "1.1.0", []byte("good"), "linux/amd64")
			},
			key:     func(*fixture) string { return "" },
			wantErr: selfupdate.ErrNoKey, wantMsg: "MODUP_RELEASE_KEY",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.publish("v1.1.0", false, tc.assets(t, f))
			key := f.key.PublicText()
			if tc.key != nil {
				key = tc.key(f)
			}
			u := f.updater(t, "linux", "amd64", key)
			rel, err := u.Find(t.Context(), "")
			if err == nil {
				err = u.Install(t.Context(), rel, f.exe)
			}
			if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("err = %v, want %v containing %q", err, tc.wantErr, tc.wantMsg)
			}
			if b, _ := os.ReadFile(f.exe); string(b) != "old modup" {
				t.Errorf("the executable changed: %q", b)
			}
			if l := leftovers(t, f.exe); len(l) != 0 {
				t.Errorf("left beside the executable: %v", l)
			}
		})
	}
}

func TestMalformedKey(t *testing.T) {
	f := newFixture(t)
	_, err := selfupdate.New(selfupdate.Config{Repo: "a/b", PublicKey: "not a key", Client: f.srv.Client("")})
	if !errors.Is(err, selfupdate.ErrNoKey) {
		t.Errorf("err = %v, want ErrNoKey", err)
	}
	_, err = selfupdate.New(selfupdate.Config{Repo: "nope", Client: f.srv.Client("")})
	if err == nil || !strings.Contains(err.Error(), "MODUP_SELF_REPO") {
		t.Errorf("bad repository: %v", err)
	}
}

func TestNoReleases(t *testing.T) {
	f := newFixture(t)
	f.srv.SetManifest(owner, repo, "HEAD", []byte("{}")) // the repository exists
	u := f.updater(t, "linux", "amd64", f.key.PublicText())
	if _, err := u.Find(t.Context(), ""); !errors.Is(err, selfupdate.ErrNoRelease) {
		t.Errorf("no releases: %v", err)
	}
	if _, err := u.Find(t.Context(), "9.9.9"); !errors.Is(err, selfupdate.ErrNoRelease) || !strings.Contains(err.Error(), "9.9.9") {
		t.Errorf("--to a missing version: %v", err)
	}
	f.srv.RateLimit(time.Now().Add(time.Hour))
	_, err := u.Find(t.Context(), "")
	if !errors.Is(err, sources.ErrRateLimited) {
		t.Errorf("rate-limited: %v", err)
	}
}

func TestManagedBy(t *testing.T) {
	for path, want := range map[string]string{
		"/usr/bin/modup": "package manager",
		"/usr/local/Cellar/modup/1.0.0/bin/modup":        "brew upgrade modup",
		"/opt/homebrew/Cellar/modup/1.0.0/bin/modup":     "brew upgrade modup",
		`C:\Users\me\scoop\apps\modup\current\modup.exe`: "scoop update modup",
		"/home/me/go/bin/modup":                          "",
		"/usr/local/bin/modup":                           "",
		`C:\Program Files\modup\modup.exe`:               "",
	} {
		cmd, managed := selfupdate.ManagedBy(path)
		if managed != (want != "") || !strings.Contains(cmd, want) {
			t.Errorf("ManagedBy(%s) = %q, %v; want %q", path, cmd, managed, want)
		}
	}
	f := newFixture(t)
	u := f.updater(t, "linux", "amd64", f.key.PublicText())
	err := u.Install(t.Context(), selfupdate.Release{}, "/usr/bin/modup")
	var me *selfupdate.ManagedError
	if !errors.As(err, &me) || !errors.Is(err, selfupdate.ErrManaged) || !strings.Contains(err.Error(), "/usr/bin/modup") {
		t.Errorf("Install under /usr/bin: %v", err)
	}
}

// TestReplaceAside: the Windows way, moving the running executable aside
// and the new one in, and removing the old one at the next start.
func TestReplaceAside(t *testing.T) {
	dir := t.TempDir()
	exe, next := filepath.Join(dir, "modup.exe"), filepath.Join(dir, ".modup-new")
	os.WriteFile(exe, []byte("old"), 0o755)
	os.WriteFile(exe+".old", []byte("from an earlier update"), 0o755)
	os.WriteFile(next, []byte("new"), 0o755)
	if err := selfupdate.ReplaceAside(next, exe); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(exe); string(b) != "new" {
		t.Errorf("exe holds %q", b)
	}
	if b, _ := os.ReadFile(exe + ".old"); string(b) != "old" {
		t.Errorf("exe.old holds %q", b)
	}
	if err := selfupdate.RemoveAside(exe); err != nil {
		t.Fatal(err)
	}
	if err := selfupdate.RemoveAside(exe); err != nil {
		t.Errorf("a second start: %v", err)
	}
	if l := leftovers(t, exe); len(l) != 0 {
		t.Errorf("left: %v", l)
	}
	// A failed move-in puts the old executable back.
	if err := selfupdate.ReplaceAside(filepath.Join(dir, "missing"), exe); err == nil {
		t.Fatal("replacing with a missing file succeeded")
	}
	if b, _ := os.ReadFile(exe); string(b) != "new" {
		t.Errorf("after a failed replacement exe holds %q", b)
	}
}
