//go:build linux

package fsutil

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// unsupported are the errors renameat2 gives when the kernel or the file
// system lacks a flag. EXDEV is among them: no rename works across file
// systems, and the caller's plain-rename fallback reports that better.
func unsupported(err error) bool {
	return errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) ||
		errors.Is(err, unix.EXDEV) || errors.Is(err, unix.EOPNOTSUPP)
}

// renameNoReplace fails with EEXIST (which is fs.ErrExist) when newpath
// exists.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	if err != nil && unsupported(err) {
		return errNoReplaceUnsupported
	}
	return err
}

func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if err != nil && unsupported(err) {
		return fmt.Errorf("%w: %w", ErrExchangeUnsupported, err)
	}
	return err
}
