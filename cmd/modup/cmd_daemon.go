package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/repo"
	"github.com/modup/modup/updater"
)

func (a *app) daemonCmd() *cobra.Command {
	var (
		interval    time.Duration
		policy      string
		concurrency int
		onUpdate    string
		hookTimeout time.Duration
		maxSize     int64
		keep        int
		svc         serviceFlags
	)
	c := &cobra.Command{
		Use:   "daemon",
		Short: "Keep every package current in the background",
		Long: `daemon checks each package once per --interval (with about ±10% jitter; at
start, a handful of due packages are checked at once and more are spread
over up to a minute), and gets a new
package folder, or a changed a2modsource.json, checked within seconds.
With --policy auto (the default) it installs updates through the same code
path as modup update; with notify it only records and logs them.

It logs one line per check and per install. The schedule and the last
results persist in <root>/.modup/state/, so a restart does not re-check
everything; modup status shows them. SIGINT/SIGTERM stop it (an install in
flight finishes or rolls back first); SIGHUP rescans the roots.

With --listen (or daemon.listen) it also serves an HTTP API, an event
stream, Prometheus metrics and a web page (modup ui opens it). Every API
request needs the token of modup api-token; a listen address beyond
loopback needs --listen-any. --webhook URL (or [[daemon.webhook]] tables)
POSTs update-available, installed, failed and rolled-back events.`,
		Example: `  modup daemon --root ~/a2/modules
  modup daemon --interval 1h --policy notify --log-format json
  modup daemon --on-update 'echo "$MODUP_PACKAGE $MODUP_FROM -> $MODUP_TO"'
  modup daemon --listen 127.0.0.1:7391
  modup daemon --listen 127.0.0.1:7391 --webhook https://hooks.example.com/modup`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case interval <= 0:
				return &exitError{code: exitUsage, err: fmt.Errorf("--interval %s: want a positive duration such as 6h", interval)}
			case concurrency < 1:
				return &exitError{code: exitUsage, err: fmt.Errorf("--concurrency %d: want 1 or more", concurrency)}
			case hookTimeout <= 0:
				return &exitError{code: exitUsage, err: fmt.Errorf("--hook-timeout %s: want a positive duration such as 5m", hookTimeout)}
			}
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			// The daemon's log is its output: info level unless told otherwise.
			logger := a.infoLogger()
			svc.logger = logger
			if err := a.prepareService(&svc); err != nil {
				return err
			}
			defer svc.close()
			u := a.updater()
			u.MaxSize = maxSize
			u.KeepBackups = keepBackups(keep)
			u.Logger = logger
			u.Actor = "daemon"
			if rt, ok := u.Sources.Router.(*repo.Router); ok {
				rt.Warn = func(msg string) { logger.Warn("repository", "detail", msg) }
				rt.Client.Logger = logger
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			rescan := make(chan struct{}, 1)
			go func() {
				for range hup {
					select {
					case rescan <- struct{}{}:
					default:
					}
				}
			}()
			d, err := daemon.New(daemon.Options{
				Roots: roots, Interval: interval, Policy: daemon.Policy(policy), Concurrency: concurrency,
				OnUpdate: onUpdate, HookTimeout: hookTimeout, Updater: u, Logger: logger, Rescan: rescan,
				Observers: svc.observers(), Version: modupVersion(),
			})
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			a.untilStopped = true
			return svc.run(cmd.Context(), d)
		},
	}
	svc.register(c)
	f := c.Flags()
	f.DurationVar(&interval, "interval", 6*time.Hour, "how often each package is checked")
	f.StringVar(&policy, "policy", "auto", "auto: install updates; notify: only record and log them")
	c.RegisterFlagCompletionFunc("policy", completeChoices("auto", "notify"))
	f.IntVar(&concurrency, "concurrency", 4, "checks or installs running at once")
	f.StringVar(&onUpdate, "on-update", "", "shell command run after each install (MODUP_PACKAGE, MODUP_FROM, MODUP_TO, MODUP_PATH set)")
	f.DurationVar(&hookTimeout, "hook-timeout", 5*time.Minute, "how long --on-update may run before it is killed with its children")
	f.Var(newSizeFlag(&maxSize, updater.DefaultMaxSize), "max-size", "largest download accepted (512MiB, 1GB, ...)")
	f.Var(newKeepFlag(&keep), "keep-backups", "backups kept per package (0 keeps none)")
	return c
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Show what the daemon last saw of every package",
		Long: `status prints, for every package, the daemon's last check, its result, the
available version, the last error and the next check. It reads the state the
daemon keeps in <root>/.modup/state/, so it works while the daemon runs and
after it stopped. Packages never checked show "-". --json adds the source,
the news of the available version and the versions kept as backups.`,
		Example: `  modup status
  modup status --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			if roots, err = a.usableRoots(roots); err != nil {
				return err
			}
			for _, root := range roots {
				a.pruneStates(root)
			}
			entries, err := daemon.Statuses(roots, "")
			if err != nil {
				return err
			}
			return showRows(a, asJSON, entries, rowsView[daemon.PackageStatus]{
				key:    "packages",
				header: []string{"NAME", "INSTALLED", "AVAILABLE", "STATUS", "LAST CHECK", "NEXT CHECK"},
				cells: func(e daemon.PackageStatus) []string {
					return []string{e.Name, e.Installed, e.Available, string(e.Status), when(e.LastCheck), when(e.NextCheck)}
				},
				statusCol: 4,
				root:      func(e daemon.PackageStatus) string { return filepath.Dir(e.Path) },
				notes: func(e daemon.PackageStatus) {
					if e.Error != "" {
						printf(a.stdout, "%s: %s\n", e.Name, updater.Detail(e.Name, e.Error))
					}
					if u := e.Update; u != nil && u.Error != "" {
						printf(a.stdout, "%s: last install (%s) failed: %s\n", e.Name, when(&u.At), updater.Detail(e.Name, u.Error))
					}
					if u := e.Update; u != nil {
						for _, w := range u.Warnings {
							printf(a.stdout, "%s: warning from the install of %s (%s): %s\n", e.Name, u.To, when(&u.At), w)
						}
					}
				},
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// pruneStates drops the state of root's packages gone past their next
// check: nobody's, since the daemon would have checked them again by now.
func (a *app) pruneStates(root string) {
	if _, err := os.Stat(root); err != nil {
		return // Statuses reports it
	}
	if err := (pkgdir.Layout{Root: root}).Check(); err != nil {
		return // Statuses reports it
	}
	states, err := daemon.ReadStates(root)
	if err != nil {
		return
	}
	now := time.Now()
	if _, err := daemon.PruneStates(root, states, func(st daemon.State) bool {
		return daemon.Forgotten(st, now, max(st.NextCheck.Sub(st.LastCheck), 0))
	}); err != nil {
		a.logger.Warn("prune state", "root", root, "error", err.Error())
	}
}

func when(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}
