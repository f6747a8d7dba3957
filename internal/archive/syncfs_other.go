//go:build !linux

package archive

import "os"

// syncFS is Linux-only; elsewhere every file and folder is synced by itself.
func syncFS(*os.Root) error { return errSyncFSUnsupported }

// syncFSUsable is false: files are fsynced as they are written.
func syncFSUsable() bool { return false }
