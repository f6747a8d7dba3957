package updater

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/modup/modup/pkgdir"
)

// record appends the outcome of a change to the history of root: what
// happened (installed, updated, rolled back, removed) or what failed.
// Skipped, up-to-date and dry-run outcomes changed nothing and are not
// recorded. A history that cannot be written is a warning of the change,
// never its failure.
func (u *Updater) record(ctx context.Context, root string, action pkgdir.HistoryAction, c *Change, by string) {
	e := pkgdir.HistoryEntry{Time: time.Now().UTC(), Package: c.Name, Action: action, From: c.From, To: c.To, Result: pkgdir.HistoryOK}
	switch c.Status {
	case StatusUpdated, StatusInstalled, StatusRolledBack, StatusRemoved, StatusDisabled, StatusEnabled, StatusHeld:
	case StatusUnheld:
		if c.Reason != "" {
			return // it was not held: nothing changed
		}
	case StatusFailed:
		e.Result, e.Error = pkgdir.HistoryFailed, c.Error
		if errors.Is(c.Err, pkgdir.ErrUnsafeLayout) {
			return // .modup is not usable: the failure says so already
		}
	default:
		return
	}
	if action == pkgdir.HistoryRemove {
		e.To = ""
	}
	if _, err := os.Stat(root); err != nil {
		return // an install into a root that could not be made
	}
	e.By = by
	if e.By == "" {
		e.By = u.Actor
	}
	// Written even when ctx was cancelled mid-change: what happened stands.
	if err := (pkgdir.Layout{Root: root}).AppendHistory(context.WithoutCancel(ctx), e); err != nil {
		c.Warnings = append(c.Warnings, fmt.Sprintf("not recorded in the history: %v", err))
		u.logger().Warn("history", "package", c.Name, "error", err.Error())
	}
}

// lockWait is how long a change waits for another process's lock.
func (u *Updater) lockWait(noWait bool) time.Duration {
	if noWait {
		return 0
	}
	return u.lockTimeout()
}
