//go:build windows

package hook

import (
	"os/exec"
	"strconv"
	"syscall"
)

// setGroup starts the command in a new process group and makes
// cancellation end the whole tree (taskkill /T), so a child the command
// started does not outlive it and hold the output open.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		kill := exec.Command("taskkill", "/T", "/F", "/PID", strconv.Itoa(cmd.Process.Pid))
		if err := kill.Run(); err != nil {
			return cmd.Process.Kill()
		}
		return nil
	}
}
