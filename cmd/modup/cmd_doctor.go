package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/repo"
	"github.com/modup/modup/updater"
)

func (a *app) doctorCmd() *cobra.Command {
	var asJSON, offline bool
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Look for what is wrong with the packages and modup's own files, and say how to fix each",
		Long: `doctor looks over the roots: requirements the installed packages do not meet
and conflicts between them, a package name in two roots, files changed since
modup installed them (as verify), held packages that are behind (this asks
their sources; --offline skips it), manifests and versions modup cannot
read, and what modup could not settle (an interrupted change still pending,
files it set aside). It also reads each enabled repository once (--offline:
not; what the last command that asked it found is reported) and reports one
that cannot be read, one whose copy is older than 24 × repo_max_age (the
packages installed from it are then checked at their authors' sources), and
a disabled repository that packages were installed from. Each
problem comes with the command that fixes it.

Exit status: 0 when nothing is wrong, 1 when a problem was found.`,
		Example: `  modup doctor
  modup doctor --json --offline`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			pkgs, err := a.scan(cmd.Context())
			if err != nil {
				return err
			}
			found := a.updater().Doctor(cmd.Context(), roots, updater.DoctorOptions{Offline: offline})
			found = append(found, a.repoDoctor(cmd.Context(), pkgs, offline)...)
			if found == nil {
				found = []updater.Finding{}
			}
			if asJSON {
				if err := writeJSON(a.stdout, map[string]any{"problems": found}); err != nil {
					return err
				}
			} else {
				for _, f := range found {
					who := f.Package
					switch {
					case who != "":
					case f.Repo != "":
						who = "repository " + f.Repo
					default:
						who = "modup"
					}
					printf(a.stdout, "%s: %s\n  fix: %s\n", who, updater.Detail(f.Package, f.Text), f.Fix)
				}
				switch len(found) {
				case 0:
					printf(a.stdout, "no problems found\n")
				case 1:
					printf(a.stdout, "\n1 problem found\n")
				default:
					printf(a.stdout, "\n%d problems found\n", len(found))
				}
			}
			if len(found) > 0 {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&offline, "offline", false, "do not ask sources whether held packages are behind, nor read the repositories")
	return c
}

// repoDoctor is what doctor says of the repositories (repo.Doctor); a
// repos.json modup cannot read is a finding too.
func (a *app) repoDoctor(ctx context.Context, pkgs []pkgdir.Package, offline bool) []updater.Finding {
	l, err := a.repoList()
	if err != nil {
		return []updater.Finding{{Kind: updater.FindingRepoList, Text: err.Error(),
			Fix: "fix or delete the file, then `modup repo add` the repositories again (until then their packages are checked at their authors' sources)"}}
	}
	return repo.Doctor(ctx, a.repoClient(), l, pkgs, offline)
}
