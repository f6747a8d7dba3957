package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// signalCause is why a command's context was cancelled: a signal.
type signalCause struct{ sig os.Signal }

func (s *signalCause) Error() string { return "stopped by " + s.sig.String() }

// exitCode is the shell's convention for a process ended by a signal:
// 128 + its number (130 for SIGINT, 143 for SIGTERM).
func (s *signalCause) exitCode() int {
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitFailure
}

// signalContext is cancelled by the first SIGINT or SIGTERM, with the
// signal as its cause. After that first one the signals have their default
// effect again: a second Ctrl-C ends a process whose clean-up hangs.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			cancel(&signalCause{sig: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		cancel(nil)
	}
}

// stoppedBy returns the signal that cancelled ctx, if one did.
func stoppedBy(ctx context.Context) (*signalCause, bool) {
	var sc *signalCause
	if ctx.Err() == nil || !errors.As(context.Cause(ctx), &sc) {
		return nil, false
	}
	return sc, true
}

// signalExit settles the exit status of a command that a signal stopped:
// 130 or 143 after its clean-up, unless the command runs until it is
// stopped (daemon, serve), for which a signal is the normal end.
func (a *app) signalExit(ctx context.Context, code int) int {
	sc, ok := stoppedBy(ctx)
	if !ok || a.untilStopped {
		return code
	}
	if code == exitOK || code == exitFailure {
		fmt.Fprintf(a.stderr, "modup: %v\n", sc)
	}
	return sc.exitCode()
}
