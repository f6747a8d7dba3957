//go:build !linux && !darwin

package pkgdir

// openDirStat stats by path where Go's file information has no inode or
// change time (Windows): the size and modification time key the cache.
func openDirStat(root string) statter { return pathStat{root: root} }
