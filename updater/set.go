package updater

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/resolve"
)

// ErrRequired: other installed packages require the package; remove and
// disable refuse it unless forced.
var ErrRequired = errors.New("other installed packages require it")

// Statuses of disable and enable.
const (
	StatusDisabled Status = "disabled"
	StatusEnabled  Status = "enabled"
)

// requiredBy lists the installed packages that require p (directly, or a
// name only p provides), each with what it requires: "a2.tools 1.0.0
// (requires a2.modules ^0.7)".
func (u *Updater) requiredBy(p pkgdir.Package) ([]string, error) {
	set, err := u.loadInstalled([]string{p.Root})
	if err != nil {
		return nil, err
	}
	names := []string{p.Name}
	if in, ok := set.byName[p.Name]; ok {
		names = append(names, in.Provides...)
		for n := range in.Replaces {
			names = append(names, n)
		}
	}
	var out []string
	for _, x := range resolve.RequiredBy(set.system([]string{p.Name}, nil), p.Name) {
		var what []string
		for _, n := range names {
			if c, ok := x.Packages[n]; ok {
				what = append(what, n+" "+c.String())
			}
		}
		out = append(out, fmt.Sprintf("%s (requires %s)", x, strings.Join(what, ", ")))
	}
	return out, nil
}

// refuseRequired fails verb of p when other packages require it, unless
// force; forced, it warns.
func (u *Updater) refuseRequired(p pkgdir.Package, verb string, force bool, c *Change) error {
	req, err := u.requiredBy(p)
	if err != nil || len(req) == 0 {
		return err
	}
	if force {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s anyway: %s are left without it (`modup doctor` shows it)", verb, strings.Join(req, ", ")))
		return nil
	}
	return fmt.Errorf("%s: required by %s: %s them first, or pass --force: %w", p.Name, strings.Join(req, ", "), verb, ErrRequired)
}

// Disable moves p out of its root into .modup/disabled/NAME, as it is:
// the host no longer loads it, update and the daemon leave it, and
// requirements count it as missing. A package others require is refused
// (ErrRequired) unless force.
func (u *Updater) Disable(ctx context.Context, p pkgdir.Package, force bool) Change {
	c := u.disable(ctx, p, force)
	u.record(ctx, p.Root, pkgdir.HistoryDisable, &c, "")
	return c
}

func (u *Updater) disable(ctx context.Context, p pkgdir.Package, force bool) Change {
	c := Change{Name: p.Name, From: p.Version(), To: p.Version(), Path: p.Dir}
	if p.Disabled {
		return c.failed(fmt.Errorf("%s: %w already", p.Name, pkgdir.ErrDisabled))
	}
	err := u.withLock(ctx, p, u.lockTimeout(), &c, func(l pkgdir.Layout) error {
		if err := u.refuseRequired(p, "disable", force, &c); err != nil {
			return err
		}
		return l.Disable(ctx, p.Name)
	})
	if err != nil {
		return c.failed(err)
	}
	c.Status = StatusDisabled
	return c
}

// Enable brings the disabled p back into its root as it was. What it
// requires and what it conflicts with are said (warnings), not enforced:
// it was installed so.
func (u *Updater) Enable(ctx context.Context, p pkgdir.Package) Change {
	c := u.enable(ctx, p)
	u.record(ctx, p.Root, pkgdir.HistoryEnable, &c, "")
	return c
}

func (u *Updater) enable(ctx context.Context, p pkgdir.Package) Change {
	c := Change{Name: p.Name, From: p.Version(), To: p.Version(), Path: p.Dir}
	err := u.withLock(ctx, p, u.lockTimeout(), &c, func(l pkgdir.Layout) error { return l.Enable(ctx, p.Name) })
	if err != nil {
		return c.failed(err)
	}
	c.Status = StatusEnabled
	c.Path = filepath.Join(p.Root, p.Name)
	if set, err := u.loadInstalled([]string{p.Root}); err == nil {
		if probs, err := resolve.Problems(set.system([]string{p.Name}, nil)); err == nil {
			for _, pr := range probs {
				if pr.Name == p.Name || strings.Contains(pr.Text, " "+p.Name+" ") {
					c.Warnings = append(c.Warnings, pr.Text)
				}
			}
			slices.Sort(c.Warnings)
		}
	}
	return c
}
