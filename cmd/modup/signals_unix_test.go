//go:build unix

package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Ctrl-C (SIGINT) ends a command with 130 and SIGTERM with 143, after its
// clean-up: the download is abandoned, the old version stays. For the
// daemon a signal is the normal end: exit 0.
func TestSignalExitCodes(t *testing.T) {
	started := make(chan struct{}, 8)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a2modsource.json":
			w.Write([]byte(`{"name": "hello", "version": "2.0.0"}`))
		case "/2.0.0.zip":
			w.Header().Set("Content-Length", "100000")
			w.Write([]byte("PK"))
			w.(http.Flusher).Flush()
			started <- struct{}{}
			select { // hang until the client goes or the test ends
			case <-r.Context().Done():
			case <-release:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	defer close(release)

	tests := []struct {
		name string
		args []string
		sig  syscall.Signal
		want int
	}{
		{name: "update, SIGINT", args: []string{"update", "hello"}, sig: syscall.SIGINT, want: 130},
		{name: "update, SIGTERM", args: []string{"update", "hello"}, sig: syscall.SIGTERM, want: 143},
		{name: "daemon, SIGTERM", args: []string{"daemon", "--interval", "1h"}, sig: syscall.SIGTERM, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "hello")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			manifest := `{"name": "hello", "version": "1.0.0", "update_url": "` + srv.URL + `"}`
			if err := os.WriteFile(filepath.Join(dir, "a2modsource.json"), []byte(manifest), 0o644); err != nil {
				t.Fatal(err)
			}
			p := advStart(t, append(tc.args, "--root", root)...)
			select {
			case <-started:
			case <-time.After(20 * time.Second):
				p.cmd.Process.Kill()
				t.Fatalf("the download never started: %s", p)
			}
			if err := p.cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			p.wait(t, 30*time.Second)
			if p.code != tc.want {
				t.Errorf("exit %d, want %d\n%s", p.code, tc.want, p)
			}
			b, err := os.ReadFile(filepath.Join(dir, "a2modsource.json"))
			if err != nil || string(b) != manifest {
				t.Errorf("the package changed: %q, %v", b, err)
			}
			if tc.want != 0 && !strings.Contains(p.stderr.String(), "modup: stopped by ") {
				t.Errorf("stderr does not say what stopped it:\n%s", p.stderr.String())
			}
		})
	}
}
