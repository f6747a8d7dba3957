//go:build windows

package selfupdate

// replace puts newExe in exe's place: Windows does not let a running
// executable be replaced or deleted, but lets it be renamed aside.
func replace(newExe, exe string) error { return replaceAside(newExe, exe) }

// RemoveOld removes exe.old, which the update before this start moved
// aside while it was running.
func RemoveOld(exe string) error { return removeAside(exe) }
