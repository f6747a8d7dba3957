//go:build linux

package pkgdir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// killSpec tells a helper process which swap to run and where to die.
type killSpec struct {
	Root       string `json:"root"`
	Staged     string `json:"staged"`
	Step       string `json:"step"`
	NoExchange bool   `json:"no_exchange"`
}

// helperSwap runs in a child process: it takes the lock and runs Swap,
// sending itself SIGKILL before spec.Step.
func helperSwap(arg string) {
	var spec killSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l := Layout{Root: spec.Root}
	if _, err := l.Lock(context.Background(), pkgName, 0); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	_, err := l.Swap(context.Background(), SwapRequest{
		Name: pkgName, Staged: spec.Staged, OldVersion: "1.0.0", NewVersion: "2.0.0",
		noExchange: spec.NoExchange,
		Inject: func(step string) error {
			if step == spec.Step {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				time.Sleep(time.Minute)
			}
			return nil
		},
	})
	fmt.Fprintln(os.Stderr, "swap finished without reaching", spec.Step, "error:", err)
	os.Exit(4)
}

// TestSwapKilled runs a swap in a child process that SIGKILLs itself at
// each step, then recovers in this process: a real death, with no deferred
// cleanup, the lock released by the kernel.
func TestSwapKilled(t *testing.T) {
	before := pkgState{live: "1.0.0", backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0"}, record: "1.0.0"}
	after := pkgState{live: "2.0.0", backups: map[string]string{"0.9.0": "0.9.0", "1.0.0": "1.0.0", "1.0.0~2": "1.0.0"}, record: "2.0.0"}
	tests := []struct {
		step       string
		noExchange bool
		want       pkgState
	}{
		{step: StepJournal, want: before},
		{step: StepExchange, want: before},
		{step: StepBackupOld, want: after},
		{step: StepRecord, want: after},
		{step: StepUnjournal, want: after},
		{step: StepJournal, noExchange: true, want: before},
		{step: StepBackupLive, noExchange: true, want: before},
		{step: StepPlaceNew, noExchange: true, want: before},
		{step: StepRecord, noExchange: true, want: after},
		{step: StepUnjournal, noExchange: true, want: after},
	}
	for _, tc := range tests {
		path := "exchange"
		if tc.noExchange {
			path = "fallback"
		}
		t.Run(path+"/"+tc.step, func(t *testing.T) {
			l := Layout{Root: t.TempDir()}
			staged := setUp(t, l, before, "2.0.0")
			spec, err := json.Marshal(killSpec{Root: l.Root, Staged: staged, Step: tc.step, NoExchange: tc.noExchange})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
			cmd.Env = append(os.Environ(), helperEnv+"=swap:"+string(spec))
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) {
				t.Fatalf("helper = %v, want it killed; output:\n%s", err, out)
			}
			ws, ok := ee.Sys().(syscall.WaitStatus)
			if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("helper ended with %v, want SIGKILL; output:\n%s", err, out)
			}

			if _, err := l.Recover(t.Context()); err != nil {
				t.Fatalf("Recover: %v", err)
			}
			checkState(t, l, tc.want)
		})
	}
}
