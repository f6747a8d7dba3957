//go:build !unix

package fsutil

// ONonblock is 0 where files are not opened through the netpoller dance
// that O_NONBLOCK avoids on Unix.
const ONonblock = 0
