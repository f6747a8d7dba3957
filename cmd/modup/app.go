package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/config"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/repo"
	"github.com/modup/modup/resolve"
	"github.com/modup/modup/updater"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

func modupVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "0.1.0-dev"
}

// Exit codes.
const (
	exitOK        = 0
	exitFailure   = 1
	exitUsage     = 2
	exitAvailable = 100 // check: at least one update is available
)

// exitError carries an exit code through cobra without printing twice.
type exitError struct {
	code int
	err  error // already reported when nil
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// env is the process's outside world, passed in so tests run the CLI in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// isTerminal, when set, says whether stdin, stdout or stderr (the
	// value given) is a terminal: tests answer prompts and see what a
	// terminal shows through it; nil: ask the file.
	isTerminal func(stream any) bool
}

// app holds what every command shares: global flags and the wiring built
// from them. One app per run; no package globals.
type app struct {
	env
	roots       []string
	allowHTTP   bool
	verbose     bool
	logFormat   string
	lockTimeout time.Duration
	// fetchTimeout and minRate hold slow servers to account (0: off).
	fetchTimeout time.Duration
	minRate      httpx.Rate
	// host is the application that loads the packages, with its version
	// when known (--host, --host-version).
	host resolve.Host

	// cfg is the configuration file (never nil after setup); origins says
	// where each setting's value came from.
	cfg     *config.File
	origins map[string]origin

	// lines reads answers typed on a stdin that is not a real terminal
	// (see readPassword).
	lines *bufio.Reader

	logger *slog.Logger
	// bar draws download progress of the command, when it has one.
	bar *progress
	// multiRoot is set when the command works on several roots: tables
	// then show a ROOT column.
	multiRoot bool
	// rootsMissed is set when a root of several could not be used: the
	// command goes on with the others and ends with exit 1.
	rootsMissed bool
	// untilStopped is set by commands that run until a signal stops them
	// (daemon, serve): for them a signal is the normal end, exit 0.
	untilStopped bool

	// repoMaxAge is how old a repository's copy of its index may be
	// (--repo-max-age); direct (check and update --direct) asks the
	// authors' sources even for packages installed from a repository.
	repoMaxAge time.Duration
	direct     bool
	// repos and repoC are read and made once per run (repoList,
	// repoClient).
	repos *repo.List
	repoC *repo.Client
}

func run(ctx context.Context, args []string, e env) int {
	a := &app{env: e}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitFailure
	var ee *exitError
	switch {
	case err == nil:
		code = exitOK
	case errors.As(err, &ee):
		if ee.err != nil {
			printf(e.stderr, "modup: %v\n", ee.err)
		}
		code = ee.code
	default:
		printf(e.stderr, "modup: %v\n", err)
		if isUsage(err) {
			code = exitUsage
		}
	}
	if code == exitUsage && cmd != nil {
		// Say how the command is used, as a usage error should.
		printf(e.stderr, "Usage: %s\nRun '%s --help' for more.\n", cmd.UseLine(), cmd.CommandPath())
	}
	if a.rootsMissed && (code == exitOK || code == exitAvailable) {
		code = exitFailure // a root of several could not be used
	}
	return a.signalExit(ctx, code)
}

