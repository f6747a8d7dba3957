//go:build !windows

package selfupdate

import (
	"fmt"
	"os"
	"path/filepath"
)

// replace moves newExe over exe in one rename: a process that starts modup
// meanwhile gets the old or the new executable, never half of one. The
// running process keeps its (now unlinked) file.
func replace(newExe, exe string) error {
	if err := os.Rename(newExe, exe); err != nil {
		return fmt.Errorf("replace %s: %w", exe, err)
	}
	if d, err := os.Open(filepath.Dir(exe)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// RemoveOld removes what an update on Windows leaves; nothing elsewhere.
func RemoveOld(string) error { return nil }
