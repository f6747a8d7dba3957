package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/modup/modup/pkgdir"
)

func (a *app) historyCmd() *cobra.Command {
	var (
		asJSON bool
		limit  int
	)
	c := &cobra.Command{
		Use:               "history [NAME]",
		ValidArgsFunction: a.completeNames(1),
		Short:             "Show every install, update, rollback and removal, oldest first",
		Long: `history prints what modup changed in the roots, and what it tried and failed
to change: installs, updates, rollbacks and removals, made from the command
line, by the daemon or through its API. Each root keeps its own in
<root>/.modup/history.jsonl (rotated at 10 MB, the two files before the
live one kept); the roots' histories are shown merged, oldest first.`,
		Example: `  modup history
  modup history a2.modules --limit 10
  modup history --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return &exitError{code: exitUsage, err: fmt.Errorf("--limit %d: want 0 (all) or more", limit)}
			}
			roots, err := a.rootDirs()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			entries, err := pkgdir.ReadHistory(roots, name, limit)
			if err != nil {
				return &exitError{code: exitFailure, err: err}
			}
			return showRows(a, asJSON, entries, rowsView[pkgdir.HistoryEntry]{
				key:    "history",
				none:   "no history yet",
				header: []string{"TIME", "PACKAGE", "ACTION", "FROM", "TO", "RESULT", "BY"},
				cells: func(e pkgdir.HistoryEntry) []string {
					return []string{when(&e.Time), e.Package, string(e.Action), e.From, e.To, e.Result, e.By}
				},
				statusCol: 6,
				notes: func(e pkgdir.HistoryEntry) {
					if e.Error != "" {
						printf(a.stdout, "%s %s: %s\n", when(&e.Time), e.Package, e.Error)
					}
				},
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().IntVarP(&limit, "limit", "n", 0, "show only the last N entries (0: all)")
	return c
}
