//go:build linux || darwin

package pkgdir

import (
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// readDirIn lists the folder name in r; the entries' types are their own
// (a link is a link).
//
// A folder opened through an os.Root lists its entries with one lstat
// each (Go cannot load their FileInfo lazily by path there): 10,000 of
// them for installed/ on every command. The folder is opened in r, and
// its entries are read through a second descriptor of it, not opened in
// a Root: their types come from the folder's own listing (d_type; an
// fstatat relative to the open folder where the file system gives none),
// and Info is an Lstat in r, asked only by the callers that need it.
func readDirIn(r *os.Root, name string) ([]fs.DirEntry, error) {
	d, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fd, err := dupCloexec(int(d.Fd()))
	if err != nil {
		return d.ReadDir(-1)
	}
	f := os.NewFile(uintptr(fd), d.Name())
	defer f.Close()
	ents, err := f.ReadDir(-1)
	for i, e := range ents {
		ents[i] = rootDirEntry{DirEntry: e, r: r, dir: name}
	}
	return ents, err
}

// rootDirEntry is an entry of a folder of a Root whose Info is read in
// the Root (never by the entry's path from the outside).
type rootDirEntry struct {
	fs.DirEntry
	r   *os.Root
	dir string // the folder listed, in r
}

func (e rootDirEntry) Info() (fs.FileInfo, error) { return e.r.Lstat(e.dir + "/" + e.Name()) }

func (e rootDirEntry) String() string { return fs.FormatDirEntry(e) }

func dupCloexec(fd int) (int, error) {
	for {
		n, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != unix.EINTR {
			return n, err
		}
	}
}
