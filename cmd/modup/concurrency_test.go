package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modup/modup/daemon"
	"github.com/modup/modup/internal/httpx"
	"github.com/modup/modup/pkgdir"
	"github.com/modup/modup/updater"
)

// TestConcurrentDaemonAndCLIs runs the daemon in this process (auto
// policy, a 200ms interval) while rounds of modup processes update, roll
// back and check overlapping packages at once, some with a lock timeout
// too short to wait for each other. Every process must report truthfully:
// a change it made names versions that exist and the one it was asked
// for, and a failure is the lock held by another modup, named by a pid of
// one of the processes running (or a package with no backup to roll back
// to). After each round, with the packages' locks held, and at the end,
// every package and every backup must be wholly one known version; at the
// end nothing may be left in .modup. MODUP_CONCURRENCY_ROUNDS sets the
// rounds (default 8, 3 with -short).
func TestConcurrentDaemonAndCLIs(t *testing.T) {
	rounds := advIterations(t, "MODUP_CONCURRENCY_ROUNDS", 8, 3)
	const perRound = 6
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(rounds)*time.Minute+time.Minute)
	defer cancel()

	base := t.TempDir()
	root := filepath.Join(base, "root")
	pkgs := []string{"pa", "pb", "pc"}
	versions := []string{"1.0.0", "2.0.0", "3.0.0"}
	const latest = "3.0.0"
	hashes := map[string]map[string]string{}
	for _, name := range pkgs {
		rel := filepath.Join(base, "releases", name)
		trees := map[string]advFiles{}
		hashes[name] = map[string]string{}
		for _, v := range versions {
			trees[v] = advTree(name, v, rel, 100, 1024)
			hashes[name][v] = advHash(t, trees[v])
		}
		advPublish(t, rel, name, latest, trees)
		if code, out, errOut := advRun(ctx, nil, "install", rel, "--to", "1.0.0", "--root", root); code != 0 {
			t.Fatalf("install %s: exit %d\n%s\n%s", name, code, out, errOut)
		}
	}

	logs := &advBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := daemon.New(daemon.Options{
		Roots: []string{root}, Interval: 200 * time.Millisecond, Debounce: 50 * time.Millisecond,
		StartSpread: time.Millisecond, Concurrency: 2, ShutdownGrace: 30 * time.Second, Logger: logger,
		Updater: &updater.Updater{
			Sources: updater.NewSources(updater.Config{Logger: logger, HTTP: &httpx.Options{
				RetryWaitMin: time.Millisecond, RetryWaitMax: 5 * time.Millisecond}}),
			Logger: logger, LockTimeout: 30 * time.Second, RetryWait: time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	dctx, stopDaemon := context.WithCancel(ctx)
	daemonDone := make(chan error, 1)
	go func() { daemonDone <- d.Run(dctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		stopDaemon()
		select {
		case err := <-daemonDone:
			if err != nil {
				t.Errorf("daemon: %v", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("the daemon did not stop within a minute")
		}
	}
	defer stop()

	type job struct {
		args []string
		pkg  string // "" for --all and check
		to   string // the version asked for ("" for rollback and check)
	}
	var focus []string // the two packages a round's processes fight over
	newJob := func() job {
		p := focus[rand.IntN(len(focus))]
		lt := []string{"50ms", "20s"}[rand.IntN(2)]
		common := []string{"--root", root, "--json", "--lock-timeout", lt}
		switch rand.IntN(7) {
		case 0:
			return job{args: append([]string{"update", "--all"}, common...), to: latest}
		case 1:
			return job{args: append([]string{"rollback", p}, common...), pkg: p}
		case 2, 6:
			v := versions[rand.IntN(len(versions))]
			return job{args: append([]string{"update", p, "--to", v}, common...), pkg: p, to: v}
		case 3:
			return job{args: append([]string{"check"}, common...)}
		default:
			return job{args: append([]string{"update", p}, common...), pkg: p, to: latest}
		}
	}

	stats := map[string]int{}
	var statsMu sync.Mutex
	count := func(k string) {
		statsMu.Lock()
		stats[k]++
		statsMu.Unlock()
	}
	for round := range rounds {
		focus = []string{pkgs[round%len(pkgs)], pkgs[(round+1)%len(pkgs)]}
		jobs := make([]job, perRound)
		procs := make([]*advProc, perRound)
		for i := range jobs {
			jobs[i] = newJob()
			procs[i] = advStart(t, jobs[i].args...)
		}
		pids := map[int]bool{os.Getpid(): true}
		for _, p := range procs {
			pids[p.cmd.Process.Pid] = true
		}
		for i, p := range procs {
			p.wait(t, time.Minute)
			for _, problem := range advJudge(p, jobs[i].args[0], jobs[i].to, pids, versions, count) {
				t.Errorf("round %d: %s\n%v", round, problem, p)
			}
		}
		// Hold every lock while looking, so that the daemon is between
		// changes.
		var held []*pkgdir.Lock
		for _, name := range pkgs {
			lk, err := pkgdir.Layout{Root: root}.Lock(ctx, name, 30*time.Second)
			if err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
			held = append(held, lk)
		}
		for _, name := range pkgs {
			v, problems := advCheckPackageLock(ctx, root, name, hashes[name], false)
			for _, p := range problems {
				t.Errorf("round %d: %s", round, p)
			}
			count(name + " " + v)
		}
		for _, lk := range held {
			lk.Unlock()
		}
		if t.Failed() {
			break
		}
	}
	stop()

	for _, name := range pkgs {
		if _, problems := advCheckPackage(ctx, root, name, hashes[name]); len(problems) > 0 {
			t.Errorf("at the end: %v", problems)
		}
	}
	if left := advLeftovers(root); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	installs := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		switch {
		case rec["msg"] == "install" && rec["status"] == "updated":
			installs++
		case rec["msg"] == "install" && rec["status"] == "up-to-date":
			// A process installed it between the daemon's check and its lock.
		case rec["msg"] == "install" && rec["status"] == "failed" && strings.Contains(fmt.Sprint(rec["error"]), "stopped by shutdown"):
			// stop() cancelled it.
		case rec["msg"] == "install" || rec["msg"] == "check" && rec["status"] == "error" || rec["level"] == "ERROR":
			t.Errorf("daemon: %s", line)
		}
	}
	var summary []string
	for _, k := range advSortedKeys(stats) {
		summary = append(summary, fmt.Sprintf("%s ×%d", k, stats[k]))
	}
	t.Logf("%d rounds of %d processes with the daemon (%d installs by the daemon): %s", rounds, perRound, installs, strings.Join(summary, "; "))
}

var (
	advLockedRE   = regexp.MustCompile(`^(\S+) is being changed by (?:modup \(pid (\d+), |another modup process)`)
	advNoBackupRE = regexp.MustCompile(`^no backups? of \S+`)
)

// advJudge checks what one process reported against what it was asked:
// cmd is "update", "rollback" or "check"; to the version asked for.
func advJudge(p *advProc, cmd, to string, pids map[int]bool, versions []string, count func(string)) []string {
	known := func(v string) bool {
		for _, k := range versions {
			if k == v {
				return true
			}
		}
		return false
	}
	var bad []string
	if cmd == "check" {
		var out struct {
			Packages []struct {
				Name, Installed, Available, Status, Error string
			} `json:"packages"`
		}
		if err := json.Unmarshal([]byte(p.stdout.String()), &out); err != nil || len(out.Packages) == 0 {
			return []string{fmt.Sprintf("check: not its JSON: %v", err)}
		}
		if p.code != exitOK && p.code != exitAvailable {
			bad = append(bad, fmt.Sprintf("check: exit %d", p.code))
		}
		for _, r := range out.Packages {
			count("check: " + r.Status)
			if !known(r.Installed) || (r.Status != "up-to-date" && r.Status != "update-available") {
				bad = append(bad, fmt.Sprintf("check: %s %s %s %s", r.Name, r.Installed, r.Status, r.Error))
			}
		}
		return bad
	}
	chs, err := advChanges(p.stdout.String())
	if err != nil || len(chs) == 0 {
		return []string{fmt.Sprintf("%s: %v", cmd, err)}
	}
	failed := false
	for _, c := range chs {
		count(cmd + ": " + c.Status)
		switch c.Status {
		case "updated":
			if !known(c.From) || c.To != to || c.From == c.To {
				bad = append(bad, fmt.Sprintf("%s: updated %s from %q to %q, asked for %s", cmd, c.Name, c.From, c.To, to))
			}
		case "up-to-date":
			if c.From != to || c.To != to {
				bad = append(bad, fmt.Sprintf("%s: %s up to date at %q/%q, asked for %s", cmd, c.Name, c.From, c.To, to))
			}
		case "rolled-back", "rolled-forward":
			if cmd != "rollback" || !known(c.From) || !known(c.To) {
				bad = append(bad, fmt.Sprintf("%s: rolled %s back from %q to %q", cmd, c.Name, c.From, c.To))
			}
		case "failed":
			failed = true
			m := advLockedRE.FindStringSubmatch(c.Error)
			switch {
			case m != nil && m[2] != "":
				count(cmd + ": failed: locked, holder's pid named")
			case m != nil:
				count(cmd + ": failed: locked, holder not yet known")
			case advNoBackupRE.MatchString(c.Error):
				count(cmd + ": failed: no backup")
			}
			switch {
			case m != nil && m[1] == c.Name:
				if m[2] != "" {
					pid, _ := strconv.Atoi(m[2])
					if !pids[pid] {
						bad = append(bad, fmt.Sprintf("%s: %s names pid %d, which is none of the modup processes running (%v)", cmd, c.Name, pid, pids))
					}
				}
				if !strings.Contains(strings.Join(p.cmd.Args, " "), "--lock-timeout 50ms") {
					bad = append(bad, fmt.Sprintf("%s: gave up on the lock of %s despite a 20s lock timeout: %s", cmd, c.Name, c.Error))
				}
			case cmd == "rollback" && advNoBackupRE.MatchString(c.Error):
			default:
				bad = append(bad, fmt.Sprintf("%s: %s failed: %s", cmd, c.Name, c.Error))
			}
		default:
			bad = append(bad, fmt.Sprintf("%s: %s: status %q (%s)", cmd, c.Name, c.Status, c.Error))
		}
	}
	if want := map[bool]int{false: exitOK, true: exitFailure}[failed]; p.code != want {
		bad = append(bad, fmt.Sprintf("%s: exit %d, want %d", cmd, p.code, want))
	}
	return bad
}
