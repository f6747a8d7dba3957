//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// specialFile puts a named pipe nobody writes to, or a link to /dev/zero,
// at path.
func specialFile(t *testing.T, path, kind string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var err error
	if kind == "fifo" {
		err = syscall.Mkfifo(path, 0o644)
	} else {
		err = os.Symlink("/dev/zero", path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestStatusSpecialStateFiles: a state file that is a named pipe or a link
// to /dev/zero hung `modup status` (or grew it without limit); it is
// skipped, and status shows the package as never checked.
func TestStatusSpecialStateFiles(t *testing.T) {
	for _, kind := range []string{"fifo", "zero"} {
		t.Run(kind, func(t *testing.T) {
			root, _ := ownRoot(t, t.TempDir())
			state := filepath.Join(pkgdir.Layout{Root: root}.StateDir(), "hello.json")
			if err := os.Remove(state); err != nil {
				t.Fatal(err)
			}
			specialFile(t, state, kind)
			p := advStart(t, "status", "--root", root)
			p.wait(t, 20*time.Second)
			if p.code != 0 || !strings.Contains(p.stdout.String(), "hello") {
				t.Errorf("%v", p)
			}
		})
	}
}

// TestLockWaitInterrupted: SIGINT ends a wait for another process's lock
// at once, even when the lock holder's description is a named pipe (whose
// reading once swallowed the signal for ever).
func TestLockWaitInterrupted(t *testing.T) {
	root, _ := ownRoot(t, t.TempDir())
	l := pkgdir.Layout{Root: root}
	lk, err := l.Lock(t.Context(), "hello", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock()
	if err := os.Remove(l.HolderPath("hello")); err != nil {
		t.Fatal(err)
	}
	specialFile(t, l.HolderPath("hello"), "fifo")

	p := advStart(t, "update", "hello", "--root", root, "--lock-timeout", "10m")
	time.Sleep(time.Second) // scanning done, waiting for the lock
	if p.exited() {
		t.Fatalf("modup ended before the signal: %v", p)
	}
	start := time.Now()
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 20*time.Second)
	if p.code != 130 || !strings.Contains(p.stderr.String(), "modup: stopped by interrupt") {
		t.Errorf("after SIGINT: %v", p)
	}
	t.Logf("ended %s after SIGINT", time.Since(start).Round(time.Millisecond))
}
