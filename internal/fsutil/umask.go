package fsutil

import (
	"io/fs"
	"sync"
)

// umask is read once: the value does not change while modup runs.
var umask = sync.OnceValue(readUmask)

// Umask is the process's file mode creation mask (zero on Windows, where
// modes do not apply). It is read once; main reads it before anything else
// runs, so that reading it (on systems without /proc/self/status, by
// setting it and setting it back) races with no file being created.
func Umask() fs.FileMode { return umask() }

// Perm is the mode a new file or folder created with perm gets: the
// permission bits of perm less the umask, as mkdir(1), unzip and tar give
// them; never setuid, setgid or sticky.
func Perm(perm fs.FileMode) fs.FileMode { return perm & fs.ModePerm &^ Umask() }
