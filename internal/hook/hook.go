// Package hook runs a user's shell command (the daemon's --on-update) so
// that nothing it does can hang or flood modup: it runs in a process group
// of its own that is killed as a whole at the timeout, modup stops waiting
// for its output once the process is gone (a background child that keeps
// the pipe open does not hold modup), and only the last part of its output
// is kept.
package hook

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// DefaultKeep is how much of a command's output is kept: its tail.
const DefaultKeep = 64 << 10

// Command is one shell command to run.
type Command struct {
	// Shell is the command line, run by /bin/sh -c (cmd /C on Windows).
	Shell string
	// Env is added to the environment of modup.
	Env []string
	// Timeout bounds the run; the whole process group is killed then.
	Timeout time.Duration
	// Keep is how many bytes of the output's tail are kept (default DefaultKeep).
	Keep int
	// PipeGrace is how long modup waits for the output pipe to close once
	// the shell has exited (default 2s): a child left in the background may
	// hold it open for ever.
	PipeGrace time.Duration
}

// Result is what a command did.
type Result struct {
	// Output is the tail of stdout and stderr together.
	Output string
	// Truncated is true when output was dropped from the front.
	Truncated bool
	// Duration is how long the run took.
	Duration time.Duration
}

// ErrTimeout: the command ran past its timeout and was killed.
var ErrTimeout = errors.New("timed out")

// Run runs c and waits for it. ctx cancellation kills the process group
// too (shutdown). The error says how the command ended: its exit status,
// ErrTimeout, or the context's error.
func Run(ctx context.Context, c Command) (Result, error) {
	keep := c.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	grace := c.PipeGrace
	if grace <= 0 {
		grace = 2 * time.Second
	}
	runCtx := ctx
	cancel := func() {}
	if c.Timeout > 0 {
		runCtx, cancel = context.WithTimeout(ctx, c.Timeout)
	}
	defer cancel()

	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(runCtx, "cmd", "/C", c.Shell)
	} else {
		cmd = exec.CommandContext(runCtx, "/bin/sh", "-c", c.Shell)
	}
	cmd.Env = append(os.Environ(), c.Env...)
	out := &tail{max: keep}
	cmd.Stdout, cmd.Stderr = out, out
	setGroup(cmd)
	cmd.WaitDelay = grace

	start := time.Now()
	err := cmd.Run()
	res := Result{Duration: time.Since(start)}
	res.Output, res.Truncated = out.String()
	switch {
	case err == nil:
		return res, nil
	case ctx.Err() != nil:
		return res, fmt.Errorf("stopped: %w", ctx.Err())
	case runCtx.Err() != nil:
		return res, fmt.Errorf("killed after %s: %w", c.Timeout, ErrTimeout)
	case errors.Is(err, exec.ErrWaitDelay):
		// The shell exited; a child it left holds the output open. The
		// command's own status stands.
		if cmd.ProcessState != nil && cmd.ProcessState.Success() {
			return res, nil
		}
		return res, fmt.Errorf("%s", cmd.ProcessState)
	}
	return res, err
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	truncated bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		t.truncated = true
		return n, nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.max {
		// Compact now and then, not on every write.
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
		t.truncated = true
	}
	return n, nil
}

// String returns the kept tail and whether anything was dropped.
func (t *tail) String() (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	tr := t.truncated
	if len(b) > t.max {
		b = b[len(b)-t.max:]
		tr = true
	}
	return string(b), tr
}
