package updater

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modup/modup/pkgdir"
)

// HoldOptions tune Hold and Unhold.
type HoldOptions struct {
	// Reason is shown beside the status ("" for none); Hold only.
	Reason string
	// NoWait fails at once when another process holds the package's lock
	// (the daemon's API answers 409), instead of waiting LockTimeout.
	NoWait bool
	// By says who asked, for the history ("cli", "daemon", "api").
	By string
}

// Hold keeps p at its installed version: `update --all` and the daemon
// pass it by (status held), `modup update NAME` says it is held, and only
// an update to a named version (`--to`) changes it. The hold lives in p's
// install record and survives updates and rollbacks. Holding a held
// package replaces its reason. Holds are recorded in the history.
func (u *Updater) Hold(ctx context.Context, p pkgdir.Package, opts HoldOptions) Change {
	reason := strings.TrimSpace(opts.Reason)
	return u.setHold(ctx, p, &pkgdir.Hold{Reason: reason, Since: time.Now().UTC().Round(time.Second)}, opts)
}

// Unhold releases p's hold. A package that is not held is left as it is
// (status unheld, with a reason saying so).
func (u *Updater) Unhold(ctx context.Context, p pkgdir.Package, opts HoldOptions) Change {
	return u.setHold(ctx, p, nil, opts)
}

func (u *Updater) setHold(ctx context.Context, p pkgdir.Package, hold *pkgdir.Hold, opts HoldOptions) Change {
	c := Change{Name: p.Name, From: p.Version(), To: p.Version(), Path: p.Dir}
	if p.Err != nil {
		return c.failed(p.Err)
	}
	var was *pkgdir.Hold
	err := u.withLock(ctx, p, u.lockWait(opts.NoWait), &c, func(l pkgdir.Layout) error {
		was = l.HoldOf(p.Name)
		return l.SetHold(p.Name, p.Version(), hold)
	})
	action := pkgdir.HistoryHold
	if hold == nil {
		action = pkgdir.HistoryUnhold
	}
	defer u.record(ctx, p.Root, action, &c, opts.By)
	if err != nil {
		return c.failed(err)
	}
	if hold == nil {
		c.Status = StatusUnheld
		if was == nil {
			c.Reason = "it was not held"
		}
		return c
	}
	c.Status = StatusHeld
	c.Reason = hold.Reason
	return c
}

// heldReason says why a held package is not changed, and how to change it.
func heldReason(name string, h *pkgdir.Hold) string {
	why := "held"
	if h.Reason != "" {
		why += " (" + h.Reason + ")"
	}
	return fmt.Sprintf("%s: `modup unhold %s` releases it; `modup update %s --to VERSION` changes it all the same", why, name, name)
}
