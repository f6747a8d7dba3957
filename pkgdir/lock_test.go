package pkgdir

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// helperEnv makes the test binary act as a helper process; see
// TestHelperProcess.
const helperEnv = "MODUP_PKGDIR_HELPER"

// TestHelperProcess is not a test: started by another test with helperEnv
// set, it does what the variable says and never returns normally.
//
//	lock:<root>:<name>   take the lock, print "locked", sleep
//	swap:<spec>          run a swap and die at a step (swap_kill_linux_test.go)
//	readonly:<root>      purge, prune and sweep read-only trash (readonly_linux_test.go)
//	history:<root>       append whole entries, then stop halfway through one (history_test.go)
func TestHelperProcess(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process only")
	}
	op, rest, _ := strings.Cut(spec, ":")
	switch op {
	case "lock":
		i := strings.LastIndex(rest, ":")
		root, name := rest[:i], rest[i+1:]
		lk, err := Layout{Root: root}.Lock(context.Background(), name, 0)
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(3)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		lk.Unlock()
		os.Exit(0)
	case "swap":
		helperSwap(rest) // swap_kill_linux_test.go
	case "readonly":
		helperReadOnly(rest) // readonly_linux_test.go
	case "history":
		helperHistory(rest) // history_test.go
	}
	fmt.Fprintln(os.Stderr, "unknown helper", spec)
	os.Exit(2)
}

// startHelper runs the test binary as a helper and waits for its first
// line of output, which it returns.
func startHelper(t *testing.T, spec string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v=false")
	cmd.Env = append(os.Environ(), helperEnv+"="+spec)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper %s: no output: %v", spec, err)
	}
	return cmd, strings.TrimSpace(line)
}

func TestLockHeldByDeadProcessIsReleased(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	const name = "a2.modules"
	cmd, line := startHelper(t, "lock:"+l.Root+":"+name)
	if line != "locked" {
		t.Fatalf("helper said %q, want locked", line)
	}

	_, err := l.Lock(t.Context(), name, 0)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("Lock while the helper holds it = %v, want a *LockedError matching ErrLocked", err)
	}
	if le.PID != cmd.Process.Pid {
		t.Errorf("LockedError.PID = %d, want the helper's pid %d", le.PID, cmd.Process.Pid)
	}
	if want := "pid " + strconv.Itoa(cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name the holder (%s)", err, want)
	}
	if !strings.Contains(le.Command, "-test.run=^TestHelperProcess$") {
		t.Errorf("LockedError.Command = %q, want the helper's command line", le.Command)
	}

	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix: no cleanup runs
		t.Fatal(err)
	}
	cmd.Wait()

	lk, err := l.Lock(t.Context(), name, 5*time.Second)
	if err != nil {
		t.Fatalf("Lock after the holder was killed = %v, want the lock", err)
	}
	if err := lk.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestLockContention(t *testing.T) {
	tests := []struct {
		name    string
		holdFor time.Duration // how long the first holder keeps the lock
		timeout time.Duration // the second Lock's timeout
		wantErr bool
	}{
		{name: "try once while held", holdFor: time.Hour, timeout: 0, wantErr: true},
		{name: "wait shorter than the holder", holdFor: time.Hour, timeout: 200 * time.Millisecond, wantErr: true},
		{name: "wait longer than the holder", holdFor: 150 * time.Millisecond, timeout: 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			first, err := l.Lock(t.Context(), "pkg", 0)
			if err != nil {
				t.Fatal(err)
			}
			defer first.Unlock()
			if tc.holdFor < time.Hour {
				time.AfterFunc(tc.holdFor, func() { first.Unlock() })
			}
			start := time.Now()
			second, err := l.Lock(t.Context(), "pkg", tc.timeout)
			waited := time.Since(start)
			if tc.wantErr {
				var le *LockedError
				if !errors.As(err, &le) {
					t.Fatalf("second Lock = %v, want *LockedError", err)
				}
				if le.PID != os.Getpid() {
					t.Errorf("LockedError.PID = %d, want this process %d", le.PID, os.Getpid())
				}
				if waited < tc.timeout {
					t.Errorf("gave up after %s, before the %s timeout", waited, tc.timeout)
				}
				if tc.timeout > 0 && !strings.Contains(err.Error(), "waited") {
					t.Errorf("error %q does not say how long it waited", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("second Lock = %v, want the lock once the first is released", err)
			}
			if waited < tc.holdFor {
				t.Errorf("got the lock after %s, while the first still held it (%s)", waited, tc.holdFor)
			}
			second.Unlock()
		})
	}
}

func TestLockMutualExclusion(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	var inside, maxInside, entered atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for range 5 {
				lk, err := l.Lock(t.Context(), "pkg", 10*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for {
					m := maxInside.Load()
					if n <= m || maxInside.CompareAndSwap(m, n) {
						break
					}
				}
				entered.Add(1)
				time.Sleep(2 * time.Millisecond)
				inside.Add(-1)
				if err := lk.Unlock(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if got := maxInside.Load(); got != 1 {
		t.Errorf("%d holders at once, want 1", got)
	}
	if got := entered.Load(); got != 30 {
		t.Errorf("%d lock sections, want 30", got)
	}
}

func TestLockCancel(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	first, err := l.Lock(t.Context(), "pkg", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = l.Lock(ctx, "pkg", time.Hour)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock with an expiring context = %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("Lock ignored the context for %s", time.Since(start))
	}
}

func TestLockHolderFile(t *testing.T) {
	l := Layout{Root: t.TempDir()}
	lk, err := l.Lock(t.Context(), "pkg", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.HolderPath("pkg")); err != nil {
		t.Errorf("no holder file while locked: %v", err)
	}
	if fi, err := os.Stat(l.LockPath("pkg")); err != nil || fi.Size() != 0 {
		t.Errorf("lock file %v size %v, want an empty file", err, fi)
	}
	if err := lk.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.HolderPath("pkg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("holder file left after Unlock: %v", err)
	}
	if err := lk.Unlock(); err != nil {
		t.Errorf("second Unlock = %v, want nil", err)
	}
}

func TestLockedErrorMessage(t *testing.T) {
	since := time.Now()
	tests := []struct {
		name string
		err  LockedError
		want string
	}{
		{
			name: "known holder",
			err:  LockedError{Package: "a2.modules", PID: 1234, Command: "modup update", Since: since, Waited: 30 * time.Second},
			want: "a2.modules is being changed by modup (pid 1234, `modup update`, since " + since.Format("15:04:05") + "); waited 30s",
		},
		{
			name: "unknown holder, tried once",
			err:  LockedError{Package: "a2.modules"},
			want: "a2.modules is being changed by another modup process",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}
