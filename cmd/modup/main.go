// Command modup keeps a2 module packages up to date.
package main

import (
	"os"

	"github.com/modup/modup/internal/fsutil"
)

func main() {
	// Read once, before anything runs that creates files meanwhile.
	fsutil.Umask()
	stopProfile := startProfile(os.Getenv)
	removeOldExecutable()
	code := runMain(os.Args[1:])
	stopProfile()
	os.Exit(code)
}

// runMain runs modup as a process: the real streams and environment, and
// SIGINT/SIGTERM as cancellation.
func runMain(args []string) int {
	ctx, stop := signalContext()
	defer stop()
	return run(ctx, args, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
}
