package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// changeFlags are the flags of commands that change packages.
type changeFlags struct {
	asJSON      bool
	dryRun      bool
	force       bool
	to          string
	maxSize     int64
	keepBackups int
}

func (f *changeFlags) register(c *cobra.Command, withTo bool) {
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "say what would change; download nothing")
	c.Flags().Var(newSizeFlag(&f.maxSize, updater.DefaultMaxSize), "max-size", "largest download accepted (512MiB, 1GB, ...)")
	c.Flags().Var(newKeepFlag(&f.keepBackups), "keep-backups", "backups kept per package (0 keeps none)")
	if withTo {
		c.Flags().StringVar(&f.to, "to", "", "install exactly this version (the only way to go down)")
	}
}

func (a *app) changer(f *changeFlags) *updater.Updater {
	u := a.updater()
	u.MaxSize = f.maxSize
	u.KeepBackups = keepBackups(f.keepBackups)
	if !f.asJSON {
		a.bar = newProgress(a.stderr, a.colour(a.stderr))
		u.Progress = a.bar.report
	}
	return u
}

func (a *app) installCmd() *cobra.Command {
	var f changeFlags
	var withRecommends bool
	c := &cobra.Command{
		Use:   "install NAME[@VERSION] | REPO/NAME | URL ...",
		Short: "Add packages by name from the repositories, or from their update_urls",
		Long: `install NAME installs a package a repository lists: the newest installable
version that fits (NAME@VERSION, or --to VERSION, exactly that one), with
the packages it requires that the repositories list, planned together.
When several repositories list NAME, the error names them and REPO/NAME
picks one. The package keeps its own update_url; the install record notes
the repository, whose index then answers its checks. Zips come from the
repository's mirror when it has them, else from their authors, and are
verified against the index's sha256.

install URL reads each remote manifest and its newest release and installs
it as a new package folder named after the manifest's name (else the
repository or folder name): a2's "add from URL". A folder path starts with
./, ../ or / (a bare NAME that no repository lists is still taken as a
folder when one is there). An existing folder of that name is refused.
With several roots, the first one receives the packages.

What the packages require (requires.packages in their manifests) must be
installed already, among the URLs given, or listed by a repository; what
they replace is removed (into the backups). Several packages are installed
in one transaction: all of them, or none. When the request cannot be met,
nothing changes and modup says why, as a chain of reasons, and what would
work.`,
		Example: `  modup install hello
  modup install hello@1.0.0
  modup install main/hello
  modup install https://github.com/ewerybody/a2.modules --root ~/a2/modules
  modup install http://127.0.0.1:8080 --root ./root
  modup install ./releases/tools ./releases/modules   # tools needs modules: both, in one change`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			if f.to != "" && len(args) != 1 {
				return &exitError{code: exitUsage, err: fmt.Errorf("--to needs exactly one package")}
			}
			if _, err := a.scan(cmd.Context()); errors.Is(err, pkgdir.ErrUnsafeLayout) {
				return err
			} else if err != nil {
				a.logger.Debug("scan before install", "error", err)
			}
			opts := updater.SetOptions{To: f.to, DryRun: f.dryRun, WithRecommends: withRecommends}
			named, err := a.namedArgs(cmd.Context(), args, &f)
			if err != nil {
				return err
			}
			if len(named) == 0 {
				return a.reportChanges(&f, a.changer(&f).InstallSet(cmd.Context(), roots[0], args, opts))
			}
			return a.reportChanges(&f, a.installNamed(cmd.Context(), roots[0], args, named, opts, &f))
		},
	}
	f.register(c, true)
	c.Flags().BoolVar(&withRecommends, "with-recommends", false, "also install what the packages recommend, when it is offered and fits")
	return c
}

