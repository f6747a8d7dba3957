//go:build unix

package hook

import (
	"os/exec"
	"syscall"
)

// setGroup starts the command in a process group of its own and makes
// cancellation kill the whole group, so a child the shell started (sleep,
// a forked server) dies with it instead of holding the output open.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// A negative pid signals the process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
