//go:build unix

package fsutil

import "syscall"

// ONonblock, or'ed into the flags of os.OpenFile for a regular file that is
// read or written straight through, saves four system calls per open: Go
// puts a file opened without O_NONBLOCK into non-blocking mode to try the
// netpoller, which refuses regular files, and then puts it back (two fcntl
// calls each way). Regular files ignore O_NONBLOCK; a FIFO opened with it
// does not block the open waiting for a writer, so a caller that checks the
// file's type after opening never hangs.
const ONonblock = syscall.O_NONBLOCK

// ONofollow, or'ed into the flags of os.OpenFile, makes the open fail
// (ELOOP) when the last element of the path is a symbolic link.
const ONofollow = syscall.O_NOFOLLOW
