package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrExchangeUnsupported is returned by Exchange where the system or the
// file system cannot swap two paths atomically. Callers fall back to two
// renames.
var ErrExchangeUnsupported = errors.New("atomic exchange not supported here")

// RenameNoReplace renames oldpath to newpath, failing with an error that
// wraps fs.ErrExist when newpath exists. A plain rename would silently
// replace an empty folder (or any file) at newpath on Unix.
//
// On Linux the check and the rename are one system call; elsewhere the
// check comes first, which is enough for callers that hold the lock of the
// paths involved.
func RenameNoReplace(oldpath, newpath string) error {
	err := renameNoReplace(oldpath, newpath)
	if err == nil {
		return nil
	}
	if !errors.Is(err, errNoReplaceUnsupported) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	if _, err := os.Lstat(newpath); err == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrExist}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("rename %s %s: %w", oldpath, newpath, err)
	}
	return os.Rename(oldpath, newpath)
}

// errNoReplaceUnsupported makes RenameNoReplace check, then rename.
var errNoReplaceUnsupported = errors.New("rename without replace not supported")

// Exchange atomically swaps the entries at a and b, which must both exist:
// after it, a names what b named and the other way round. Where that is not
// possible it returns an error wrapping ErrExchangeUnsupported and changes
// nothing.
func Exchange(a, b string) error {
	if err := exchange(a, b); err != nil {
		return &os.LinkError{Op: "exchange", Old: a, New: b, Err: err}
	}
	return nil
}
