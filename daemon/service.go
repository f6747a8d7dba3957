package daemon

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources/github"
	"github.com/modup/modup/updater"
)

// What the daemon does for callers outside its loop (the HTTP API): they
// ask through these methods, which hand the loop a function to run
// (call), so the schedule and the in-memory state keep one owner. Checks
// run as the loop's own jobs (same concurrency bound, same state files);
// updates and rollbacks run the updater's functions, as the CLI does, on
// the daemon's work context (stopped at shutdown), with NoWait: a package
// another process (or another request) is changing fails at once with a
// *pkgdir.LockedError naming it.

// ErrStopped: the daemon is not running (it has not started, or stopped).
var ErrStopped = errors.New("the daemon is not running")

// call is a function the loop runs for a caller; done is closed after.
type call struct {
	fn   func(work context.Context, now time.Time)
	done chan struct{}
}

// do runs fn on the loop goroutine and waits for it.
func (d *Daemon) do(ctx context.Context, fn func(work context.Context, now time.Time)) error {
	c := call{fn: fn, done: make(chan struct{})}
	select {
	case d.calls <- c:
	case <-d.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	<-c.done // the loop runs it at once: no wait worth cancelling
	return nil
}

// lookup finds the scheduled packages called names (every one when names
// is empty), in the roots' order. A name not scheduled yet (a folder the
// watcher has not reported) is looked for with a rescan; one still not
// found is an error wrapping pkgdir.ErrNoPackage.
func (d *Daemon) lookup(names []string, now time.Time) ([]key, error) {
	ordered := func() []key {
		keys := make([]key, 0, len(d.entries))
		for k := range d.entries {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b key) int {
			if c := slices.Index(d.opts.Roots, a.root) - slices.Index(d.opts.Roots, b.root); c != 0 {
				return c
			}
			return compareNames(a.name, b.name)
		})
		return keys
	}
	if len(names) == 0 {
		return ordered(), nil
	}
	find := func(name string) []key {
		var out []key
		for _, k := range ordered() {
			if k.name == name {
				out = append(out, k)
			}
		}
		return out
	}
	var keys []key
	rescanned := false
	for _, name := range names {
		found := find(name)
		if len(found) == 0 && !rescanned {
			rescanned = true
			for _, root := range d.opts.Roots {
				d.scanRoot(root, now, false, false)
			}
			found = find(name)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: %w", name, pkgdir.ErrNoPackage)
		}
		keys = append(keys, found...)
	}
	return keys, nil
}