func isUsage(err error) bool {
	msg := err.Error()
	for _, s := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func (a *app) rootCmd() *cobra.Command {
	c := &cobra.Command{
		Use:           "modup",
		Short:         "Keep a2 module packages up to date",
		Long:          "modup checks a2 module packages against their update_url and installs new releases crash-safely, keeping backups.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup(cmd)
		},
	}
	pf := c.PersistentFlags()
	pf.StringArrayVar(&a.roots, "root", nil, "a folder of packages (repeatable; default: $MODUP_ROOTS)")
	pf.BoolVar(&a.allowHTTP, "allow-http", false, "allow plain http:// update_urls beyond loopback")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log every request and decision")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	c.RegisterFlagCompletionFunc("log-format", completeChoices("text", "json"))
	pf.DurationVar(&a.lockTimeout, "lock-timeout", 30*time.Second, "how long to wait for another modup working on the same package")
	pf.DurationVar(&a.fetchTimeout, "fetch-timeout", httpx.DefaultFetchTimeout, "longest a manifest or API request may take, retries included (0: no limit)")
	a.minRate = httpx.DefaultMinRate
	pf.Var(&a.minRate, "min-rate", "lowest average download rate over a minute, e.g. 1KiB, 512B, 2MiB (0: no limit)")
	a.host.Name = resolve.DefaultHost
	pf.Var(hostFlag{&a.host}, "host", "the application that loads the packages (requires.<host> in manifests)")
	pf.Var(hostVersionFlag{&a.host}, "host-version", "the host's version, e.g. 0.5.7 (unset: host requirements are reported, not enforced)")
	pf.DurationVar(&a.repoMaxAge, "repo-max-age", repo.DefaultMaxAge, "how old a repository's copy of its index may be before it is asked again (0: every time)")
	// --version and -V print the version (cobra's own flag would take -v,
	// which is --verbose here).
	c.Version = modupVersion()
	c.SetVersionTemplate(versionLine() + "\n")
	c.Flags().BoolP("version", "V", false, "print modup's version")
	c.SetHelpCommand(a.helpCmd(c))
	c.AddCommand(a.versionCmd(), a.listCmd(), a.checkCmd(), a.infoCmd(),
		a.installCmd(), a.updateCmd(), a.backupsCmd(), a.rollbackCmd(), a.removeCmd(),
		a.holdCmd(), a.unholdCmd(), a.disableCmd(), a.enableCmd(), a.verifyCmd(), a.doctorCmd(), a.lockCmd(), a.restoreCmd(),
		a.daemonCmd(), a.statusCmd(), a.historyCmd(), a.apiTokenCmd(), a.uiCmd(),
		a.packCmd(), a.serveCmd(), a.releaseCmd(), a.configCmd(), a.selfUpdateCmd(), a.keyCmd(), a.trustCmd(),
		a.indexCmd(), a.repoCmd(), a.searchCmd())
	return c
}

// setup reads the configuration file and settles every flag the user did
// not set (flag, then environment, then file, then default) before the
// command runs. `config path` runs even when the file is broken: it tells
// the user where to fix it.
func (a *app) setup(cmd *cobra.Command) error {
	if err := a.loadConfig(); err != nil && cmd.CommandPath() != "modup config path" {
		return &exitError{code: exitUsage, err: fmt.Errorf("%w\n(fix the configuration file, or point MODUP_CONFIG at another one)", err)}
	}
	if err := a.applySettings(cmd); err != nil {
		return err
	}
	level := slog.LevelWarn
	if a.verbose {
		level = slog.LevelDebug
	}
	if a.logFormat != "text" && a.logFormat != "json" {
		return &exitError{code: exitUsage, err: fmt.Errorf("--log-format %q: want text or json", a.logFormat)}
	}
	if a.fetchTimeout < 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("--fetch-timeout %s: want a duration such as 60s, or 0 for no limit", a.fetchTimeout)}
	}
	if a.repoMaxAge < 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("--repo-max-age %s: want a duration such as 1h, or 0 to ask every time", a.repoMaxAge)}
	}
	a.logger = a.newLogger(level)
	return nil
}

func (a *app) newLogger(level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if a.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(a.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(a.stderr, opts))
}

// infoLogger is the logger of long-running commands, whose log is their
// output: info level, debug with -v.
func (a *app) infoLogger() *slog.Logger {
	if a.verbose {
		return a.logger
	}
	return a.newLogger(slog.LevelInfo)
}

// rootDirs resolves the roots from --root, else MODUP_ROOTS, else the
// configuration file.
func (a *app) rootDirs() ([]string, error) {
	roots, err := a.rootList()
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	a.multiRoot = len(roots) > 1
	return roots, nil
}

// usableRoots keeps the roots that are folders. With one root, one that
// is not is the command's error; with several, each such root is a
// warning, the others are processed, and the command ends with exit 1.
func (a *app) usableRoots(roots []string) ([]string, error) {
	var ok []string
	for _, root := range roots {
		err := pkgdir.CheckRoot(root)
		switch {
		case err == nil:
			ok = append(ok, root)
		case len(roots) == 1:
			return nil, &exitError{code: exitFailure, err: err}
		default:
			printf(a.stderr, "modup: warning: %v; going on with the other roots\n", err)
			a.rootsMissed = true
		}
	}
	return ok, nil
}

func (a *app) rootList() ([]string, error) {
	var file []string
	if a.cfg != nil {
		file = a.cfg.Roots
	}
	return pkgdir.Roots(a.roots, a.getenv("MODUP_ROOTS"), file)
}

