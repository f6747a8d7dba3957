package main

import (
	"errors"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/modup/modup/internal/fsutil"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

func (a *app) lockCmd() *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "lock [-o FILE]",
		Short: "Write the installed set (versions, sources, hashes) as JSON, for modup restore",
		Long: `lock writes every installed package with its version, its source and
update_url, the sha256 of the zip it was installed from and the tree hash of
its folder as installed, as JSON: to standard output, or to FILE with -o.
modup restore installs exactly that set elsewhere. Local packages and
development checkouts are left out (there is no release to fetch), and so
is said.`,
		Example: `  modup lock -o modup.lock
  modup restore modup.lock --root ~/a2/modules`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pkgs, err := a.scan(cmd.Context())
			if err != nil {
				return err
			}
			lf, warnings := a.updater().Lock(pkgs)
			for _, w := range warnings {
				printf(a.stderr, "%s\n", w)
			}
			if out == "" || out == "-" {
				return writeJSON(a.stdout, lf)
			}
			var buf jsonBuffer
			if err := writeJSON(&buf, lf); err != nil {
				return err
			}
			abs, err := filepath.Abs(out)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if err := fsutil.WriteFileAtomic(abs, buf.b, 0o666); err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			printf(a.stderr, "wrote %s (%s)\n", out, plural(len(lf.Packages), "package"))
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the lock file here instead of to standard output")
	return c
}

// jsonBuffer collects what writeJSON writes.
type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) { j.b = append(j.b, p...); return len(p), nil }

func (a *app) restoreCmd() *cobra.Command {
	var f changeFlags
	c := &cobra.Command{
		Use:   "restore FILE --root DIR",
		Short: "Install exactly the packages of a lock file, verifying every hash",
		Long: `restore installs into the root (the first --root) exactly the packages a
lock file (modup lock) names: each release fetched by version from its
source, the sha256 of its zip and the tree hash of the installed folder
checked against the lock file, all of them put in place in one transaction:
every package, or none. A package already there at the locked version and
tree is left alone; one of another version is refused. Requirements are
not judged: run modup doctor afterwards on a machine whose host differs.`,
		Example: `  modup restore modup.lock --root ~/a2/modules
  modup restore modup.lock --root ./fresh --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			data, err := fsutil.ReadRegular(args[0], 16<<20)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			lf, err := updater.ReadLock(data, args[0])
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			if _, err := a.scan(cmd.Context()); errors.Is(err, pkgdir.ErrUnsafeLayout) {
				return err
			} else if err != nil {
				a.logger.Debug("scan before restore", "error", err) // a new root: restore makes it
			}
			return a.reportChanges(&f, a.changer(&f).Restore(cmd.Context(), roots[0], lf, updater.SetOptions{DryRun: f.dryRun}))
		},
	}
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&f.dryRun, "dry-run", false, "say what would be installed; download nothing")
	return c
}
