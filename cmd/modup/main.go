// Command modup keeps a2 module packages up to date.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/modup/modup/internal/fsutil"
)

func main() {
	// Read once, before anything runs that creates files meanwhile.
	fsutil.Umask()
	stopProfile := startProfile(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv})
	stop()
	stopProfile()
	os.Exit(code)
}
