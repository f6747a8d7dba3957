package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Outcomes of ReadRegular and ReadRegularIn that callers branch on.
var (
	// ErrNotRegular: the path is a folder, a named pipe, a device, a
	// socket or (for ReadRegularIn) a symbolic link.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge: the file holds more than the caller reads.
	ErrTooLarge = errors.New("file too large")
)

// Kind names the type of a file for messages: "a symbolic link", "a named
// pipe (FIFO)", "a folder", "a file"...
func Kind(m fs.FileMode) string {
	switch t := m.Type(); {
	case t == 0:
		return "a file"
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeDir != 0:
		return "a folder"
	case t&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeCharDevice != 0:
		return "a character device"
	case t&fs.ModeDevice != 0:
		return "a block device"
	default:
		return fmt.Sprintf("a special file (%v)", t)
	}
}

// ReadRegular reads the regular file at path, of at most max bytes. It is
// the one way modup reads a file that someone else may have replaced: it
// never blocks on a named pipe (the open does not wait for a writer and the
// type is checked before reading), refuses devices (/dev/zero) and
// folders, and never reads more than max bytes, even from a file that
// grows meanwhile. A symbolic link at path is followed; ReadRegularIn
// refuses it.
func ReadRegular(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|ONonblock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, path, max, nil)
}

// ReadRegularIn is ReadRegular for the file name in r, which it refuses
// when it is a symbolic link (even to a file inside r).
func ReadRegularIn(r *os.Root, name string, max int64) ([]byte, error) {
	path := filepath.Join(r.Name(), name)
	lfi, err := r.Lstat(name)
	if err != nil {
		return nil, err
	}
	if !lfi.Mode().IsRegular() {
		return nil, notRegular(path, lfi.Mode())
	}
	f, err := r.OpenFile(name, os.O_RDONLY|ONonblock|ONofollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, path, max, lfi)
}

// readOpen reads the open file f; with looked set, f must be that file.
func readOpen(f *os.File, path string, max int64, looked fs.FileInfo) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	if looked != nil && !os.SameFile(looked, st) {
		return nil, fmt.Errorf("%s was replaced while being opened: %w", path, ErrNotRegular)
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d modup reads from it: %w", path, st.Size(), max, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while being read: %w", path, max, ErrTooLarge)
	}
	return data, nil
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%s is %s: %w", path, Kind(m), ErrNotRegular)
}
