//go:build !unix

package fsutil

// ONonblock is 0 where files are not opened through the netpoller dance
// that O_NONBLOCK avoids on Unix.
const ONonblock = 0

// ONofollow is 0 where open has no such flag; callers look with Lstat
// first.
const ONofollow = 0
