// Package fsutil holds the few file-system moves modup makes crash-safe.
package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFileAtomic replaces path with data: it writes a temporary file in the
// same folder, fsyncs it, renames it over path and fsyncs the folder, so a
// crash leaves either the old file or the new one. The file gets perm less
// the umask.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writePath(path, data, perm, true)
}

func writePath(path string, data []byte, perm os.FileMode, durable bool) error {
	r, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer r.Close()
	return writeIn(r, filepath.Base(path), data, perm, durable)
}

// SyncDir fsyncs a folder so that renames inside it are durable. It is a
// no-op where folders cannot be synced (Windows).
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// ReplaceFile replaces path with data through a temporary file and a
// rename, without fsync: readers never see a torn file, but a power loss
// may lose the new content. For caches and state that can be rebuilt.
func ReplaceFile(path string, data []byte, perm os.FileMode) error {
	return writePath(path, data, perm, false)
}
