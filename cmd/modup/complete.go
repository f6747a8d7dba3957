package main

import (
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
)

// Shell completion. Completing only reads: it never recovers, locks or
// asks a remote.

// completeNames completes package names for commands taking NAME... (up
// to max names; 0 = any number), leaving out those already given.
func (a *app) completeNames(max int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if max > 0 && len(args) >= max {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		roots, err := a.rootList()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		pkgs, _ := pkgdir.ScanReadOnly(existing(roots))
		var out []cobra.Completion
		for _, p := range pkgs {
			if strings.HasPrefix(p.Name, toComplete) && !slices.Contains(args, p.Name) {
				out = append(out, cobra.CompletionWithDesc(p.Name, p.Version()))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeBackedUp completes the names of packages with backups (rollback
// also restores removed packages), installed or not.
func (a *app) completeBackedUp(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out, dir := a.completeNames(1)(cmd, args, toComplete)
	if len(args) > 0 {
		return out, dir
	}
	roots, err := a.rootList()
	if err != nil {
		return out, dir
	}
	for _, root := range existing(roots) {
		bs, _ := pkgdir.Layout{Root: root}.Backups("")
		for _, b := range bs {
			c := cobra.CompletionWithDesc(b.Name, "backed up")
			if strings.HasPrefix(b.Name, toComplete) && !slices.ContainsFunc(out, func(s cobra.Completion) bool { return strings.HasPrefix(s, b.Name+"\t") || s == b.Name }) {
				out = append(out, c)
			}
		}
	}
	return out, dir
}

// completeBackupVersions completes rollback --to with the backed-up
// versions of the package named first.
func (a *app) completeBackupVersions(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 || pkgdir.CheckName(args[0]) != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	roots, err := a.rootList()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, root := range existing(roots) {
		bs, _ := pkgdir.Layout{Root: root}.Backups(args[0])
		for _, b := range bs {
			if strings.HasPrefix(b.Version, toComplete) {
				out = append(out, cobra.CompletionWithDesc(b.Version, "kept "+b.Time.Local().Format("2006-01-02 15:04")))
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// completeChoices completes a flag that takes one of a few words.
func completeChoices(choices ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(choices, cobra.ShellCompDirectiveNoFileComp)
}

// existing keeps the roots that exist: completion stays quiet about the
// others.
func existing(roots []string) []string {
	var out []string
	for _, r := range roots {
		if st, err := os.Stat(r); err == nil && st.IsDir() {
			out = append(out, r)
		}
	}
	return out
}
