//go:build !linux

package fsutil

import "os"

// SyncFSUsable is false: syncfs(2) is Linux's.
func SyncFSUsable() bool { return false }

// SyncFS is Linux-only; elsewhere files and folders are synced one by one.
func SyncFS(*os.File) error { return ErrSyncFSUnsupported }
