package main

import (
	"github.com/spf13/cobra"

	"github.com/modup/modup/updater"
)

func (a *app) holdCmd() *cobra.Command {
	var asJSON bool
	var reason string
	c := &cobra.Command{
		Use:               "hold NAME",
		ValidArgsFunction: a.completeNames(1),
		Short:             "Keep a package at its version (update --all and the daemon pass it by)",
		Long: `hold keeps a package at its installed version: update --all and the daemon
leave it as it is, check shows it as held, and update NAME says it is held.
Only an update to a named version (update NAME --to VERSION) changes it.
The hold survives updates and rollbacks; unhold releases it.`,
		Example: `  modup hold a2.modules --reason "waiting for a2 0.6"
  modup unhold a2.modules`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findOne(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.reportHold(asJSON, a.updater().Hold(cmd.Context(), p, updater.HoldOptions{Reason: reason}))
		},
	}
	c.Flags().StringVar(&reason, "reason", "", "why it is held (shown by check and doctor)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) unholdCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:               "unhold NAME",
		ValidArgsFunction: a.completeNames(1),
		Short:             "Release a held package",
		Example:           `  modup unhold a2.modules`,
		Args:              cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.findOne(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.reportHold(asJSON, a.updater().Unhold(cmd.Context(), p, updater.HoldOptions{}))
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// reportHold prints the outcome of hold or unhold: one line, or the
// change as update --json shows changes.
func (a *app) reportHold(asJSON bool, c updater.Change) error {
	if asJSON {
		if err := writeJSON(a.stdout, map[string]any{"packages": []updater.Change{c}}); err != nil {
			return err
		}
	} else {
		switch {
		case c.Status == updater.StatusFailed:
			printf(a.stderr, "%s: %s\n", c.Name, c.Error)
		case c.Reason != "":
			printf(a.stdout, "%s %s %s: %s\n", c.Name, c.From, c.Status, c.Reason)
		default:
			printf(a.stdout, "%s %s %s\n", c.Name, c.From, c.Status)
		}
		for _, w := range c.Warnings {
			printf(a.stderr, "%s: warning: %s\n", c.Name, w)
		}
	}
	if c.Status == updater.StatusFailed {
		return &exitError{code: exitFailure}
	}
	return nil
}
