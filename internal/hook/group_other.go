//go:build !unix && !windows

package hook

import "os/exec"

// setGroup: no process groups here; cancellation kills the shell only.
func setGroup(*exec.Cmd) {}
