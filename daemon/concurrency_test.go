package daemon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// TestConcurrentUpdatersAndDaemon runs the daemon (auto policy, 200ms
// interval) while goroutines in this process update, downgrade, roll back
// and check the same packages through their own Updater, some with a lock
// timeout too short to wait. Under -race this is the in-process half of
// cmd/modup's TestConcurrentDaemonAndCLIs (which runs the CLI as separate
// processes): every change either succeeds, or fails because the package
// is locked (naming the holder) or has no backup to roll back to; every
// package ends wholly one version, with nothing left in .modup.
func TestConcurrentUpdatersAndDaemon(t *testing.T) {
	f := newFixture(t)
	f.opts.Interval = 200 * time.Millisecond
	f.opts.Debounce = 20 * time.Millisecond
	names := []string{"p0", "p1", "p2"}
	for _, n := range names {
		rel := filepath.Join(f.rels, n)
		fsRelease(t, rel, n, "1.0.0")
		fsRelease(t, rel, n, "2.0.0") // the pointer now names 2.0.0
	}
	newUpdater := func(lockTimeout time.Duration) *updater.Updater {
		return &updater.Updater{
			Sources: updater.NewSources(updater.Config{Getenv: f.getenv, HTTP: &httpx.Options{
				RetryWaitMin: time.Millisecond, RetryWaitMax: time.Millisecond}}),
			LockTimeout: lockTimeout, RetryWait: time.Millisecond,
		}
	}
	for _, n := range names {
		ch := newUpdater(time.Second).Install(t.Context(), f.root, filepath.Join(f.rels, n), updater.UpdateOptions{To: "1.0.0"})
		if ch.Status != updater.StatusInstalled {
			t.Fatalf("install %s: %+v", n, ch)
		}
	}
	stop := f.start(t)

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	const workers, ops = 4, 25
	var (
		mu     sync.Mutex
		counts = map[string]int{}
	)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lockTimeout := []time.Duration{20 * time.Millisecond, 20 * time.Second}[w%2]
			u := newUpdater(lockTimeout)
			for range ops {
				if ctx.Err() != nil {
					return
				}
				p, ok := pkgdir.Load(f.root, filepath.Join(f.root, names[rand.IntN(len(names))]))
				if !ok {
					t.Errorf("a package folder vanished")
					return
				}
				var ch updater.Change
				op := []string{"update", "downgrade", "rollback", "check"}[rand.IntN(4)]
				switch op {
				case "update":
					ch = u.Update(ctx, p, updater.UpdateOptions{})
				case "downgrade":
					ch = u.Update(ctx, p, updater.UpdateOptions{To: "1.0.0"})
				case "rollback":
					ch = u.Rollback(ctx, p, "")
				case "check":
					r := u.CheckOne(ctx, p)
					if r.Status != updater.StatusUpToDate && r.Status != updater.StatusUpdateAvailable {
						t.Errorf("check %s: %s %v", p.Name, r.Status, r.Err)
					}
					mu.Lock()
					counts["check "+string(r.Status)]++
					mu.Unlock()
					continue
				}
				key := op + " " + string(ch.Status)
				switch {
				case ch.Status == updater.StatusFailed && errors.Is(ch.Err, pkgdir.ErrLocked):
					var le *pkgdir.LockedError
					if !errors.As(ch.Err, &le) || le.Package != p.Name || lockTimeout > time.Second {
						t.Errorf("%s %s: %v (lock timeout %s)", op, p.Name, ch.Err, lockTimeout)
					}
					if le != nil && le.PID == os.Getpid() {
						key += " (locked, holder named)"
					} else {
						key += " (locked)"
					}
				case ch.Status == updater.StatusFailed && op == "rollback" && strings.HasPrefix(ch.Error, "no backups of"):
					key += " (no backup)"
				case ch.Status == updater.StatusFailed:
					t.Errorf("%s %s: %s", op, p.Name, ch.Error)
				}
				mu.Lock()
				counts[key]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stop()

	for _, n := range names {
		dir := filepath.Join(f.root, n)
		m, err := pkgdir.ReadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := installed(t, dir), "version "+m.Version; got != want {
			t.Errorf("%s: manifest says %s but the code is %q: a mix", n, m.Version, got)
		}
		l := pkgdir.Layout{Root: f.root}
		bs, err := l.Backups(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if got := installed(t, b.Dir); got != "version "+b.Version {
				t.Errorf("backup %s of version %s holds %q", b.Dir, b.Version, got)
			}
		}
		for _, sub := range []string{l.TmpDir(), l.StagingDir(), l.JournalDir()} {
			if ents, _ := os.ReadDir(sub); len(ents) > 0 {
				t.Errorf("left in %s: %v", sub, ents)
			}
		}
	}
	var summary []string
	for k, v := range counts {
		summary = append(summary, fmt.Sprintf("%s ×%d", k, v))
	}
	slices.Sort(summary)
	t.Logf("%d workers × %d operations with the daemon running: %s", workers, ops, strings.Join(summary, "; "))
}