func (a *app) updateCmd() *cobra.Command {
	var f changeFlags
	var all bool
	c := &cobra.Command{
		Use:               "update [NAME...] [--all]",
		ValidArgsFunction: a.completeNames(0),
		Aliases:           []string{"upgrade"},
		Short:             "Install the newest release of packages that have one",
		Long: `update installs the newest release of each named package whose status is
update-available (see modup check), or, when that release needs what is not
here (held-back), the newest older release that fits. Each update downloads
into <root>/.modup/tmp, verifies size and sha256 when declared, extracts
into <root>/.modup/staging, and swaps the new folder in under a journal; the
old folder becomes a backup in <root>/.modup/backups/NAME/VERSION.

The updates are planned together: a release that would break an installed
package is held back, with the reason, unless a newer release of that
package that fits comes along; packages that must change together (one
needs the other's new version, or replaces it) change in one transaction.

--all updates every package and goes on past failures; with names, update
stops at the first failure. --to VERSION installs exactly that version (the
only way to go down). Development checkouts (.git), local packages, held
packages and versions modup cannot compare are never touched. A package
whose files were changed since modup installed it is refused unless --force.

Exit status: 0, or 1 when any package failed.`,
		Example: `  modup update a2.modules
  modup update --all --json
  modup update a2.modules --to 0.7.1
  modup update --all --dry-run`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && !all {
				return &exitError{code: exitUsage, err: fmt.Errorf("name the packages to update, or pass --all")}
			}
			if f.to != "" && len(args) != 1 {
				return &exitError{code: exitUsage, err: fmt.Errorf("--to needs exactly one package name")}
			}
			pkgs, err := a.scan(cmd.Context())
			if err != nil {
				return err
			}
			for _, n := range args {
				if _, err := pkgdir.Find(pkgs, n); err != nil {
					return a.notFound(n, &exitError{code: exitFailure, err: err})
				}
			}
			opts := updater.SetOptions{To: f.to, DryRun: f.dryRun, Force: f.force}
			return a.reportChanges(&f, a.changer(&f).UpdateSet(cmd.Context(), pkgs, args, all, opts))
		},
	}
	f.register(c, true)
	c.Flags().BoolVar(&all, "all", false, "update every package, going on past failures")
	c.Flags().BoolVar(&a.direct, "direct", false, "ask each author's source, also for packages installed from a repository")
	c.Flags().BoolVar(&f.force, "force", false, "replace a package whose files changed since modup installed it")
	return c
}

func (a *app) rollbackCmd() *cobra.Command {
	var f changeFlags
	c := &cobra.Command{
		Use:               "rollback NAME",
		ValidArgsFunction: a.completeBackedUp,
		Short:             "Restore a backup of a package (the replaced version becomes a backup)",
		Example: `  modup rollback a2.modules
  modup rollback a2.modules --to 0.7.1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findOne(cmd.Context(), args[0])
			if errors.Is(err, pkgdir.ErrNoPackage) {
				// A removed package lives on in the backups only.
				p, err = a.findBackedUp(args[0])
			}
			if err != nil {
				return err
			}
			return a.reportChanges(&f, []updater.Change{a.updater().Rollback(cmd.Context(), p, f.to)})
		},
	}
	c.Flags().StringVar(&f.to, "to", "", "the backed-up version to restore (default: the newest backup)")
	c.RegisterFlagCompletionFunc("to", a.completeBackupVersions)
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

func (a *app) removeCmd() *cobra.Command {
	var f changeFlags
	var purge, yes bool
	c := &cobra.Command{
		Use:               "remove NAME",
		ValidArgsFunction: a.completeNames(1),
		Aliases:           []string{"uninstall", "rm"},
		Short:             "Take a package out of its root (into the backups unless --purge)",
		Long: `remove takes a package out of its root: into the backups (rollback brings it
back), or deleted with --purge. A package that other installed packages
require is refused, naming them, unless --force.`,
		Example: `  modup remove ol.modules
  modup remove ol.modules --purge          # asks first
  modup remove ol.modules --purge --yes    # in scripts`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findOne(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if purge && !yes {
				if err := a.confirm(fmt.Sprintf("Delete %s %s (%s) for good? It is not kept as a backup.", p.Name, p.Version(), p.Dir),
					"remove --purge deletes "+p.Name+" for good: pass --yes to confirm, or leave out --purge to keep it as a backup"); err != nil {
					return err
				}
			}
			return a.reportChanges(&f, []updater.Change{a.updater().Remove(cmd.Context(), p, updater.RemoveOptions{Purge: purge, Force: f.force})})
		},
	}
	c.Flags().BoolVar(&f.force, "force", false, "remove a package other installed packages require")
	c.Flags().BoolVar(&purge, "purge", false, "delete the package instead of keeping it as a backup (asks first; --yes does not)")
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before --purge deletes")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

