//go:build !linux && !darwin

package pkgdir

import "os"

// openDirStat stats by path where Go's file information has no inode or
// change time (Windows): the size and modification time key the cache.
func openDirStat(root string) statter { return pathStat{root: root} }

// recordStamp stamps the install record file in installed/ (r), never
// following a link.
func recordStamp(_ *os.File, r *os.Root, file string) (stamp, error) {
	fi, err := r.Lstat(file)
	if err != nil {
		return stamp{}, err
	}
	st := stamp{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if !fi.Mode().IsRegular() {
		st.size = -1
	}
	return st, nil
}

// dirStamp is never usable here: without a change time a folder's
// modification time can be set back, so listings are always read.
func dirStamp(*os.File) (stamp, bool) { return stamp{}, false }
