package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// modup daemon on a root another daemon serves exits 1 naming that
// daemon's pid.
func TestSecondDaemonExits(t *testing.T) {
	root := t.TempDir()
	first := advStart(t, "daemon", "--root", root, "--interval", "1h")
	defer func() {
		first.cmd.Process.Signal(os.Interrupt)
		first.wait(t, 30*time.Second)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(first.stderr.String(), "daemon started") {
		if time.Now().After(deadline) || first.exited() {
			t.Fatalf("the first daemon did not start: %v", first)
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, errOut := advRun(t.Context(), nil, "daemon", "--root", root, "--interval", "1h")
	want := "modup: root " + root + " is served by modup (pid " + strconv.Itoa(first.cmd.Process.Pid) + ", `modup daemon --root "
	if code != exitFailure || !strings.Contains(errOut, want) {
		t.Errorf("second daemon: exit %d, stderr %q; want 1 and %q", code, errOut, want)
	}
}
