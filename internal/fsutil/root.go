package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// These work inside an os.Root: a folder opened once, whose files are then
// reached through its descriptor, so that a link put in place of the
// folder (or of one above it) cannot make them write elsewhere.

// WriteFileAtomicIn replaces name in r with data: it writes a temporary
// file (".NAME.tmp-DIGITS") in the same folder, fsyncs it, renames it over
// name and fsyncs the folder, so a crash leaves either the old file or the
// new one. The file gets perm less the umask.
func WriteFileAtomicIn(r *os.Root, name string, data []byte, perm fs.FileMode) error {
	return writeIn(r, name, data, perm, true)
}

// ReplaceFileIn is WriteFileAtomicIn without fsync: readers never see a
// torn file, but a power loss may lose the new content. For caches and
// state that can be rebuilt.
func ReplaceFileIn(r *os.Root, name string, data []byte, perm fs.FileMode) error {
	return writeIn(r, name, data, perm, false)
}

func writeIn(r *os.Root, name string, data []byte, perm fs.FileMode, durable bool) error {
	path := filepath.Join(r.Name(), name)
	f, tmp, err := CreateTempIn(r, "."+filepath.Base(name)+".tmp-", "", 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			r.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if runtime.GOOS != "windows" {
		if err := f.Chmod(Perm(perm)); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if durable {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("write %s: sync: %w", path, err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := r.Rename(tmp, name); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	if durable {
		return SyncRoot(r)
	}
	return nil
}

// IsTempName reports whether name is one CreateTempIn or MkdirTempIn made
// with prefix and suffix: the prefix, one or more digits, the suffix.
func IsTempName(name, prefix, suffix string) bool {
	mid, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return false
	}
	mid, ok = strings.CutSuffix(mid, suffix)
	if !ok || mid == "" {
		return false
	}
	for _, c := range mid {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CreateTempIn creates a new file PREFIX DIGITS SUFFIX in r with perm
// (before the umask), open for reading and writing, and returns it with
// its name in r.
func CreateTempIn(r *os.Root, prefix, suffix string, perm fs.FileMode) (*os.File, string, error) {
	for range 10000 {
		name := prefix + randomDigits() + suffix
		f, err := r.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL|ONonblock, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, name, err
	}
	return nil, "", fmt.Errorf("create a file %s*%s in %s: every name tried exists", prefix, suffix, r.Name())
}

// MkdirTempIn creates a new folder PREFIX DIGITS in r with perm (before the
// umask) and returns its name in r.
func MkdirTempIn(r *os.Root, prefix string, perm fs.FileMode) (string, error) {
	for range 10000 {
		name := prefix + randomDigits()
		err := r.Mkdir(name, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return name, err
	}
	return "", fmt.Errorf("create a folder %s* in %s: every name tried exists", prefix, r.Name())
}

func randomDigits() string { return strconv.FormatUint(uint64(rand.Uint32()), 10) }

// SyncRoot fsyncs the folder r, so that renames inside it are durable. It
// is a no-op where folders cannot be synced (Windows).
func SyncRoot(r *os.Root) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := r.Open(".")
	if err != nil {
		return fmt.Errorf("sync %s: %w", r.Name(), err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", r.Name(), err)
	}
	return nil
}

// RemoveAllIn removes name in r and everything below it, never following a
// link. When that fails (a read-only folder, as some zips carry, refuses
// the removal of what it holds) it makes the folders below name writable,
// walking down without following links, and tries again. Only for trees
// modup made and owns: its trash, downloads and staging folders.
func RemoveAllIn(r *os.Root, name string) error {
	if err := r.RemoveAll(name); err == nil {
		return nil
	}
	MakeWritableIn(r, name)
	if err := r.RemoveAll(name); err != nil {
		return fmt.Errorf("remove %s: %w", filepath.Join(r.Name(), name), err)
	}
	return nil
}

// MakeWritableIn gives the owner read, write and search permission on the
// folder name in r and on every folder below it (on Windows it also clears
// the read-only attribute of files), never following links. Failures are
// left to the removal that follows to report.
func MakeWritableIn(r *os.Root, name string) {
	fi, err := r.Lstat(name)
	if err != nil {
		return
	}
	switch {
	case fi.IsDir():
		if perm := fi.Mode().Perm(); perm&0o700 != 0o700 {
			r.Chmod(name, perm|0o700)
		}
		d, err := r.Open(name)
		if err != nil {
			return
		}
		ents, _ := d.ReadDir(-1)
		d.Close()
		for _, e := range ents {
			// A DirEntry's type is the entry's own (lstat's): a link to a
			// folder is not entered.
			if e.IsDir() || (runtime.GOOS == "windows" && e.Type().IsRegular()) {
				MakeWritableIn(r, filepath.Join(name, e.Name()))
			}
		}
	case fi.Mode().IsRegular() && fi.Mode().Perm()&0o200 == 0:
		r.Chmod(name, fi.Mode().Perm()|0o200)
	}
}
