//go:build !linux

package fsutil

func renameNoReplace(oldpath, newpath string) error { return errNoReplaceUnsupported }

func exchange(a, b string) error { return ErrExchangeUnsupported }
