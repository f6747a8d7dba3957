package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/release"
	"github.com/modup/modup/sources"
)

// serveShutdown bounds how long serve waits for requests in flight when
// it is told to stop.
const serveShutdown = 5 * time.Second

func (a *app) serveCmd() *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve [DIR] [--addr 127.0.0.1:8080]",
		Short: "Serve a release folder over HTTP, to try an update before publishing it",
		Long: `serve makes a release folder (what modup pack writes) an update_url:
http://ADDR/a2modsource.json and http://ADDR/<version>.zip, with ETag,
Last-Modified and Range support. Only the files directly in DIR are served;
sub-folders and dotfiles are not. Each request is logged to stderr.

Point a test root at it with modup install http://ADDR, pack a new version
into the same folder, and modup update takes it: the whole update path, on
loopback, before anything is published. --addr 127.0.0.1:0 picks a free
port. Ctrl-C stops the server.`,
		Example: `  modup serve ./hello-release
  modup serve ./hello-release --addr 127.0.0.1:0`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			return a.serve(cmd.Context(), dir, addr)
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (port 0 picks a free one)")
	return c
}

func (a *app) serve(ctx context.Context, dir, addr string) error {
	a.untilStopped = true
	abs, err := filepath.Abs(dir)
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return &exitError{code: exitFailure, err: fmt.Errorf("serve %s: not a folder", dir)}
	}
	a.warnNotRelease(abs)
	h, err := release.NewHandler(abs, a.requestLogger())
	if err != nil {
		return &exitError{code: exitFailure, err: err}
	}
	defer h.Close()

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		if addrInUse(err) {
			return &exitError{code: exitFailure, err: fmt.Errorf("serve: %s is in use (another modup serve?): pass --addr 127.0.0.1:0 to pick a free port", addr)}
		}
		return &exitError{code: exitFailure, err: fmt.Errorf("serve: %w", err)}
	}
	url := "http://" + displayAddr(ln.Addr())
	printf(a.stdout, "serving %s\n", abs)
	printf(a.stdout, "update_url: %s\n", url)
	printf(a.stdout, "try it:     modup install %s --root ./try\n", url)
	printf(a.stdout, "            modup release check %s\n", url)
	if tcp, ok := ln.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		printf(a.stdout, "other machines: use this machine's address, with --allow-http (plain http beyond loopback)\n")
	}
	printf(a.stdout, "press Ctrl-C to stop\n")

	if err := a.serveUntil(ctx, ln, h, a.logger, "serve"); err != nil {
		return err
	}
	printf(a.stdout, "stopped\n")
	return nil
}

// serveUntil serves h on ln until ctx ends, then stops: requests in flight
// get serveShutdown to finish. what names the command in errors.
func (a *app) serveUntil(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, what string) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	select {
	case err := <-done:
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: %w", what, err)}
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), serveShutdown)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = srv.Close()
	}
	if serr := <-done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return &exitError{code: exitFailure, err: fmt.Errorf("%s: stop: %w", what, err)}
	}
	return nil
}

// warnNotRelease says when dir is not what modup pack writes: a manifest
// next to the zip of the version it names.
func (a *app) warnNotRelease(dir string) {
	m, err := pkgdir.ReadManifest(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		printf(a.stderr, "modup: warning: %s holds no %s; is it a release folder? (modup pack writes one)\n", dir, sources.ManifestFile)
	case err != nil:
		printf(a.stderr, "modup: warning: %v\n", err)
	case m.Version != "":
		if _, err := os.Stat(filepath.Join(dir, sources.ZipName(m.Version))); err != nil {
			printf(a.stderr, "modup: warning: %s names version %s but %s is not there: updates will find nothing to download (modup pack writes both)\n",
				sources.ManifestFile, m.Version, sources.ZipName(m.Version))
		}
	}
}

// requestLogger logs serve's requests at info level, whatever -v says, in
// the chosen --log-format.
func (a *app) requestLogger() *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if a.verbose {
		opts.Level = slog.LevelDebug
	}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// displayAddr is the address clients on this machine use: an unspecified
// listen address (0.0.0.0, ::) is reached through loopback.
func displayAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := tcp.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(tcp.Port))
}
