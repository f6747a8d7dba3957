package daemon

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

type jobResult struct {
	key
	state   State
	err     error
	fp      fingerprint
	gone    bool
	changed bool // the package folder was replaced
}

// job checks one package and, under the auto policy, installs what is
// available through the same code path as `modup update`.
func (d *Daemon) job(ctx context.Context, k key) jobResult {
	start := time.Now()
	res := jobResult{key: k}
	p, ok := pkgdir.Load(k.root, k.dir())
	if !ok {
		res.gone = true
		return res
	}
	u := d.opts.Updater
	r := u.CheckOne(ctx, p)
	res.err = r.Err
	res.state = State{
		Name: p.Name, Path: p.Dir, LastCheck: start, Status: r.Status,
		Installed: r.Installed, Available: r.Available, Source: r.Source, Error: r.Error,
	}
	if old, err := ReadState(k.root, k.name); err == nil {
		res.state.LastUpdate = old.LastUpdate
	}
	attrs := []any{"package", p.Name, "status", string(r.Status), "installed", r.Installed, "available", r.Available,
		"source", r.Source, "duration", time.Since(start).Round(time.Millisecond)}
	if r.Err != nil && r.Status == updater.StatusError {
		attrs = append(attrs, "error", r.Error)
		d.log.Warn("check", attrs...)
	} else {
		d.log.Info("check", attrs...)
	}
	if r.Status == updater.StatusUpdateAvailable && d.opts.Policy == PolicyAuto && ctx.Err() == nil {
		rel := r.Release
		ch := u.Update(ctx, p, updater.UpdateOptions{Resolved: &rel})
		res.state.LastUpdate = &UpdateRecord{At: time.Now(), From: ch.From, To: ch.To, Status: ch.Status, Error: ch.Error}
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
			d.runHook(p, ch)
		case updater.StatusFailed:
			res.err = ch.Err
			if errors.Is(ch.Err, context.Canceled) {
				attrs = append(attrs, "error", "stopped by shutdown; the installed version is unchanged")
			} else {
				attrs = append(attrs, "error", ch.Error)
			}
			d.log.Warn("install", attrs...)
		default:
			d.log.Info("install", attrs...)
		}
	}
	res.fp = stat(k.dir())
	return res
}

// runHook runs --on-update after a successful install. Its failure is
// logged and never undoes the install.
func (d *Daemon) runHook(p pkgdir.Package, ch updater.Change) {
	if d.opts.OnUpdate == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), d.opts.HookTimeout)
	defer cancel()
	var cmd *exec.Cmd
	if runtime.GOOS == "windows" {
		cmd = exec.CommandContext(ctx, "cmd", "/C", d.opts.OnUpdate)
	} else {
		cmd = exec.CommandContext(ctx, "/bin/sh", "-c", d.opts.OnUpdate)
	}
	cmd.Env = append(os.Environ(),
		"MODUP_PACKAGE="+p.Name,
		"MODUP_FROM="+ch.From,
		"MODUP_TO="+ch.To,
		"MODUP_PATH="+p.Dir,
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		d.log.Warn("on-update command failed; the install stands", "package", p.Name, "command", d.opts.OnUpdate,
			"error", err.Error(), "output", tail(string(out), 2000))
		return
	}
	d.log.Info("on-update command ran", "package", p.Name, "command", d.opts.OnUpdate)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
