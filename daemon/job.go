package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/modup/modup/internal/hook"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

type jobResult struct {
	key
	state   State
	check   updater.Result // what the check found
	err     error
	fp      fingerprint
	gone    bool
	changed bool // the package folder was replaced
}

// job checks one package and, under the auto policy, installs what is
// available through the same code path as `modup update`.
//
// prev is the status the last check found: local and dev packages, which
// no check changes, are logged at info level only when that changes.
func (d *Daemon) job(ctx context.Context, k key, prev updater.Status) jobResult {
	start := time.Now()
	res := jobResult{key: k}
	p, ok := pkgdir.Load(k.root, k.dir())
	if !ok {
		res.gone = true
		return res
	}
	u := d.opts.Updater
	d.publish(Event{Type: EventCheckStarted, Package: p.Name, Root: k.root, Installed: p.Version()})
	r := u.CheckOne(ctx, p)
	res.check = r
	res.err = r.Err
	res.state = State{
		Name: p.Name, Path: p.Dir, LastCheck: start, Status: r.Status,
		Installed: r.Installed, Available: r.Available, Source: r.Source, News: r.News, Error: r.Error, Warnings: r.Warnings,
	}
	for _, w := range r.Warnings {
		d.log.Debug("check warning", "package", p.Name, "warning", w)
	}
	old, oldErr := ReadState(k.root, k.name)
	if oldErr == nil {
		res.state.LastUpdate = old.LastUpdate
	}
	d.publish(Event{Type: EventCheckFinished, Package: p.Name, Root: k.root, Status: r.Status, Installed: r.Installed,
		Available: r.Available, Error: r.Error, Seconds: time.Since(start).Seconds()})
	if r.Status == updater.StatusUpdateAvailable && (oldErr != nil || old.Status != r.Status || old.Available != r.Available) {
		// Said once per version found, not at every check.
		d.publish(Event{Type: EventUpdateAvailable, Package: p.Name, Root: k.root, Installed: r.Installed, Available: r.Available, News: r.News})
	}
	attrs := []any{"package", p.Name, "status", string(r.Status), "installed", r.Installed, "available", r.Available,
		"source", r.Source, "duration", time.Since(start).Round(time.Millisecond)}
	if r.Status == updater.StatusHeldBack {
		attrs = append(attrs, "newest", r.Newest, "reason", r.Reason)
	}
	switch {
	case r.Err != nil && (r.Status == updater.StatusError || r.Status == updater.StatusSignatureInvalid):
		attrs = append(attrs, "error", updater.Detail(p.Name, r.Error))
		d.log.Warn("check", attrs...)
	case (r.Status == updater.StatusLocal || r.Status == updater.StatusDev) && r.Status == prev:
		d.log.Debug("check", attrs...) // said once already
	default:
		d.log.Info("check", attrs...)
	}
	if r.Installable() && d.opts.Policy == PolicyAuto && ctx.Err() == nil {
		rel := r.Release
		installStart := time.Now()
		ch := u.Update(ctx, p, updater.UpdateOptions{Resolved: &rel})
		if errors.Is(ch.Err, context.Canceled) && ch.Status == updater.StatusFailed {
			ch.Error = "stopped by shutdown; the installed version is unchanged"
		}
		d.publishChange(k.root, pkgdir.HistoryUpdate, ch, time.Since(installStart))
		res.state.LastUpdate = &UpdateRecord{At: time.Now(), From: ch.From, To: ch.To, Status: ch.Status, Error: ch.Error, Warnings: ch.Warnings}
		for _, w := range ch.Warnings {
			d.log.Warn("install warning", "package", p.Name, "to", ch.To, "warning", w)
		}
		attrs := []any{"package", p.Name, "from", ch.From, "to", ch.To, "status", string(ch.Status), "source", r.Source,
			"duration", time.Since(start).Round(time.Millisecond)}
		switch ch.Status {
		case updater.StatusUpdated:
			res.changed = true
			res.state.Status = updater.StatusUpToDate
			res.state.Installed = ch.To
			if ch.Backup != "" {
				attrs = append(attrs, "backup", ch.Backup)
			}
			d.log.Info("install", attrs...)
			d.startHook(p, ch)
		case updater.StatusFailed:
			res.err = ch.Err
			d.log.Warn("install", append(attrs, "error", updater.Detail(p.Name, ch.Error))...)
		default:
			d.log.Info("install", attrs...)
		}
	}
	res.fp = stat(k.dir())
	return res
}

// startHook runs --on-update after a successful install, in the
// background: checks and installs of other packages never wait for it.
// Its failure is logged and never undoes the install. At shutdown a hook
// still running is killed with its whole process group.
func (d *Daemon) startHook(p pkgdir.Package, ch updater.Change) {
	if d.opts.OnUpdate == "" {
		return
	}
	d.hookMu.Lock()
	defer d.hookMu.Unlock()
	if d.hooksClosed {
		d.log.Warn("on-update command not run: the daemon is stopping", "package", p.Name, "command", d.opts.OnUpdate)
		return
	}
	d.hooks.Go(func() {
		res, err := hook.Run(d.hookCtx, hook.Command{
			Shell:   d.opts.OnUpdate,
			Timeout: d.opts.HookTimeout,
			Env: []string{
				"MODUP_PACKAGE=" + p.Name,
				"MODUP_FROM=" + ch.From,
				"MODUP_TO=" + ch.To,
				"MODUP_PATH=" + p.Dir,
			},
		})
		attrs := []any{"package", p.Name, "command", d.opts.OnUpdate, "duration", res.Duration.Round(time.Millisecond)}
		if err != nil {
			out := res.Output
			if len(out) > hookLogTail {
				out = "…" + out[len(out)-hookLogTail:]
			}
			d.log.Warn("on-update command failed; the install stands", append(attrs, "error", err.Error(), "output", out)...)
			return
		}
		d.log.Info("on-update command ran", attrs...)
	})
}

// hookLogTail is how much of a failed hook's output goes into the log
// line (the hook package keeps up to 64 KiB of it).
const hookLogTail = 2000
