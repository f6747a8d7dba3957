package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// remove --purge on a terminal asks; only "y" or "yes" deletes.
func TestPurgeAsksOnATerminal(t *testing.T) {
	tests := []struct {
		answer   string
		code     int
		deleted  bool
		wantText string
	}{
		{answer: "y\n", code: 0, deleted: true},
		{answer: "YES\n", code: 0, deleted: true},
		{answer: "n\n", code: 1, wantText: "not confirmed; nothing changed"},
		{answer: "\n", code: 1, wantText: "not confirmed"},
		{answer: "", code: 1, wantText: "not confirmed"}, // end of input
	}
	for _, tc := range tests {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(`{"name": "hello", "version": "1.0.0"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			code := run(t.Context(), []string{"remove", "hello", "--purge", "--root", root}, env{
				stdin: strings.NewReader(tc.answer), stdout: &out, stderr: &errOut,
				getenv:     func(string) string { return "" },
				isTerminal: func(any) bool { return true },
			})
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out.String(), errOut.String())
			}
			if !strings.Contains(errOut.String(), "Delete hello 1.0.0 ("+dir+") for good? It is not kept as a backup. [y/N]") {
				t.Errorf("no question on stderr: %q", errOut.String())
			}
			_, err := os.Stat(dir)
			if deleted := os.IsNotExist(err); deleted != tc.deleted {
				t.Errorf("deleted = %v, want %v", deleted, tc.deleted)
			}
			if !strings.Contains(errOut.String(), tc.wantText) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.wantText)
			}
		})
	}
}

// serve on a busy port says so and suggests a free one.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _, errOut := runModup(t, nil, "serve", t.TempDir(), "--addr", ln.Addr().String())
	if code != 1 || !strings.Contains(errOut, ln.Addr().String()+" is in use (another modup serve?): pass --addr 127.0.0.1:0 to pick a free port") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// check on a terminal prints each available update's news under the
// table, escaped, and how to install them; piped, only the table.
func TestCheckNewsOnATerminal(t *testing.T) {
	base := t.TempDir()
	rel := filepath.Join(base, "rel")
	root := filepath.Join(base, "root")
	for path, content := range map[string]string{
		filepath.Join(rel, "a2modsource.json"):           `{"name": "hello", "version": "1.1.0", "news": "* faster\n* \u001b]0;owned\u0007 title"}`,
		filepath.Join(rel, "1.1.0.zip"):                  "not read by check",
		filepath.Join(root, "hello", "a2modsource.json"): `{"name": "hello", "version": "1.0.0", "update_url": "` + filepath.ToSlash(rel) + `"}`,
		filepath.Join(root, "same", "a2modsource.json"):  `{"name": "same", "version": "1.1.0", "update_url": "` + filepath.ToSlash(rel) + `"}`,
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	check := func(terminal bool) (int, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"check", "--root", root}, env{
			stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
			getenv:     func(k string) string { return map[string]string{"NO_COLOR": "1"}[k] },
			isTerminal: func(any) bool { return terminal },
		})
		return code, out.String()
	}
	code, out := check(true)
	want := "\nhello 1.1.0:\n  * faster\n  * \\x1b]0;owned\\a title\n\n1 update available: modup update --all\n"
	if code != exitAvailable || !strings.HasSuffix(out, want) {
		t.Errorf("exit %d, output:\n%s\nwant it to end with:\n%s", code, out, want)
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("raw escape in the output: %q", out)
	}
	if _, out := check(false); strings.Contains(out, "faster") || strings.Contains(out, "update available") {
		t.Errorf("piped output has the news:\n%s", out)
	}
}
