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
				getenv:          func(string) string { return "" },
				stdinIsTerminal: func() bool { return true },
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
