package main

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"aead.dev/minisign"

	"github.com/modup/modup/selfupdate"
	"github.com/modup/modup/sources/github/githubtest"
)

// fakeBuild writes an "executable" naming its target and ldflags.
func fakeBuild(_ context.Context, goos, goarch, ldflags, exe string) error {
	if err := os.MkdirAll(filepath.Dir(exe), 0o755); err != nil {
		return err
	}
	return os.WriteFile(exe, []byte("modup for "+goos+"/"+goarch+" built with "+ldflags), 0o755)
}

// TestReleaseFeedsSelfUpdate: the assets the script writes are what
// self-update finds, verifies and installs, with the key the script built
// into the binaries.
func TestReleaseFeedsSelfUpdate(t *testing.T) {
	pub, priv, err := minisign.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	names, err := release(t.Context(), options{
		Version: "1.2.0", Repo: "acme/modup", Out: out, Key: priv, Log: io.Discard,
		Targets: []string{"linux/amd64", "windows/arm64"}, Build: fakeBuild,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"checksums.txt", "checksums.txt.minisig", "modup.pub", "modup_1.2.0_linux_amd64.tar.gz", "modup_1.2.0_windows_arm64.zip"}
	if !slices.Equal(names, want) {
		t.Fatalf("assets %v, want %v", names, want)
	}
	sums, _ := os.ReadFile(filepath.Join(out, "checksums.txt"))
	if lines := strings.Split(strings.TrimSpace(string(sums)), "\n"); len(lines) != 2 || !strings.HasSuffix(lines[0], "  modup_1.2.0_linux_amd64.tar.gz") {
		t.Errorf("checksums.txt:\n%s", sums)
	}
	var gotPub minisign.PublicKey
	if b, err := os.ReadFile(filepath.Join(out, "modup.pub")); err != nil || gotPub.UnmarshalText(b) != nil || !gotPub.Equal(pub) {
		t.Errorf("modup.pub is not the signing key's public key (%v)", err)
	}

	srv := githubtest.New(t)
	assets := map[string][]byte{}
	for _, n := range names {
		assets[n], _ = os.ReadFile(filepath.Join(out, n))
	}
	srv.AddRelease("acme", "modup", githubtest.Release{Tag: "v1.2.0", Assets: assets})
	for _, target := range []string{"linux/amd64", "windows/arm64"} {
		goos, goarch, _ := strings.Cut(target, "/")
		u, err := selfupdate.New(selfupdate.Config{Repo: "acme/modup", PublicKey: pub.String(), Current: "1.0.0", GOOS: goos, GOARCH: goarch,
			APIURL: srv.API.URL + "/", Client: srv.Client("")})
		if err != nil {
			t.Fatal(err)
		}
		rel, err := u.Find(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		exe := filepath.Join(t.TempDir(), "modup")
		os.WriteFile(exe, []byte("old"), 0o755)
		if err := u.Install(t.Context(), rel, exe); err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		b, _ := os.ReadFile(exe)
		for _, part := range []string{"modup for " + target, "-X main.version=1.2.0", "-X main.selfRepo=acme/modup", "-X main.releaseKey=" + pub.String()} {
			if !strings.Contains(string(b), part) {
				t.Errorf("%s: the installed executable %q lacks %q", target, b, part)
			}
		}
	}
}

func TestReleaseIsReproducible(t *testing.T) {
	_, priv, _ := minisign.GenerateKey(rand.Reader)
	var sums [2][]byte
	for i := range sums {
		out := t.TempDir()
		if _, err := release(t.Context(), options{Version: "1.0.0", Repo: "a/b", Out: out, Key: priv, Log: io.Discard, Targets: []string{"darwin/arm64"}, Build: fakeBuild}); err != nil {
			t.Fatal(err)
		}
		sums[i], _ = os.ReadFile(filepath.Join(out, "checksums.txt"))
	}
	if string(sums[0]) != string(sums[1]) {
		t.Errorf("two runs differ:\n%s\n%s", sums[0], sums[1])
	}
}

func TestLoadKey(t *testing.T) {
	// Encrypted keys go through minisign.DecryptKey, whose scrypt costs
	// about 20 s a run: the tests use unencrypted ones.
	pub, priv, _ := minisign.GenerateKey(rand.Reader)
	plain, _ := priv.MarshalText()
	file := filepath.Join(t.TempDir(), "modup.key")
	os.WriteFile(file, plain, 0o600)
	for _, tc := range []struct {
		name    string
		env     map[string]string
		dry     bool
		wantErr string
		wantPub bool
	}{
		{name: "key file", env: map[string]string{"MODUP_RELEASE_KEY_FILE": file}, wantPub: true},
		{name: "missing key file", env: map[string]string{"MODUP_RELEASE_KEY_FILE": file + ".gone"}, wantErr: "MODUP_RELEASE_KEY_FILE"},
		{name: "not a key", env: map[string]string{"MODUP_RELEASE_KEY_SECRET": "hello"}, wantErr: "the signing key"},
		{name: "secret in the environment", env: map[string]string{"MODUP_RELEASE_KEY_SECRET": string(plain)}, wantPub: true},
		{name: "none for a release", wantErr: "no signing key"},
		{name: "none for a dry run", dry: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, err := loadKey(func(k string) string { return tc.env[k] }, tc.dry)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := key.Public().(minisign.PublicKey); got.Equal(pub) != tc.wantPub {
				t.Errorf("public key matches = %v, want %v", got.Equal(pub), tc.wantPub)
			}
		})
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	for _, args := range [][]string{{"-version", "1.2"}, {"-dry", "-targets", "linux"}, {"-dry", "extra"}} {
		if err := run(t.Context(), args, func(string) string { return "" }, io.Discard); err == nil {
			t.Errorf("run %v succeeded", args)
		}
	}
}
