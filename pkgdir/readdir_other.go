//go:build !linux && !darwin

package pkgdir

import (
	"io/fs"
	"os"
)

// readDirIn lists the folder name in r; the entries' types are their own
// (a link is a link).
func readDirIn(r *os.Root, name string) ([]fs.DirEntry, error) {
	d, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadDir(-1)
}
