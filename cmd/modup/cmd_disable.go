package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

func (a *app) disableCmd() *cobra.Command {
	var f changeFlags
	c := &cobra.Command{
		Use:               "disable NAME",
		ValidArgsFunction: a.completeNames(1),
		Short:             "Move a package out of its root, as it is, so the host no longer loads it",
		Long: `disable moves a package into <root>/.modup/disabled/NAME through a journaled
move: the host no longer loads it, list shows it as disabled, update and
the daemon leave it, and requirements count it as missing. enable brings it
back as it was. A package that other installed packages require is refused,
naming them, unless --force.`,
		Example: `  modup disable a2.modlab
  modup enable a2.modlab`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findOne(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.reportChanges(&f, []updater.Change{a.updater().Disable(cmd.Context(), p, f.force)})
		},
	}
	c.Flags().BoolVar(&f.force, "force", false, "disable a package other installed packages require")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

func (a *app) enableCmd() *cobra.Command {
	var f changeFlags
	c := &cobra.Command{
		Use:               "enable NAME",
		ValidArgsFunction: a.completeDisabled,
		Short:             "Bring a disabled package back into its root, as it was",
		Example:           `  modup enable a2.modlab`,
		Args:              cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findDisabled(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.reportChanges(&f, []updater.Change{a.updater().Enable(cmd.Context(), p)})
		},
	}
	c.Flags().BoolVar(&f.asJSON, "json", false, "print JSON")
	return c
}

// findDisabled scans the roots (recovering first) and finds the disabled
// package called name.
func (a *app) findDisabled(ctx context.Context, name string) (pkgdir.Package, error) {
	if _, err := a.scan(ctx); err != nil {
		return pkgdir.Package{}, err
	}
	roots, err := a.rootDirs()
	if err != nil {
		return pkgdir.Package{}, err
	}
	off, err := pkgdir.DisabledIn(roots)
	if err != nil {
		return pkgdir.Package{}, &exitError{code: exitFailure, err: err}
	}
	p, err := pkgdir.Find(off, name)
	if err != nil {
		return pkgdir.Package{}, &exitError{code: exitFailure, err: fmt.Errorf("%s is not disabled (modup list shows what is)", name)}
	}
	return p, nil
}

// completeDisabled completes the names of disabled packages.
func (a *app) completeDisabled(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	roots, err := a.rootList()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	off, _ := pkgdir.DisabledIn(existing(roots))
	var out []cobra.Completion
	for _, p := range off {
		out = append(out, cobra.CompletionWithDesc(p.Name, "disabled "+p.Version()))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
