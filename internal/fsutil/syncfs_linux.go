//go:build linux

package fsutil

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// syncFSWorks reports whether syncfs(2) reports write-back errors: it does
// from Linux 5.8 on; before, it could return 0 after a failed write, and a
// file must be fsynced by itself to learn of the failure.
var syncFSWorks = sync.OnceValue(func() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	major, minor, ok := kernelVersion(unix.ByteSliceToString(u.Release[:]))
	return ok && (major > 5 || major == 5 && minor >= 8)
})

// kernelVersion parses "6.1.0-18-amd64" into 6, 1.
func kernelVersion(release string) (major, minor int, ok bool) {
	a, b, _ := strings.Cut(release, ".")
	if i := strings.IndexFunc(b, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		b = b[:i]
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

// SyncFSUsable reports whether SyncFS can be counted on here, so that
// writers need not fsync file by file.
func SyncFSUsable() bool { return syncFSWorks() }

// SyncFS makes everything written to the file system holding f durable
// with one syncfs(2): file data, inodes and folder entries alike. It
// returns an error wrapping ErrSyncFSUnsupported, having done nothing,
// where syncfs cannot be trusted (kernels before 5.8) or is not allowed
// (seccomp), so that the caller syncs file by file instead.
func SyncFS(f *os.File) error {
	if !syncFSWorks() {
		return ErrSyncFSUnsupported
	}
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	if errors.Is(serr, unix.ENOSYS) || errors.Is(serr, unix.EPERM) {
		return ErrSyncFSUnsupported
	}
	if serr != nil {
		return &os.SyscallError{Syscall: "syncfs", Err: serr}
	}
	return nil
}
