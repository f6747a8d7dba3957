package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// ErrSyncFSUnsupported: SyncFS did nothing here; sync file by file.
var ErrSyncFSUnsupported = errors.New("syncfs unsupported")

// SyncTree makes every file and folder below dir, dir included, durable:
// with one SyncFS where it is usable, else by syncing each file and folder.
func SyncTree(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	err = SyncFS(d)
	d.Close()
	if !errors.Is(err, ErrSyncFSUnsupported) {
		if err != nil {
			return fmt.Errorf("sync %s: %w", dir, err)
		}
		return nil
	}
	return syncEach(dir)
}

// syncEach syncs every regular file and folder below dir, dir included.
func syncEach(dir string) error {
	return filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return fmt.Errorf("sync %s: %w", path, err)
		case e.IsDir():
			return SyncDir(path)
		case e.Type().IsRegular():
			return syncFile(path)
		}
		return nil
	})
}

func syncFile(path string) error {
	flag := os.O_RDONLY
	if runtime.GOOS == "windows" {
		flag = os.O_RDWR // FlushFileBuffers needs write access
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
