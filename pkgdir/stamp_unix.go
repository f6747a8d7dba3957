//go:build linux || darwin

package pkgdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// dirStat stats the packages of a root relative to the root's open
// folder: one fstatat each, without walking the root's path again (a scan
// of 10,000 packages makes 20,000 of them).
type dirStat struct {
	root string
	dir  *os.File
}

func openDirStat(root string) statter {
	d, err := os.Open(root)
	if err != nil {
		return pathStat{root: root}
	}
	return &dirStat{root: root, dir: d}
}

func (s *dirStat) manifest(name string) (stamp, error) {
	return fstatat(s.dir, s.root, name+"/"+ManifestFile, 0)
}

// fstatat stamps the file rel in the open folder dir, whose path is base
// (for errors); flags 0 follows a link, unix.AT_SYMLINK_NOFOLLOW does not.
func fstatat(dir *os.File, base, rel string, flags int) (stamp, error) {
	var st unix.Stat_t
	err := ignoringEINTR(func() error { return unix.Fstatat(int(dir.Fd()), rel, &st, flags) })
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return stamp{}, fs.ErrNotExist
		}
		return stamp{}, &fs.PathError{Op: "stat", Path: filepath.Join(base, filepath.FromSlash(rel)), Err: err}
	}
	out := stamp{size: st.Size, mtime: unixNano(st.Mtim), ctime: unixNano(st.Ctim), ino: uint64(st.Ino), dev: uint64(st.Dev)}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		out.size = -1 // never matches what a regular file was cached as
	}
	return out, nil
}

// recordStamp stamps the install record file in installed/ (open as dir,
// and as r), never following a link.
func recordStamp(dir *os.File, _ *os.Root, file string) (stamp, error) {
	return fstatat(dir, dir.Name(), file, unix.AT_SYMLINK_NOFOLLOW)
}

// dirStamp stamps the open folder d: its modification and change times
// move whenever an entry is added, removed or renamed in it, and its
// inode when the folder itself is replaced.
func dirStamp(d *os.File) (stamp, bool) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Fstat(int(d.Fd()), &st) }); err != nil {
		return stamp{}, false
	}
	return stamp{size: st.Size, mtime: unixNano(st.Mtim), ctime: unixNano(st.Ctim), ino: uint64(st.Ino), dev: uint64(st.Dev)}, true
}

func (s *dirStat) rootStamp() (stamp, bool) { return dirStamp(s.dir) }

func (s *dirStat) dev(name string) bool {
	var st unix.Stat_t
	return ignoringEINTR(func() error {
		return unix.Fstatat(int(s.dir.Fd()), name+"/.git", &st, unix.AT_SYMLINK_NOFOLLOW)
	}) == nil
}

func (s *dirStat) close() { s.dir.Close() }

func unixNano(t unix.Timespec) int64 { return t.Sec*1e9 + t.Nsec }

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
