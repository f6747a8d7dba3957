//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// readUmask reads the umask from /proc/self/status where Linux shows it
// (no side effect); elsewhere it sets the umask and sets it back, with
// 022 in between, so that a file created by another thread meanwhile gets
// a usual mode rather than one open to everybody.
func readUmask() fs.FileMode {
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if n, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return fs.FileMode(n) & fs.ModePerm
				}
			}
		}
	}
	old := syscall.Umask(0o022)
	syscall.Umask(old)
	return fs.FileMode(old) & fs.ModePerm
}