// scan recovers interrupted changes in every root, then lists the packages.
func (a *app) scan(ctx context.Context) ([]pkgdir.Package, error) {
	roots, err := a.rootDirs()
	if err != nil {
		return nil, err
	}
	if roots, err = a.usableRoots(roots); err != nil {
		return nil, err
	}
	// The scan caches are read while the roots are recovered.
	caches := pkgdir.LoadScanCaches(roots)
	for _, root := range roots {
		recs, err := pkgdir.Layout{Root: root}.Recover(ctx)
		for _, r := range recs {
			switch r.Action {
			case pkgdir.ActionSwept:
				a.logger.Debug("recovered", "package", r.Package, "action", r.Action, "detail", r.Detail)
			case pkgdir.ActionSetAside:
				printf(a.stderr, "modup: warning: %s: %s\n", r.Package, r.Detail)
			default:
				printf(a.stderr, "modup: recovered %s: %s (%s)\n", r.Package, r.Action, r.Detail)
			}
		}
		if errors.Is(err, pkgdir.ErrUnsafeLayout) {
			// modup refuses to work in a root whose own folder holds a
			// link (or a file, a named pipe) where a folder of its belongs.
			return nil, &exitError{code: exitFailure, err: err}
		}
		if err != nil {
			printf(a.stderr, "modup: recovery in %s: %v\n", root, err)
		}
	}
	return caches.Scan(roots)
}

func (a *app) updater() *updater.Updater {
	roots, _ := a.rootList() // the installed set requirements are judged against; none when unset
	u := &updater.Updater{
		Sources:     a.sources(a.logger),
		Logger:      a.logger,
		LockTimeout: a.lockTimeout,
		Actor:       "cli",
		Host:        a.host,
		Platform:    resolve.Platform{OS: runtime.GOOS, Arch: runtime.GOARCH},
		Roots:       roots,
	}
	// Packages installed from a repository are checked through its index
	// (unless --direct); the router says on stderr when one falls back.
	if rt := a.router(a.warnLine); rt != nil {
		u.Sources.Router = rt
	}
	return u
}

// sources wires the update sources as the config file and the environment
// say (the updater's, and the index crawler's), logging to logger.
func (a *app) sources(logger *slog.Logger) *updater.Sources {
	var hosts []updater.GitHubHost
	for _, h := range a.cfg.GitHub {
		hosts = append(hosts, updater.GitHubHost{Web: h.Web, API: h.API, Raw: h.Raw, TokenEnv: h.TokenEnv})
	}
	var gitlabHosts []updater.GitLabHost
	for _, h := range a.cfg.GitLab {
		gitlabHosts = append(gitlabHosts, updater.GitLabHost{Web: h.Web, API: h.API, TokenEnv: h.TokenEnv})
	}
	return updater.NewSources(updater.Config{
		Getenv:       a.getenv,
		AllowHTTP:    a.allowHTTP,
		UserAgent:    "modup/" + modupVersion(),
		Logger:       logger,
		GitHubHosts:  hosts,
		GitLabHosts:  gitlabHosts,
		FetchTimeout: offIfZero(a.fetchTimeout),
		MinRate:      offIfZero(a.minRate),
	})
}

// offIfZero maps a limit flag's 0 ("no limit") to the negative value
// that turns the limit off in updater.Config, whose 0 means the default.
func offIfZero[T ~int64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

// scanNamed scans the roots (see scan) and keeps the packages named, in
// the order named; all of them when none is.
func (a *app) scanNamed(ctx context.Context, names []string) ([]pkgdir.Package, error) {
	pkgs, err := a.scan(ctx)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return pkgs, nil
	}
	var out []pkgdir.Package
	for _, n := range names {
		p, err := pkgdir.Find(pkgs, n)
		if err != nil {
			return nil, a.notFound(n, &exitError{code: exitFailure, err: err})
		}
		out = append(out, p)
	}
	return out, nil
}

// findOne scans the roots (see scan) and finds the package called name.
// A disabled one is named as such.
func (a *app) findOne(ctx context.Context, name string) (pkgdir.Package, error) {
	pkgs, err := a.scanNamed(ctx, []string{name})
	if err != nil {
		return pkgdir.Package{}, err
	}
	return pkgs[0], nil
}

// notFound words err, the failure to find package name: a disabled
// package is named as such.
func (a *app) notFound(name string, err error) error {
	if !errors.Is(err, pkgdir.ErrNoPackage) {
		return err
	}
	if roots, rerr := a.rootDirs(); rerr == nil {
		if off, _ := pkgdir.DisabledIn(roots); len(off) > 0 {
			if p, ferr := pkgdir.Find(off, name); ferr == nil {
				return &exitError{code: exitFailure, err: fmt.Errorf("%s is disabled (%s): `modup enable %s` brings it back: %w", name, p.Dir, name, pkgdir.ErrDisabled)}
			}
		}
	}
	return err
}
