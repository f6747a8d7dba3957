package hook

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func skipWindows(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("these commands are POSIX shell")
	}
}

// runBounded runs c, failing the test if Run does not return within limit:
// the bug being guarded against is Run never returning.
func runBounded(t *testing.T, ctx context.Context, c Command, limit time.Duration) (Result, error) {
	t.Helper()
	type out struct {
		r   Result
		err error
	}
	done := make(chan out, 1)
	go func() {
		r, err := Run(ctx, c)
		done <- out{r, err}
	}()
	select {
	case o := <-done:
		return o.r, o.err
	case <-time.After(limit):
		t.Fatalf("Run(%q) did not return within %s", c.Shell, limit)
		return Result{}, nil
	}
}

func TestRunOutcomes(t *testing.T) {
	skipWindows(t)
	tests := []struct {
		name      string
		shell     string
		timeout   time.Duration
		wantErr   error  // matched with errors.Is; nil = success
		wantText  string // in the error
		wantOut   string // exact output
		wantEnvIn string
	}{
		{name: "success", shell: "echo hello", timeout: 10 * time.Second, wantOut: "hello\n"},
		{name: "exit status", shell: "echo bad >&2; exit 3", timeout: 10 * time.Second, wantText: "exit status 3", wantOut: "bad\n"},
		{name: "environment", shell: `echo "$MODUP_PACKAGE"`, timeout: 10 * time.Second, wantOut: "pkg\n"},
		// The shell waits for its child; both must die at the timeout.
		{name: "child holds the pipe until killed", shell: "sleep 100000; true", timeout: 300 * time.Millisecond, wantErr: ErrTimeout},
		{name: "busy loop", shell: "while :; do :; done", timeout: 300 * time.Millisecond, wantErr: ErrTimeout},
		// The shell exits at once but leaves a child holding the output:
		// modup stops waiting after the pipe grace and keeps the status.
		{name: "background child keeps the pipe", shell: "sleep 3 & echo started", timeout: time.Minute, wantOut: "started\n"},
		{name: "background child, failing shell", shell: "sleep 3 & exit 4", timeout: time.Minute, wantText: "exit status 4"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := runBounded(t, t.Context(), Command{Shell: tc.shell, Env: []string{"MODUP_PACKAGE=pkg"}, Timeout: tc.timeout, PipeGrace: 100 * time.Millisecond}, 20*time.Second)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.wantText != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantText)
				}
			default:
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			}
			if tc.wantOut != "" && r.Output != tc.wantOut {
				t.Errorf("output = %q, want %q", r.Output, tc.wantOut)
			}
		})
	}
}

// Cancelling the context (shutdown) stops a running command.
func TestCancelStops(t *testing.T) {
	skipWindows(t)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(200*time.Millisecond, cancel)
	_, err := runBounded(t, ctx, Command{Shell: "sleep 100000", Timeout: time.Hour}, 20*time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A command printing far more than Keep leaves only the tail, and memory
// stays bounded while it prints.
func TestOutputIsCapped(t *testing.T) {
	skipWindows(t)
	r, err := runBounded(t, t.Context(), Command{Shell: "head -c 20000000 /dev/zero | tr '\\0' x; echo END", Timeout: time.Minute, Keep: 4096}, 60*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Output) != 4096 || !r.Truncated || !strings.HasSuffix(r.Output, "xxxEND\n") {
		t.Errorf("output: %d bytes, truncated %v, tail %q", len(r.Output), r.Truncated, r.Output[max(0, len(r.Output)-8):])
	}
}

func TestTailBoundsMemory(t *testing.T) {
	tl := &tail{max: 1000}
	chunk := []byte(strings.Repeat("a", 333))
	for i := range 10000 {
		chunk[0] = byte('0' + i%10)
		tl.Write(chunk)
		if cap(tl.buf) > 4*tl.max {
			t.Fatalf("buffer grew to %d bytes for a %d-byte tail", cap(tl.buf), tl.max)
		}
	}
	tl.Write([]byte("END"))
	got, tr := tl.String()
	if len(got) != 1000 || !tr || !strings.HasSuffix(got, "aEND") {
		t.Errorf("tail = %d bytes (truncated %v), ends %q", len(got), tr, got[len(got)-4:])
	}
	big := []byte(strings.Repeat("b", 5000) + "Z")
	tl.Write(big)
	if got, _ := tl.String(); len(got) != 1000 || got[999] != 'Z' {
		t.Errorf("after a large write: %d bytes ending %q", len(got), got[len(got)-1:])
	}
}
