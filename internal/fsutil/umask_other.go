//go:build !unix

package fsutil

import "io/fs"

// readUmask: modes do not apply on Windows.
func readUmask() fs.FileMode { return 0 }
