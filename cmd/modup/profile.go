package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole run to the file named by
// MODUP_CPUPROFILE, for bench/ (go tool pprof modup FILE). It is a
// developer's switch, not part of the documented interface. The returned
// function stops the profile; call it before exiting.
func startProfile(getenv func(string) string) func() {
	path := getenv("MODUP_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
