//go:build linux

package archive

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

// syncFSUsable reports whether Extract should count on syncFS rather than
// fsync each file as it is written.
func syncFSUsable() bool { return syncFSWorks() }

// syncFS makes everything written to the file system holding root durable
// with one syncfs(2): file data, inodes and folder entries alike. It
// returns errSyncFSUnsupported, having done nothing, where syncfs cannot be
// trusted (kernels before 5.8) or is not allowed (seccomp), so that the
// caller syncs file by file instead.
func syncFS(root *os.Root) error {
	if !syncFSWorks() {
		return errSyncFSUnsupported
	}
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	sc, err := d.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) { serr = unix.Syncfs(int(fd)) }); err != nil {
		return err
	}
	if errors.Is(serr, unix.ENOSYS) || errors.Is(serr, unix.EPERM) {
		return errSyncFSUnsupported
	}
	if serr != nil {
		return &os.SyscallError{Syscall: "syncfs", Err: serr}
	}
	return nil
}
