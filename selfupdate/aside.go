package selfupdate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// oldSuffix names a running executable once it is moved aside.
const oldSuffix = ".old"

// replaceAside puts newExe in exe's place where a running executable can
// be renamed but not replaced or deleted (Windows): exe moves aside to
// exe.old (removed at the next start, see removeAside), then newExe moves
// in. If that fails, the old one is moved back.
func replaceAside(newExe, exe string) error {
	old := exe + oldSuffix
	if err := os.Remove(old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s left by an earlier update: %w", old, err)
	}
	if err := os.Rename(exe, old); err != nil {
		return fmt.Errorf("move the running %s aside: %w", exe, err)
	}
	if err := os.Rename(newExe, exe); err != nil {
		if back := os.Rename(old, exe); back != nil {
			return fmt.Errorf("put the new %s in place: %w; and moving the old one back: %v (it is at %s)", exe, err, back, old)
		}
		return fmt.Errorf("put the new %s in place: %w", exe, err)
	}
	return nil
}

// removeAside removes exe.old, which an update moved aside while it ran.
func removeAside(exe string) error {
	err := os.Remove(exe + oldSuffix)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