// compareNames orders package names as a listing does.
func compareNames(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Check checks the packages called names (every package when names is
// empty) now, as the daemon's own checks do (under --policy auto, an
// update found is installed), and returns what each check found once all
// are done: `modup check --json`'s values. An unknown name is an error
// wrapping pkgdir.ErrNoPackage, and nothing is checked.
func (d *Daemon) Check(ctx context.Context, names []string) ([]updater.Result, error) {
	var keys []key
	var reply chan jobResult
	var lookErr error
	err := d.do(ctx, func(_ context.Context, now time.Time) {
		keys, lookErr = d.lookup(names, now)
		if lookErr != nil {
			return
		}
		reply = make(chan jobResult, len(keys))
		for _, k := range keys {
			e := d.entries[k]
			if e.running {
				e.later = append(e.later, reply) // checked again once it is done
				continue
			}
			e.waiters = append(e.waiters, reply)
			d.queue.remove(e)
			e.due = now
			d.queue.push(e)
		}
	})
	if err != nil {
		return nil, err
	}
	if lookErr != nil {
		return nil, lookErr
	}
	got := map[key]jobResult{}
	for range keys {
		select {
		case res := <-reply:
			got[res.key] = res
		case <-d.stopped:
			return nil, ErrStopped
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]updater.Result, 0, len(keys))
	for _, k := range keys {
		res := got[k]
		r := res.check
		if res.gone {
			r = updater.Result{Name: k.name, Path: k.dir(), Status: updater.StatusError, Error: fmt.Sprintf("%s is gone from %s", k.name, k.root)}
		}
		out = append(out, r)
	}
	return out, nil
}

// opResult is how one change the API asked for ended.
type opResult struct {
	key
	action pkgdir.HistoryAction
	change updater.Change
	done   chan<- updater.Change // nil: the request is over
}

// Update updates the packages called names (every package when names is
// empty, going on past failures) through updater.Update, as `modup
// update` does, and returns each one's change. opts.NoWait is always set.
// An unknown name is an error wrapping pkgdir.ErrNoPackage.
func (d *Daemon) Update(ctx context.Context, names []string, opts updater.UpdateOptions) ([]updater.Change, error) {
	opts.NoWait = true
	return d.change(ctx, names, pkgdir.HistoryUpdate, func(work context.Context, p pkgdir.Package) updater.Change {
		return d.opts.Updater.Update(work, p, opts)
	})
}

// Rollback restores a backup of package name through updater.Rollback, as
// `modup rollback` does; a package removed from its root is found in the
// backups. opts.NoWait is always set.
func (d *Daemon) Rollback(ctx context.Context, name string, opts updater.RollbackOptions) (updater.Change, error) {
	opts.NoWait = true
	chs, err := d.change(ctx, []string{name}, pkgdir.HistoryRollback, func(work context.Context, p pkgdir.Package) updater.Change {
		return d.opts.Updater.RollbackWith(work, p, opts)
	})
	if err != nil {
		return updater.Change{}, err
	}
	return chs[0], nil
}

// Hold holds package name at its version (Unhold releases it) through
// updater.Hold, as `modup hold` does. opts.NoWait is always set.
func (d *Daemon) Hold(ctx context.Context, name string, opts updater.HoldOptions) (updater.Change, error) {
	return d.holdChange(ctx, name, pkgdir.HistoryHold, opts)
}

// Unhold releases package name's hold through updater.Unhold, as `modup
// unhold` does. opts.NoWait is always set.
func (d *Daemon) Unhold(ctx context.Context, name string, opts updater.HoldOptions) (updater.Change, error) {
	return d.holdChange(ctx, name, pkgdir.HistoryUnhold, opts)
}

func (d *Daemon) holdChange(ctx context.Context, name string, action pkgdir.HistoryAction, opts updater.HoldOptions) (updater.Change, error) {
	opts.NoWait = true
	chs, err := d.change(ctx, []string{name}, action, func(work context.Context, p pkgdir.Package) updater.Change {
		if action == pkgdir.HistoryUnhold {
			return d.opts.Updater.Unhold(work, p, opts)
		}
		return d.opts.Updater.Hold(work, p, opts)
	})
	if err != nil {
		return updater.Change{}, err
	}
	return chs[0], nil
}

// change runs fn on each package called names, one after the other, on
// the daemon's work context; the loop records each outcome (state,
// events, the on-update command) before the next begins.
func (d *Daemon) change(ctx context.Context, names []string, action pkgdir.HistoryAction, fn func(context.Context, pkgdir.Package) updater.Change) ([]updater.Change, error) {
	var keys []key
	var lookErr error
	var results chan updater.Change
	err := d.do(ctx, func(work context.Context, now time.Time) {
		keys, lookErr = d.lookup(names, now)
		if errors.Is(lookErr, pkgdir.ErrNoPackage) && action == pkgdir.HistoryRollback {
			keys, lookErr = d.backedUp(names[0])
		}
		if lookErr != nil {
			return
		}
		results = make(chan updater.Change, len(keys)) // the caller may leave
		d.ops++
		go d.runChanges(work, keys, action, fn, results)
	})
	if err != nil {
		return nil, err
	}
	if lookErr != nil {
		return nil, lookErr
	}
	// Once started, the changes go on even if the caller leaves: each is
	// recorded in the state and the history.
	out := make([]updater.Change, 0, len(keys))
	for range keys {
		select {
		case ch := <-results:
			out = append(out, ch)
		case <-d.stopped:
			return out, ErrStopped
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
	return out, nil
}

// runChanges is the goroutine of one change request.
func (d *Daemon) runChanges(work context.Context, keys []key, action pkgdir.HistoryAction, fn func(context.Context, pkgdir.Package) updater.Change, results chan<- updater.Change) {
	defer func() {
		select {
		case d.opDone <- opResult{}: // the request is over
		case <-d.stopped:
		}
	}()
	for _, k := range keys {
		start := time.Now()
		p, ok := pkgdir.Load(k.root, k.dir())
		if !ok {
			p = pkgdir.Package{Name: k.name, Root: k.root, Dir: k.dir()} // backed up only
		}
		var ch updater.Change
		if work.Err() != nil {
			ch = updater.Change{Name: k.name, From: p.Version(), Status: updater.StatusSkipped, Reason: "not attempted: the daemon is stopping"}
		} else {
			ch = fn(work, p)
		}
		d.publishChange(k.root, action, ch, time.Since(start))
		d.logChange(action, ch, time.Since(start))
		if ch.Status == updater.StatusUpdated {
			d.startHook(p, ch)
		}
		done := make(chan updater.Change, 1)
		select {
		case d.opDone <- opResult{key: k, action: action, change: ch, done: done}:
			ch = <-done
		case <-d.stopped:
		}
		results <- ch // room for every key
	}
}

// finishOp records one change an API request made: the package's state
// (its installed version, the last install), and that the request ended.
func (d *Daemon) finishOp(res opResult) {
	if res.done == nil {
		d.ops--
		return
	}
	defer func() { res.done <- res.change }()
	e, ok := d.entries[res.key]
	if !ok {
		return // backed up only: the watcher or a rescan finds it
	}
	ch := res.change
	if ch.Status != updater.StatusUpdated && ch.Status != updater.StatusRolledBack && ch.Status != updater.StatusFailed {
		return
	}
	st := e.state
	if st.Name == "" {
		st = State{Name: res.name, Path: res.dir()}
	}
	now := time.Now()
	st.LastUpdate = &UpdateRecord{At: now, From: ch.From, To: ch.To, Status: ch.Status, Error: ch.Error, Warnings: ch.Warnings}
	if ch.Status != updater.StatusFailed {
		st.Installed = ch.To
		if st.Available != "" {
			// What the last check found, against the version now there.
			if c, err := updater.CompareVersions(st.Available, ch.To); err == nil {
				switch {
				case c == 0:
					st.Status = updater.StatusUpToDate
				case c < 0:
					st.Status = updater.StatusRemoteOlder
				default:
					st.Status = updater.StatusUpdateAvailable
				}
			}
		}
		e.fp = stat(e.dir())
		if d.watch != nil {
			d.watch.addPackage(e.dir()) // a new folder under the old name
		}
	}
	e.state = st
	if err := WriteState(res.root, st); err != nil {
		d.log.Warn("write state", "package", res.name, "error", err.Error())
	}
}

// backedUp finds the roots holding backups of a package that is not
// installed (removed), for Rollback.
func (d *Daemon) backedUp(name string) ([]key, error) {
	if err := pkgdir.CheckName(name); err != nil {
		return nil, fmt.Errorf("%s: %w", name, pkgdir.ErrNoPackage)
	}
	for _, root := range d.opts.Roots {
		if bs, err := (pkgdir.Layout{Root: root}).Backups(name); err == nil && len(bs) > 0 {
			return []key{{root: root, name: name}}, nil
		}
	}
	return nil, fmt.Errorf("%s: %w, and no backups of it", name, pkgdir.ErrNoPackage)
}

// Info is the daemon's own state: the API's /v1/status.
type Info struct {
	Version     string    `json:"version"`
	Roots       []string  `json:"roots"`
	Interval    string    `json:"interval"`
	Policy      Policy    `json:"policy"`
	Concurrency int       `json:"concurrency"`
	Started     time.Time `json:"started"`
	// NextCheck is when the next scheduled check is due (nil: none).
	NextCheck *time.Time `json:"next_check,omitempty"`
	Packages  int        `json:"packages"`
	// Running counts checks and changes in progress.
	Running    int                `json:"running"`
	RateLimits []github.RateLimit `json:"rate_limits"`
}

// Info describes the running daemon.
func (d *Daemon) Info(ctx context.Context) (Info, error) {
	var in Info
	err := d.do(ctx, func(_ context.Context, _ time.Time) {
		in = Info{
			Version: d.opts.Version, Roots: slices.Clone(d.opts.Roots), Interval: d.opts.Interval.String(),
			Policy: d.opts.Policy, Concurrency: d.opts.Concurrency, Started: d.started,
			Packages: len(d.entries), Running: d.running + d.ops,
		}
		if d.queue.Len() > 0 {
			next := d.queue[0].due
			in.NextCheck = &next
		}
	})
	if err != nil {
		return Info{}, err
	}
	in.RateLimits = []github.RateLimit{}
	if s := d.opts.Updater.Sources; s != nil {
		in.RateLimits = s.RateLimits()
	}
	return in, nil
}

// Known is one scheduled package as the daemon last saw it, for metrics.
type Known struct {
	Root  string
	Name  string
	State State // zero Status: never checked
}

// Snapshot lists the scheduled packages with what their last check found.
func (d *Daemon) Snapshot(ctx context.Context) ([]Known, error) {
	var out []Known
	err := d.do(ctx, func(_ context.Context, now time.Time) {
		keys, _ := d.lookup(nil, now)
		for _, k := range keys {
			out = append(out, Known{Root: k.root, Name: k.name, State: d.entries[k].state})
		}
	})
	return out, err
}

// Roots are the daemon's roots.
func (d *Daemon) Roots() []string { return slices.Clone(d.opts.Roots) }

// Updater is the daemon's updater (its sources, rate limits).
func (d *Daemon) Updater() *updater.Updater { return d.opts.Updater }

// logChange logs a change an API request made, as the daemon logs its own
// installs ("install" or "rollback", the history's action names).
func (d *Daemon) logChange(action pkgdir.HistoryAction, ch updater.Change, took time.Duration) {
	msg := "install"
	switch action {
	case pkgdir.HistoryRollback, pkgdir.HistoryHold, pkgdir.HistoryUnhold:
		msg = string(action)
	}
	attrs := []any{"package", ch.Name, "from", ch.From, "to", ch.To, "status", string(ch.Status), "by", "api",
		"duration", took.Round(time.Millisecond)}
	switch ch.Status {
	case updater.StatusFailed:
		d.log.Warn(msg, append(attrs, "error", ch.Error)...)
	case updater.StatusUpdated, updater.StatusRolledBack, updater.StatusInstalled:
		if ch.Backup != "" {
			attrs = append(attrs, "backup", ch.Backup)
		}
		d.log.Info(msg, attrs...)
	default:
		d.log.Info(msg, attrs...)
	}
}
