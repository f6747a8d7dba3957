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
	f, err := OpenRegularIn(r, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readOpen(f, filepath.Join(r.Name(), name), max, nil)
}

// OpenRegularIn opens the regular file name in r for reading, as
// ReadRegularIn does before it reads: a symbolic link, named pipe, device
// or folder there is an error wrapping ErrNotRegular, never followed or
// waited on. For files read as a stream (the caller bounds how much). A
// file replaced by a rename between the look at it and its open (a
// writer's atomic replace) is opened again: the new one is read whole.
func OpenRegularIn(r *os.Root, name string) (*os.File, error) {
	for attempt := 1; ; attempt++ {
		f, err := openCheckedIn(r, name)
		if errors.Is(err, errReplaced) && attempt < replacedAttempts {
			continue
		}
		return f, err
	}
}

// replacedAttempts is how many times a file replaced between its look and
// its open is looked at again: a file that modup (or the daemon) replaces
// atomically is read whole on the next attempt; one swapped all the time
// is an error.
const replacedAttempts = 3

// testHookLooked, when set (tests), runs between the look at a file and
// its open.
var testHookLooked func(name string)

// errReplaced: the file at a path was replaced between the look at it
// and its open.
var errReplaced = errors.New("replaced while being opened")

// openCheckedIn opens name in r once: the file looked at, and regular.
func openCheckedIn(r *os.Root, name string) (*os.File, error) {
	f, lfi, err := openRegularIn(r, name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	if err := checkOpen(f, filepath.Join(r.Name(), name), lfi); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// AppendRegularIn opens name in r for appending (O_APPEND, and reading),
// creating it with perm (before the umask) when it is missing. Whatever
// is there must be a regular file: a link, named pipe, device or folder is
// an error wrapping ErrNotRegular. Every Write goes to the end of the file
// as one piece, so lines written whole by several processes never
// interleave.
func AppendRegularIn(r *os.Root, name string, perm fs.FileMode) (*os.File, error) {
	path := filepath.Join(r.Name(), name)
	lfi, err := r.Lstat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		lfi = nil
	case err != nil:
		return nil, err
	case !lfi.Mode().IsRegular():
		return nil, notRegular(path, lfi.Mode())
	}
	f, err := r.OpenFile(name, os.O_RDWR|os.O_APPEND|os.O_CREATE|ONonblock|ONofollow, perm)
	if err != nil {
		return nil, err
	}
	if err := checkOpen(f, path, lfi); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// openRegularIn looks at name in r without following a link and opens it
// with flag when it is a regular file, returning what it looked at.
func openRegularIn(r *os.Root, name string, flag int) (*os.File, fs.FileInfo, error) {
	lfi, err := r.Lstat(name)
	if err != nil {
		return nil, nil, err
	}
	if !lfi.Mode().IsRegular() {
		return nil, nil, notRegular(filepath.Join(r.Name(), name), lfi.Mode())
	}
	if testHookLooked != nil {
		testHookLooked(name)
	}
	f, err := r.OpenFile(name, flag|ONonblock|ONofollow, 0)
	if err != nil {
		return nil, nil, err
	}
	return f, lfi, nil
}

// checkOpen makes sure the open file f is a regular file and, with looked
// set, the file that was looked at.
func checkOpen(f *os.File, path string, looked fs.FileInfo) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return notRegular(path, st.Mode())
	}
	if looked != nil && !os.SameFile(looked, st) {
		return fmt.Errorf("%s was %w: %w", path, errReplaced, ErrNotRegular)
	}
	return nil
}

// readOpen reads the open file f; with looked set, f must be that file.
func readOpen(f *os.File, path string, max int64, looked fs.FileInfo) ([]byte, error) {
	if err := checkOpen(f, path, looked); err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d modup reads from it: %w", path, st.Size(), max, ErrTooLarge)
	}
	// Sized from the file's size (one allocation for a file of a few MB:
	// bytes.Buffer would double it to leave room for a last read), still
	// bounded by max should the file grow meanwhile.
	data := make([]byte, 0, min(st.Size(), max)+1)
	r := io.LimitReader(f, max+1)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)] // it grew: more room
		}
		n, err := r.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s grew past %d bytes while being read: %w", path, max, ErrTooLarge)
	}
	return data, nil
}

func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%s is %s: %w", path, Kind(m), ErrNotRegular)
}
