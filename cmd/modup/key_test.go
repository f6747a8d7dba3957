package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modup/modup/trust"
	"github.com/modup/modup/trust/trusttest"
)

// runOnTerminal runs modup in-process with typed standing in for what the
// user types on a terminal.
func runOnTerminal(t *testing.T, typed string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), args, env{
		stdin: strings.NewReader(typed), stdout: &out, stderr: &errOut,
		getenv:     func(string) string { return "" },
		isTerminal: func(any) bool { return true },
	})
	return code, out.String(), errOut.String()
}

// A new key's password is asked twice; a mismatch or an empty one writes
// nothing. (A matching pair costs minisign's scrypt, a minute under the
// race detector: trust's interop test covers the encrypted key itself.)
func TestKeyGeneratePasswordPrompt(t *testing.T) {
	for _, tc := range []struct {
		name, typed, want string
	}{
		{"passwords differ", "one\ntwo\n", "the passwords differ: nothing was written"},
		{"empty", "\n", "an empty password: pass --unencrypted for a key without one"},
		{"input ends", "", "read the password: EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			code, _, errOut := runOnTerminal(t, tc.typed, "key", "generate", "-o", dir)
			if code != exitFailure || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "password for the new key: ") {
				t.Fatalf("exit %d, stderr %q; want %q", code, errOut, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written: %v", entries)
			}
		})
	}
}

// pack --sign with a password-protected key asks for its password on the
// terminal when MODUP_SIGNING_PASSWORD is not set.
func TestPackAsksForTheKeysPassword(t *testing.T) {
	pub, sec := trusttest.Key(t)
	for _, tc := range []struct {
		name, typed string
		code        int
		want        string
	}{
		{"right", "s3cret\n", exitOK, ""},
		{"wrong", "guess\n", exitFailure, "decrypt the secret key: wrong password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := t.TempDir()
			key := trusttest.WriteKeys(t, filepath.Join(base, "keys"), sec, "s3cret")
			pkg := filepath.Join(base, "hello")
			authorWrite(t, pkg, map[string]string{"a2modsource.json": `{"name": "hello", "version": "1.0.0"}`})
			code, out, errOut := runOnTerminal(t, tc.typed, "pack", pkg, "--sign", key)
			if code != tc.code || !strings.Contains(errOut, "password for modup.key: ") || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
			}
			sig := filepath.Join(base, "hello-release", "1.0.0.zip.minisig")
			if tc.code != exitOK {
				if _, err := os.Stat(sig); !os.IsNotExist(err) {
					t.Error("a refused pack wrote a signature")
				}
				return
			}
			s, err := trust.ParseSignature([]byte(authorRead(t, sig)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.VerifyFile([]trust.PublicKey{pub}, filepath.Join(base, "hello-release", "1.0.0.zip")); err != nil {
				t.Error(err)
			}
		})
	}
}
