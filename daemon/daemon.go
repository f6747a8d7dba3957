// Package daemon keeps every package of its roots current without anyone
// pressing a button: a scheduler checks each package once per interval
// (with jitter), a watcher gets new or changed packages checked within
// seconds, and the same updater code path as `modup update` installs what
// is available.
package daemon

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/sources"
	"github.com/modup/modup/updater"
)

// Policy says what the daemon does with an available update.
type Policy string

// Policies.
const (
	PolicyAuto   Policy = "auto"   // install it
	PolicyNotify Policy = "notify" // record and log it only
)

// Options configure a daemon. Zero durations take the defaults.
type Options struct {
	Roots       []string
	Interval    time.Duration // default 6h
	Policy      Policy        // default auto
	Concurrency int           // default 4
	// OnUpdate is a shell command run after each successful install.
	OnUpdate string
	Updater  *updater.Updater
	Logger   *slog.Logger
	// Rescan asks for a rescan of the roots (SIGHUP).
	Rescan <-chan struct{}
	// Debounce is the quiet time after file events before a check (default 1s).
	Debounce time.Duration
	// StartSpread spreads the checks due at start over this long (default 1m).
	StartSpread time.Duration
	// Jitter is the relative random spread of each interval (default 0.1).
	Jitter float64
	// ShutdownGrace bounds the wait for in-flight work at shutdown (default 30s).
	ShutdownGrace time.Duration
	// ErrorRetry is the wait after a failed check (default: the smaller of
	// 30m and the interval).
	ErrorRetry time.Duration
	// HookTimeout bounds an --on-update command (default 5m).
	HookTimeout time.Duration
	// NoWatch turns the file watcher off (the interval still applies).
	NoWatch bool
	// RootPoll is how often roots are looked at for appearing, vanishing
	// or being replaced (default 5s).
	RootPoll time.Duration
	// RootWarnEvery repeats the warning about a missing root (default 1h).
	RootWarnEvery time.Duration
	// Observers are told of every event (checks, downloads, installs):
	// the API's event stream, its metrics, webhooks. Each must return at
	// once.
	Observers []Observer
	// Version is modup's version, for Info.
	Version string
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = 6 * time.Hour
	}
	if o.Policy == "" {
		o.Policy = PolicyAuto
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Debounce <= 0 {
		o.Debounce = time.Second
	}
	if o.StartSpread < 0 {
		o.StartSpread = 0
	} else if o.StartSpread == 0 {
		o.StartSpread = time.Minute
	}
	if o.Jitter <= 0 || o.Jitter >= 1 {
		o.Jitter = 0.1
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 30 * time.Second
	}
	if o.ErrorRetry <= 0 {
		o.ErrorRetry = min(30*time.Minute, o.Interval)
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = 5 * time.Minute
	}
	if o.RootPoll <= 0 {
		o.RootPoll = 5 * time.Second
	}
	if o.RootWarnEvery <= 0 {
		o.RootWarnEvery = time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

type key struct{ root, name string }

func (k key) dir() string { return filepath.Join(k.root, k.name) }

// entry is one package in the schedule. Only the loop goroutine touches it.
type entry struct {
	key
	due     time.Time
	idx     int // position in the heap, -1 when not queued
	running bool
	recheck bool        // a change arrived while a job ran
	fp      fingerprint // the manifest as the last job left it
	state   State       // what the last check found (zero: never checked)
	// waiters are told the result of the package's next job (Check).
	waiters []chan<- jobResult
	// later are told the result of the job after the running one: a
	// Check that came while a job ran wants a check that starts after it
	// asked, not one that may have read the package before.
	later []chan<- jobResult
}

// Daemon is one running daemon. Create with New, run with Run.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	entries map[key]*entry
	roots   map[string]*rootInfo
	// lastPrune is when state files were last pruned.
	lastPrune time.Time
	queue     queue
	running   int
	results   chan jobResult
	watch     *watcher
	// calls are run on the loop goroutine for callers outside it (the
	// API); opDone reports the end of the changes they started; ops
	// counts those still running.
	calls   chan call
	opDone  chan opResult
	ops     int
	started time.Time
	// stopped is closed when Run returns.
	stopped chan struct{}

	// hookCtx is cancelled at shutdown, killing --on-update commands still
	// running; hooks tracks them.
	hookCtx     context.Context
	hooks       sync.WaitGroup
	hookMu      sync.Mutex // guards hooksClosed and adding to hooks
	hooksClosed bool
}

// New validates opts and returns a daemon.
func New(opts Options) (*Daemon, error) {
	opts.defaults()
	if opts.Updater == nil {
		return nil, errors.New("daemon: no updater")
	}
	if len(opts.Roots) == 0 {
		return nil, errors.New("daemon: no roots")
	}
	if opts.Policy != PolicyAuto && opts.Policy != PolicyNotify {
		return nil, fmt.Errorf("--policy %q: want auto or notify", opts.Policy)
	}
	d := &Daemon{
		opts:    opts,
		log:     opts.Logger,
		entries: map[key]*entry{},
		roots:   map[string]*rootInfo{},
		results: make(chan jobResult),
		calls:   make(chan call),
		opDone:  make(chan opResult),
		stopped: make(chan struct{}),
	}
	if opts.Updater.Progress == nil && len(opts.Observers) > 0 {
		opts.Updater.Progress = d.progress
	}
	return d, nil
}

// ErrAlreadyServed: another daemon serves one of the roots. The error is
// a *ServedError naming it.
var ErrAlreadyServed = errors.New("root already served by another modup daemon")

// ServedError names the daemon that serves a root already.
type ServedError struct {
	Root   string
	Holder *pkgdir.LockedError
}

func (e *ServedError) Error() string {
	who := "another modup process"
	if h := e.Holder; h != nil && h.PID != 0 {
		who = fmt.Sprintf("modup (pid %d, `%s`, since %s)", h.PID, h.Command, h.Since.Local().Format(time.DateTime))
	}
	return fmt.Sprintf("root %s is served by %s; stop it first, or give this daemon other roots", e.Root, who)
}

// Is makes errors.Is(err, ErrAlreadyServed) true.
func (e *ServedError) Is(target error) bool { return target == ErrAlreadyServed }

// claimRoots takes the daemon lock of every root that exists, so that a
// second daemon on one of them refuses to start, naming the first.
func (d *Daemon) claimRoots(ctx context.Context) ([]*pkgdir.Lock, error) {
	var held []*pkgdir.Lock
	for _, root := range d.opts.Roots {
		if pkgdir.CheckRoot(root) != nil {
			continue // polled, and claimed when it appears
		}
		lk, err := pkgdir.Layout{Root: root}.LockDaemon(ctx)
		var le *pkgdir.LockedError
		switch {
		case errors.As(err, &le):
			for _, h := range held {
				h.Unlock()
			}
			return nil, &ServedError{Root: root, Holder: le}
		case err != nil:
			for _, h := range held {
				h.Unlock()
			}
			return nil, err
		}
		held = append(held, lk)
	}
	return held, nil
}

// Run runs until ctx is cancelled, then stops new work, lets in-flight work
// finish or roll back within ShutdownGrace, and returns nil. It refuses to
// start (ErrAlreadyServed) when another daemon serves one of its roots.
func (d *Daemon) Run(ctx context.Context) error {
	claims, err := d.claimRoots(ctx)
	if err != nil {
		return err
	}
	defer func() {
		for _, lk := range claims {
			lk.Unlock()
		}
	}()
	// Callers waiting on the loop (the API) hear that it ended. A daemon
	// refused above has not started: it may still Run.
	defer close(d.stopped)

	// Work gets its own context: at shutdown downloads are cancelled (they
	// clean up after themselves) while a swap that has begun completes.
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	hookCtx, cancelHooks := context.WithCancel(context.WithoutCancel(ctx))
	d.hookCtx = hookCtx
	defer func() {
		d.hookMu.Lock()
		d.hooksClosed = true
		d.hookMu.Unlock()
		cancelHooks()
		d.hooks.Wait()
	}()

	if !d.opts.NoWatch {
		w, err := newWatcher(d.opts.Roots, d.opts.Debounce, d.log)
		if err != nil {
			d.log.Warn("file watching unavailable; relying on the interval", "error", err.Error())
		} else {
			d.watch = w
			defer w.Close()
		}
	}
	for _, root := range d.opts.Roots {
		recs, err := pkgdir.Layout{Root: root}.Recover(ctx)
		for _, r := range recs {
			d.log.Info("recovered", "package", r.Package, "action", r.Action, "detail", r.Detail)
		}
		if err != nil {
			d.log.Error("recovery", "root", root, "error", err.Error())
		}
	}
	d.scan(time.Now(), true)
	d.started = time.Now()
	d.log.Info("daemon started", "roots", len(d.opts.Roots), "packages", len(d.entries),
		"interval", d.opts.Interval.String(), "policy", string(d.opts.Policy), "concurrency", d.opts.Concurrency)

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	poll := time.NewTicker(d.opts.RootPoll)
	defer poll.Stop()
	var touched <-chan []key
	var overflow <-chan struct{}
	var rootMoved <-chan string
	if d.watch != nil {
		touched, overflow, rootMoved = d.watch.touched, d.watch.overflow, d.watch.rootMoved
	}
	for {
		now := time.Now()
		d.dispatch(workCtx, now)
		wait := time.Hour
		if d.running < d.opts.Concurrency && d.queue.Len() > 0 {
			wait = max(d.queue[0].due.Sub(now), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			cancelWork()
			d.drain()
			d.log.Info("daemon stopped")
			return nil
		case <-timer.C:
		case keys := <-touched:
			d.touch(keys, time.Now())
		case <-overflow:
			d.log.Warn("file events overflowed; rescanning the roots")
			d.scan(time.Now(), false)
		case <-poll.C:
			d.pollRoots(time.Now())
		case root := <-rootMoved:
			d.root(root).moved = true
			d.pollRoots(time.Now())
		case <-d.opts.Rescan:
			d.log.Info("rescanning the roots")
			d.scan(time.Now(), false)
		case res := <-d.results:
			d.finish(res, time.Now())
		case c := <-d.calls:
			c.fn(workCtx, time.Now())
			close(c.done)
		case res := <-d.opDone:
			d.finishOp(res)
		}
	}
}

// drain waits for running jobs and changes, at most ShutdownGrace.
func (d *Daemon) drain() {
	deadline := time.After(d.opts.ShutdownGrace)
	for d.running > 0 || d.ops > 0 {
		select {
		case res := <-d.results:
			d.finish(res, time.Now())
		case res := <-d.opDone:
			d.finishOp(res)
		case <-deadline:
			d.log.Warn("stopping with work still running", "jobs", d.running+d.ops)
			return
		}
	}
}

// scan syncs the schedule with every root's folders (see scanRoot). At
// start, the packages that are due are spread over a time that grows with
// their number (see startSpread).
func (d *Daemon) scan(now time.Time, initial bool) {
	var due []*entry
	for _, root := range d.opts.Roots {
		due = append(due, d.scanRoot(root, now, initial, false)...)
	}
	spread := d.startSpread(len(due))
	for _, e := range due {
		if spread > 0 {
			e.due = now.Add(rand.N(spread))
		}
		d.queue.push(e)
	}
}

// startSpread is how long the checks due at start are spread over: none
// for as many as run at once, then growing with their number up to
// StartSpread for a thousand and more. A user with a handful of packages
// sees them checked at once; 10,000 never hit their hosts together.
func (d *Daemon) startSpread(due int) time.Duration {
	if due <= d.opts.Concurrency || d.opts.StartSpread <= 0 {
		return 0
	}
	const full = 1000 // due packages that get the whole StartSpread
	return min(d.opts.StartSpread, time.Duration(due)*(d.opts.StartSpread/full))
}

// scanRoot syncs the schedule with one root's folders. At start, the
// persisted schedule is honoured and due packages are spread over
// StartSpread; later, new packages are due at once. A root that cannot be
// read is marked missing (pollRoots scans it when it is back). rewatch
// re-adds the watches of packages already scheduled (the root folder was
// replaced or moved back, so the old watches point elsewhere). At start,
// the new entries due now are returned for scan to spread and queue;
// every other new entry is queued here.
func (d *Daemon) scanRoot(root string, now time.Time, initial, rewatch bool) (dueAtStart []*entry) {
	ri := d.root(root)
	pkgs, err := pkgdir.ScanRoot(root)
	if err != nil {
		d.rootMissing(root, now, err)
		return nil
	}
	ri.info, _ = os.Stat(root)
	ri.moved = false
	if d.watch != nil {
		d.watch.addRoot(root)
	}
	states, err := ReadStates(root)
	if err != nil {
		d.log.Warn("read state", "root", root, "error", err.Error())
	}
	seen := map[key]bool{}
	for _, p := range pkgs {
		k := key{root: root, name: p.Name}
		seen[k] = true
		if _, ok := d.entries[k]; ok {
			if rewatch && d.watch != nil {
				d.watch.addPackage(k.dir())
			}
			continue
		}
		e := &entry{key: k, idx: -1}
		d.entries[k] = e
		if d.watch != nil {
			d.watch.addPackage(k.dir())
		}
		e.due = now
		if st, ok := states[p.Name]; ok {
			e.state = st
		}
		if st, ok := states[p.Name]; ok && !st.NextCheck.IsZero() {
			// Keep the schedule across restarts, but never wait longer
			// than the (maybe shortened) interval.
			e.due = minTime(st.NextCheck, st.LastCheck.Add(d.opts.Interval))
			e.fp = stat(k.dir())
		}
		// A state written while the clock was ahead must not stop
		// checks until that date.
		e.due = minTime(e.due, now.Add(d.opts.Interval))
		if initial && !e.due.After(now) {
			dueAtStart = append(dueAtStart, e)
			continue
		}
		d.queue.push(e)
	}
	for k, e := range d.entries {
		if k.root == root && !seen[k] && !e.running {
			d.drop(e)
		}
	}
	d.pruneStates(root, states, now)
	return dueAtStart
}

// pruneStates drops the state files of root's packages gone for more
// than one interval.
func (d *Daemon) pruneStates(root string, states map[string]State, now time.Time) {
	d.lastPrune = now
	removed, err := PruneStates(root, states, func(st State) bool {
		_, scheduled := d.entries[key{root: root, name: st.Name}]
		return !scheduled && Forgotten(st, now, d.opts.Interval)
	})
	if len(removed) > 0 {
		d.log.Info("forgot the state of packages gone for more than an interval", "root", root, "packages", len(removed))
	}
	if err != nil {
		d.log.Warn("prune state", "root", root, "error", err.Error())
	}
}

// rootInfo is what the daemon knows of one root folder.
type rootInfo struct {
	info   os.FileInfo // the folder as last scanned; nil while missing
	warned time.Time   // last "root missing" warning
	moved  bool        // the watcher saw the root itself moved or removed
}

func (d *Daemon) root(root string) *rootInfo {
	ri, ok := d.roots[root]
	if !ok {
		ri = &rootInfo{}
		d.roots[root] = ri
	}
	return ri
}

// rootMissing records that root cannot be read: its packages leave the
// schedule (their state files stay), and a warning is logged once, then
// every RootWarnEvery while it stays missing.
func (d *Daemon) rootMissing(root string, now time.Time, err error) {
	ri := d.root(root)
	if ri.info == nil && !ri.warned.IsZero() {
		if now.Sub(ri.warned) >= d.opts.RootWarnEvery {
			ri.warned = now
			d.log.Warn("root still missing; its packages are not checked", "root", root, "error", err.Error())
		}
		return
	}
	ri.info, ri.warned = nil, now
	d.log.Warn("root missing; its packages are checked again when it is back", "root", root, "error", err.Error())
	for k, e := range d.entries {
		if k.root != root || e.running {
			continue
		}
		d.drop(e)
		if d.watch != nil {
			d.watch.removePath(k.dir())
		}
	}
	if d.watch != nil {
		d.watch.removePath(root)
	}
}

// pollRoots notices roots that appeared, vanished, or were replaced or
// moved away and back since they were scanned, which the watcher cannot
// see (a watch follows the folder, not its name).
func (d *Daemon) pollRoots(now time.Time) {
	prune := now.Sub(d.lastPrune) >= min(d.opts.Interval, time.Hour)
	for _, root := range d.opts.Roots {
		ri := d.root(root)
		fi, err := os.Stat(root)
		if err == nil && !fi.IsDir() {
			err = fmt.Errorf("%s is not a folder", root)
		}
		switch {
		case err != nil:
			d.rootMissing(root, now, err)
		case ri.info == nil:
			d.log.Info("root found; scanning it", "root", root)
			d.scanRoot(root, now, false, false)
		case ri.moved || !os.SameFile(ri.info, fi):
			d.log.Info("root moved or replaced; rescanning it", "root", root)
			if d.watch != nil {
				d.watch.removePath(root)
			}
			d.scanRoot(root, now, false, true)
		case prune:
			states, err := ReadStates(root)
			if err != nil {
				d.log.Warn("read state", "root", root, "error", err.Error())
				continue
			}
			d.pruneStates(root, states, now)
		}
	}
}

// touch handles packages the watcher saw change.
func (d *Daemon) touch(keys []key, now time.Time) {
	for _, k := range keys {
		fp := stat(k.dir())
		e, ok := d.entries[k]
		switch {
		case !fp.exists && !ok:
			continue
		case !fp.exists:
			if !e.running {
				d.drop(e)
				d.log.Info("package gone", "package", k.name, "root", k.root)
			}
			continue
		case !ok:
			e = &entry{key: k, idx: -1, due: now}
			d.entries[k] = e
			d.log.Info("new package", "package", k.name, "root", k.root)
			if d.watch != nil {
				d.watch.addPackage(k.dir())
			}
			d.queue.push(e)
			continue
		}
		if d.watch != nil {
			d.watch.addPackage(k.dir()) // the folder may be a new one under the old name
		}
		if e.running {
			e.recheck = true
			continue
		}
		if fp.same(e.fp) {
			continue // what the last job left: our own write
		}
		d.log.Info("package changed", "package", k.name, "root", k.root)
		d.queue.remove(e)
		e.due = now
		d.queue.push(e)
	}
}

// dispatch starts due jobs while there is capacity.
func (d *Daemon) dispatch(ctx context.Context, now time.Time) {
	for d.running < d.opts.Concurrency && d.queue.Len() > 0 && !d.queue[0].due.After(now) {
		e := heap.Pop(&d.queue).(*entry)
		e.running = true
		d.running++
		go func(k key, prev updater.Status) {
			d.results <- d.job(ctx, k, prev)
		}(e.key, e.state.Status)
	}
}

// finish records a job's result and schedules the package's next check.
func (d *Daemon) finish(res jobResult, now time.Time) {
	d.running--
	e, ok := d.entries[res.key]
	if !ok {
		return
	}
	e.running = false
	if res.gone {
		d.drop(e)
		return
	}
	e.fp = res.fp
	if d.watch != nil && res.changed {
		d.watch.addPackage(res.key.dir()) // our swap put a new folder there
	}
	next := d.next(res, now)
	if e.recheck {
		e.recheck = false
		if !stat(e.dir()).same(e.fp) {
			next = now
		}
	}
	if len(e.later) > 0 {
		next = now
	}
	e.due = next
	d.queue.push(e)
	st := res.state
	st.NextCheck = next
	e.state = st
	if err := WriteState(res.key.root, st); err != nil {
		d.log.Warn("write state", "package", res.key.name, "error", err.Error())
	}
	d.answer(e, res)
	e.waiters, e.later = e.later, nil
}

// drop forgets entry e (its package is gone), answering whoever waits for
// its next job.
func (d *Daemon) drop(e *entry) {
	d.queue.remove(e)
	delete(d.entries, e.key)
	e.waiters, e.later = append(e.waiters, e.later...), nil
	d.answer(e, jobResult{key: e.key, gone: true})
}

// answer gives res to those waiting for e's next job.
func (d *Daemon) answer(e *entry, res jobResult) {
	for _, w := range e.waiters {
		w <- res // buffered for every key the waiter asked for
	}
	e.waiters = nil
}

// next is when a package is checked again: one interval with jitter, or
// sooner after an error, or when a rate limit resets; never later than
// now + interval.
func (d *Daemon) next(res jobResult, now time.Time) time.Time {
	var rl *sources.RateLimitError
	if errors.As(res.err, &rl) && rl.Reset.After(now) {
		// A reset the remote puts years ahead waits one interval at most.
		return minTime(rl.Reset.Add(rand.N(time.Minute)), now.Add(d.opts.Interval))
	}
	if res.state.Status == updater.StatusError || (res.state.LastUpdate != nil && res.state.LastUpdate.Status == updater.StatusFailed) {
		return now.Add(d.jitter(d.opts.ErrorRetry))
	}
	return now.Add(d.jitter(d.opts.Interval))
}

func (d *Daemon) jitter(iv time.Duration) time.Duration {
	f := 1 + d.opts.Jitter*(2*rand.Float64()-1)
	return time.Duration(float64(iv) * f)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// fingerprint identifies a package's manifest file as a job left it, so
// that file events caused by modup's own writes are recognised.
type fingerprint struct {
	exists bool
	info   os.FileInfo
}

func stat(dir string) fingerprint {
	fi, err := os.Stat(filepath.Join(dir, pkgdir.ManifestFile))
	if err != nil {
		return fingerprint{}
	}
	return fingerprint{exists: true, info: fi}
}

func (f fingerprint) same(g fingerprint) bool {
	if !f.exists || !g.exists {
		return f.exists == g.exists
	}
	return os.SameFile(f.info, g.info) && f.info.Size() == g.info.Size() && f.info.ModTime().Equal(g.info.ModTime())
}
