package main

import (
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/modup/modup/updater"
)

func (a *app) verifyCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "verify [NAME...]",
		ValidArgsFunction: a.completeNames(0),
		Short:             "Compare packages' files with what modup installed (like rpm -V)",
		Long: `verify compares each package's files with the list modup kept when it
installed the package (path, type, executable bit and sha256 of every
file): modified, missing and added files. A package installed by an older
modup is compared by its tree hash; one modup did not install (no install
record) or a development checkout is not verified. No network.

Exit status: 0 when every package verified is as installed, 1 when
anything differs or could not be read.`,
		Example: `  modup verify
  modup verify a2.modules --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			pkgs, err := a.scanNamed(cmd.Context(), args)
			if err != nil {
				return err
			}
			results := make([]updater.VerifyResult, 0, len(pkgs))
			failed := false
			for _, p := range pkgs {
				v := updater.Verify(p)
				results = append(results, v)
				failed = failed || v.Differs() || v.Status == updater.VerifyError
			}
			err = showRows(a, asJSON, results, rowsView[updater.VerifyResult]{
				key:       "packages",
				none:      noPackages,
				header:    []string{"NAME", "VERSION", "STATUS"},
				cells:     func(v updater.VerifyResult) []string { return []string{v.Name, v.Version, v.Status} },
				statusCol: 3,
				root:      func(v updater.VerifyResult) string { return filepath.Dir(v.Path) },
				notes: func(v updater.VerifyResult) {
					for _, f := range v.Modified {
						printf(a.stdout, "%s: modified %s\n", v.Name, f)
					}
					for _, f := range v.Missing {
						printf(a.stdout, "%s: missing  %s\n", v.Name, f)
					}
					for _, f := range v.Added {
						printf(a.stdout, "%s: added    %s\n", v.Name, f)
					}
					if v.Note != "" {
						printf(a.stdout, "%s: %s\n", v.Name, v.Note)
					}
					if v.Error != "" {
						printf(a.stderr, "%s: %s\n", v.Name, v.Error)
					}
				},
			})
			if err != nil {
				return err
			}
			if failed {
				return &exitError{code: exitFailure}
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