// findBackedUp finds the root holding backups of a package that is no
// longer installed (after `modup remove`).
func (a *app) findBackedUp(name string) (pkgdir.Package, error) {
	roots, err := a.rootDirs()
	if err != nil {
		return pkgdir.Package{}, err
	}
	for _, root := range roots {
		if err := pkgdir.CheckName(name); err != nil {
			return pkgdir.Package{}, &exitError{code: exitFailure, err: err}
		}
		l := pkgdir.Layout{Root: root}
		if bs, err := l.Backups(name); err == nil && len(bs) > 0 {
			return pkgdir.Package{Name: name, Root: root, Dir: filepath.Join(root, name)}, nil
		}
	}
	return pkgdir.Package{}, &exitError{code: exitFailure, err: fmt.Errorf("%s: %w, and no backups of it (modup backups lists them)", name, pkgdir.ErrNoPackage)}
}

// backupEntry is `backups --json`'s shape.
type backupEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Path    string `json:"path"`
	Time    string `json:"time"`
	Root    string `json:"root"`
}

func (a *app) backupsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "backups [NAME]",
		ValidArgsFunction: a.completeNames(1),
		Short:             "List the kept earlier versions (in <root>/.modup/backups/NAME/VERSION)",
		Example: `  modup backups
  modup backups a2.modules --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			if _, err := a.scan(cmd.Context()); err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			if roots, err = a.usableRoots(roots); err != nil {
				return err
			}
			var entries []backupEntry
			for _, root := range roots {
				bs, err := pkgdir.Layout{Root: root}.Backups(name)
				if err != nil {
					return err
				}
				for _, b := range bs {
					entries = append(entries, backupEntry{Name: b.Name, Version: b.Version, Path: b.Dir, Time: b.Time.Local().Format("2006-01-02 15:04:05"), Root: root})
				}
			}
			if entries == nil {
				entries = []backupEntry{} // JSON: [], not null
			}
			return showRows(a, asJSON, entries, rowsView[backupEntry]{
				key:    "backups",
				none:   "no backups",
				header: []string{"NAME", "VERSION", "SAVED", "PATH"},
				cells: func(e backupEntry) []string {
					return []string{e.Name, e.Version, e.Time, e.Path}
				},
				root: func(e backupEntry) string { return e.Root },
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// reportChanges prints what changed and turns failures into exit status 1.
func (a *app) reportChanges(f *changeFlags, changes []updater.Change) error {
	a.bar.clear() // a download that stopped halfway leaves its bar
	failed := false
	for _, c := range changes {
		if c.Status == updater.StatusFailed {
			failed = true
		}
	}
	err := showRows(a, f.asJSON, changes, rowsView[updater.Change]{
		key:    "packages",
		header: []string{"NAME", "FROM", "TO", "STATUS"},
		cells: func(c updater.Change) []string {
			return []string{c.Name, c.From, c.To, string(c.Status)}
		},
		statusCol: 4,
		notes:     func(c updater.Change) { a.explain(a.stdout, c) },
	})
	if err != nil {
		return err
	}
	if failed {
		return &exitError{code: exitFailure}
	}
	return nil
}

func (a *app) explain(w io.Writer, c updater.Change) {
	for _, warn := range c.Warnings {
		printf(a.stderr, "%s: warning: %s\n", c.Name, warn)
	}
	switch {
	case c.Status == updater.StatusFailed:
		printf(a.stderr, "%s: %s\n", c.Name, updater.Detail(c.Name, c.Error))
	case c.Status == updater.StatusSkipped && c.Reason != "":
		printf(w, "%s: skipped: %s\n", c.Name, updater.Detail(c.Name, c.Reason))
	case c.Newest != "":
		next := "no fitting older version known"
		if c.Status != updater.StatusHeldBack {
			next = c.To + " is the newest that fits"
		}
		printf(w, "%s: %s held back: %s; %s\n", c.Name, c.Newest, c.Reason, next)
	case c.Reason != "":
		printf(w, "%s: %s\n", c.Name, c.Reason)
	}
	for _, h := range c.Hints {
		printf(w, "%s: %s\n", c.Name, h)
	}
	if c.Backup != "" && c.Status != updater.StatusFailed {
		printf(w, "%s: previous version kept in %s\n", c.Name, relOrAbs(c.Backup))
	}
	if c.Trust != "" {
		printf(w, "%s: %s\n", c.Name, c.Trust)
	}
}

func relOrAbs(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if r, err := filepath.Rel(wd, p); err == nil && len(r) < len(p) && !filepath.IsAbs(r) && r[0] != '.' {
			return r
		}
	}
	return p
}
