package daemon

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/internal/testpkg"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// recorder is an Observer keeping every event.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Observe(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// of returns the events about pkg, in order.
func (r *recorder) of(pkg string) []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Event
	for _, e := range r.events {
		if e.Package == pkg {
			out = append(out, e)
		}
	}
	return out
}

func (r *recorder) count(pkg string, t EventType) int {
	n := 0
	for _, e := range r.of(pkg) {
		if e.Type == t {
			n++
		}
	}
	return n
}

// types is the sequence of event types about pkg, progress steps folded
// into one.
func types(es []Event) []EventType {
	var out []EventType
	for _, e := range es {
		if e.Type == EventProgress && len(out) > 0 && out[len(out)-1] == EventProgress {
			continue
		}
		out = append(out, e.Type)
	}
	return out
}

// A check that finds an update, under --policy auto, tells observers each
// step: the check, the update found, the download, the install.
func TestEventsOfACheckAndInstall(t *testing.T) {
	f := newFixture(t)
	rec := &recorder{}
	f.opts.Observers = []Observer{rec}
	rel := filepath.Join(f.rels, "pkg")
	fsRelease(t, rel, "pkg", "1.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	f.start(t)
	waitFor(t, "install", f.logs, func() bool { return rec.count("pkg", EventInstalled) == 1 })

	es := rec.of("pkg")
	want := []EventType{EventCheckStarted, EventCheckFinished, EventUpdateAvailable, EventProgress, EventInstalled}
	if got := types(es); !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	fin, avail, inst := es[1], es[2], es[len(es)-1]
	if fin.Status != updater.StatusUpdateAvailable || fin.Installed != "1.0.0" || fin.Available != "1.1.0" || fin.Root != f.root || fin.Time.IsZero() {
		t.Errorf("check-finished %+v", fin)
	}
	if avail.Installed != "1.0.0" || avail.Available != "1.1.0" {
		t.Errorf("update-available %+v", avail)
	}
	last := es[len(es)-2]
	if last.Type != EventProgress || last.Total <= 0 || last.Done != last.Total {
		t.Errorf("last progress %+v, want the whole download", last)
	}
	if inst.From != "1.0.0" || inst.To != "1.1.0" || inst.Status != updater.StatusUpdated || inst.Action != pkgdir.HistoryUpdate {
		t.Errorf("installed %+v", inst)
	}
}

// Check runs the daemon's own check now and answers once it is done and
// recorded; update-available is said once per version, not per check.
func TestCheckNow(t *testing.T) {
	f := newFixture(t)
	f.opts.Policy = PolicyNotify
	rec := &recorder{}
	f.opts.Observers = []Observer{rec}
	rel := filepath.Join(f.rels, "pkg")
	fsRelease(t, rel, "pkg", "1.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	testpkg.WriteFile(t, filepath.Join(f.root, "local", "a2modsource.json"), testpkg.Manifest("local", "0.1.0", ""))
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return rec.count("pkg", EventCheckFinished) == 1 })

	before := time.Now()
	res, err := f.d.Check(t.Context(), []string{"pkg"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "pkg" || res[0].Status != updater.StatusUpdateAvailable || res[0].Available != "1.1.0" {
		t.Fatalf("Check = %+v", res)
	}
	if n := rec.count("pkg", EventCheckFinished); n != 2 {
		t.Errorf("%d checks finished, want 2 (start, then Check)", n)
	}
	if n := rec.count("pkg", EventUpdateAvailable); n != 1 {
		t.Errorf("update-available said %d times, want once", n)
	}
	// Recorded before Check returned.
	if last := checkTime(t, f, "pkg"); last.Before(before) {
		t.Errorf("last check %v, before Check was called (%v)", last, before)
	}

	all, err := f.d.Check(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range all {
		names = append(names, r.Name+":"+string(r.Status))
	}
	if want := []string{"local:local", "pkg:update-available"}; !slices.Equal(names, want) {
		t.Errorf("Check(all) = %v, want %v", names, want)
	}
	if _, err := f.d.Check(t.Context(), []string{"pkg", "nope"}); !errors.Is(err, pkgdir.ErrNoPackage) {
		t.Errorf("Check of an unknown package = %v, want ErrNoPackage", err)
	}
}

// checkTime is the last check of pkg as Statuses reports it.
func checkTime(t *testing.T, f *fixture, pkg string) *time.Time {
	t.Helper()
	sts, err := Statuses([]string{f.root}, pkg)
	if err != nil || len(sts) != 1 || sts[0].LastCheck == nil {
		t.Fatalf("Statuses(%s) = %+v, %v", pkg, sts, err)
	}
	return sts[0].LastCheck
}

// Update and Rollback change packages through the updater as the CLI does,
// record the outcome in the state (Statuses shows it at once), tell
// observers, and fail at once naming the holder when the package is
// locked.
func TestUpdateAndRollback(t *testing.T) {
	f := newFixture(t)
	f.opts.Policy = PolicyNotify
	rec := &recorder{}
	f.opts.Observers = []Observer{rec}
	rel := filepath.Join(f.rels, "pkg")
	fsRelease(t, rel, "pkg", "1.1.0")
	dir := filepath.Join(f.root, "pkg")
	testpkg.WriteFile(t, filepath.Join(dir, "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	f.start(t)
	waitFor(t, "first check", f.logs, func() bool { return rec.count("pkg", EventCheckFinished) == 1 })

	chs, err := f.d.Update(t.Context(), []string{"pkg"}, updater.UpdateOptions{By: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if len(chs) != 1 || chs[0].Status != updater.StatusUpdated || chs[0].To != "1.1.0" {
		t.Fatalf("Update = %+v", chs)
	}
	if got := installed(t, dir); got != "version 1.1.0" {
		t.Errorf("installed %q", got)
	}
	sts, err := Statuses([]string{f.root}, "pkg")
	if err != nil || len(sts) != 1 {
		t.Fatal(sts, err)
	}
	if s := sts[0]; s.Installed != "1.1.0" || s.Status != updater.StatusUpToDate || s.Update == nil || s.Update.To != "1.1.0" || !slices.Equal(s.Backups, []string{"1.0.0"}) {
		t.Errorf("status after Update: %+v (update %+v)", s, s.Update)
	}
	if n := rec.count("pkg", EventInstalled); n != 1 {
		t.Errorf("installed said %d times", n)
	}
	if n := f.logs.count("install", "pkg", "status", "updated", "by", "api", "to", "1.1.0"); n != 1 {
		t.Errorf("%d log lines of the install, want 1; log:\n%s", n, f.logs.dump())
	}

	ch, err := f.d.Rollback(t.Context(), "pkg", updater.RollbackOptions{By: "api"})
	if err != nil || ch.Status != updater.StatusRolledBack || ch.To != "1.0.0" {
		t.Fatalf("Rollback = %+v, %v", ch, err)
	}
	sts, _ = Statuses([]string{f.root}, "pkg")
	if s := sts[0]; s.Installed != "1.0.0" || s.Status != updater.StatusUpdateAvailable {
		t.Errorf("status after Rollback: %+v", s)
	}
	if n := rec.count("pkg", EventRolledBack); n != 1 {
		t.Errorf("rolled-back said %d times", n)
	}
	h, err := pkgdir.ReadHistory([]string{f.root}, "pkg", 0)
	if err != nil || len(h) != 2 || h[0].By != "api" || h[1].Action != pkgdir.HistoryRollback {
		t.Errorf("history %+v, %v", h, err)
	}

	lk, err := pkgdir.Layout{Root: f.root}.Lock(t.Context(), "pkg", 0)
	if err != nil {
		t.Fatal(err)
	}
	chs, err = f.d.Update(t.Context(), []string{"pkg"}, updater.UpdateOptions{})
	lk.Unlock()
	var le *pkgdir.LockedError
	if err != nil || len(chs) != 1 || chs[0].Status != updater.StatusFailed || !errors.As(chs[0].Err, &le) {
		t.Errorf("Update of a locked package = %+v, %v; want a failure with a *pkgdir.LockedError", chs, err)
	}
	if n := rec.count("pkg", EventFailed); n != 1 {
		t.Errorf("failed said %d times", n)
	}
	if _, err := f.d.Update(t.Context(), []string{"nope"}, updater.UpdateOptions{}); !errors.Is(err, pkgdir.ErrNoPackage) {
		t.Errorf("Update of an unknown package = %v", err)
	}
}

// Info describes the running daemon; once it stopped, every call says so.
func TestInfoAndStopped(t *testing.T) {
	f := newFixture(t)
	f.opts.Policy = PolicyNotify
	f.opts.Version = "9.9.9"
	testpkg.WriteFile(t, filepath.Join(f.root, "local", "a2modsource.json"), testpkg.Manifest("local", "0.1.0", ""))
	stop := f.start(t)
	in, err := f.d.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if in.Version != "9.9.9" || !slices.Equal(in.Roots, []string{f.root}) || in.Interval != "1h0m0s" || in.Policy != PolicyNotify ||
		in.Concurrency != 2 || in.Started.IsZero() || in.Packages != 1 || len(in.RateLimits) != 1 {
		t.Errorf("Info = %+v", in)
	}
	stop()
	if _, err := f.d.Info(t.Context()); !errors.Is(err, ErrStopped) {
		t.Errorf("Info after stop = %v, want ErrStopped", err)
	}
	if _, err := f.d.Check(t.Context(), nil); !errors.Is(err, ErrStopped) {
		t.Errorf("Check after stop = %v, want ErrStopped", err)
	}
}

// gate holds the job that publishes pkg's first check-finished until
// released: that check is still running meanwhile.
type gate struct {
	pkg     string
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (g *gate) Observe(e Event) {
	if e.Package != g.pkg || e.Type != EventCheckFinished {
		return
	}
	g.once.Do(func() {
		close(g.held)
		<-g.release
	})
}

// A Check that comes while the package's check runs is answered by a
// check that starts after it asked, not by the one in flight (which may
// have read the package before).
func TestCheckWhileChecking(t *testing.T) {
	f := newFixture(t)
	f.opts.Policy = PolicyNotify
	rec := &recorder{}
	g := &gate{pkg: "pkg", held: make(chan struct{}), release: make(chan struct{})}
	f.opts.Observers = []Observer{g, rec}
	rel := filepath.Join(f.rels, "pkg")
	fsRelease(t, rel, "pkg", "1.1.0")
	testpkg.WriteFile(t, filepath.Join(f.root, "pkg", "a2modsource.json"), testpkg.Manifest("pkg", "1.0.0", rel))
	f.start(t)
	<-g.held

	type answer struct {
		res []updater.Result
		err error
	}
	done := make(chan answer, 1)
	asked := time.Now()
	go func() {
		res, err := f.d.Check(t.Context(), []string{"pkg"})
		done <- answer{res, err}
	}()
	// Wait until the loop has taken the request (it runs calls in order).
	k := key{root: f.root, name: "pkg"}
	for registered := false; !registered; {
		if err := f.d.do(t.Context(), func(context.Context, time.Time) {
			e := f.d.entries[k]
			registered = e != nil && len(e.later) == 1
		}); err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	a := <-done
	if a.err != nil || len(a.res) != 1 || a.res[0].Status != updater.StatusUpdateAvailable {
		t.Fatalf("Check = %+v, %v", a.res, a.err)
	}
	if n := rec.count("pkg", EventCheckFinished); n != 2 {
		t.Errorf("%d checks finished, want 2 (the one running, then one for Check)", n)
	}
	if last := checkTime(t, f, "pkg"); last.Before(asked) {
		t.Errorf("Check answered with the check in flight (at %v, asked at %v)", last, asked)
	}
}
