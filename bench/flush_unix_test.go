//go:build unix

package bench

import "syscall"

// flushAll writes back every dirty page, so that a timed run does not pay
// for the set-up's writes.
func flushAll() { syscall.Sync() }
