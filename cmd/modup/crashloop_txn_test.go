package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// TestCrashLoopTransaction is the crash loop of a change of several
// packages: app N requires lib ^N, so `modup update --all` moves both to
// N+1 in one transaction. Each iteration publishes the next version of
// both if the last one went through, runs the update in a child process
// and SIGKILLs it at a random instant or when the download, the
// extraction or the transaction has begun, or once it is over; then
// `modup check` recovers, and the test requires:
//
//   - lib and app are each wholly a known version, and the same one: both
//     old or both new, never one of each;
//   - every backup is wholly the version it is named after;
//   - nothing is left in tmp/, staging/ or journal/, no lock is held;
//   - an update that was not killed reported both updated.
//
// Then it installs app and lib (which app requires) into new roots, each
// install killed at a random instant, once its journal is written, once
// lib is in place and app not yet, or once the journal is gone again:
// afterwards both are installed, wholly, or neither is.
//
// MODUP_CRASH_ITERATIONS sets the number of iterations (default 50; 10
// with -short), as for TestCrashLoop.
func TestCrashLoopTransaction(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL")
	}
	iterations := advIterations(t, "MODUP_CRASH_ITERATIONS", 50, 10)
	const files, size = 150, 2048
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(iterations)*20*time.Second+time.Minute)
	defer cancel()

	base := t.TempDir()
	root := filepath.Join(base, "root")
	rels := map[string]string{"lib": filepath.Join(base, "releases", "lib"), "app": filepath.Join(base, "releases", "app")}
	hashes := map[string]map[string]string{"lib": {}, "app": {}}
	// publish makes version n of both downloadable and points both
	// remote manifests at it.
	publish := func(n int) string {
		v := fmt.Sprintf("%d.0.0", n)
		for name, rel := range rels {
			tree := advTree(name, v, rel, files, size)
			fields := map[string]any{"name": name, "version": v, "update_url": rel}
			if name == "app" {
				fields["manifest_version"] = 2
				fields["requires"] = map[string]any{"packages": map[string]any{"lib": fmt.Sprintf("^%d", n)}}
			}
			b, err := json.MarshalIndent(fields, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			tree["a2modsource.json"] = string(b) + "\n"
			advPublish(t, rel, name, v, map[string]advFiles{v: tree})
			delete(fields, "update_url")
			pointer, _ := json.MarshalIndent(fields, "", "  ")
			if err := os.WriteFile(filepath.Join(rel, "a2modsource.json"), pointer, 0o644); err != nil {
				t.Fatal(err)
			}
			hashes[name][v] = advHash(t, tree)
		}
		return v
	}

	// state checks both packages after a run; it returns their common
	// version ("" when they differ) and the problems found.
	state := func() (string, []string) {
		var problems []string
		versions := map[string]string{}
		for _, name := range []string{"lib", "app"} {
			v, ps := advCheckPackage(ctx, root, name, hashes[name])
			versions[name] = v
			problems = append(problems, ps...)
		}
		if versions["lib"] != versions["app"] {
			problems = append(problems, fmt.Sprintf("lib is %s and app is %s: a transaction left one old and one new", versions["lib"], versions["app"]))
			return "", problems
		}
		return versions["lib"], problems
	}

	cur := publish(1)
	if code, out, errOut := advRun(ctx, nil, "install", rels["lib"], rels["app"], "--root", root); code != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	if v, problems := state(); v != cur || len(problems) > 0 {
		t.Fatalf("after install: %s %v", v, problems)
	}
	args := []string{"update", "--all", "--root", root, "--json", "--keep-backups", "2"}
	next := 2
	target := publish(next)
	uncut := advStart(t, args...)
	uncut.wait(t, time.Minute)
	if v, problems := state(); uncut.code != 0 || v != target || len(problems) > 0 {
		t.Fatalf("uncut update: %v\n%s %v", uncut, v, problems)
	}
	window := uncut.end.Sub(uncut.start)
	cur = target
	t.Logf("uncut update of both: %s", window.Round(time.Millisecond))

	l := pkgdir.Layout{Root: root}
	txnDir := l.TxnJournalDir()
	modes := []string{"delay", "delay", "download", "extract", "journal", "member", "swapped"}
	landed := map[string]int{}
	failures, ran := 0, 0
	for i := range iterations {
		if ctx.Err() != nil {
			t.Errorf("out of time after %d iterations", i)
			break
		}
		ran++
		if cur == target {
			next++
			target = publish(next)
		}
		mode := modes[i%len(modes)]
		p := advStart(t, args...)
		phase := advKillTxnWhen(p, mode, window, l, txnDir, cur, func() string {
			switch {
			case advNonEmpty(txnDir, false) && advExists(filepath.Join(l.BackupsDir(), "lib", cur)) && !advExists(filepath.Join(l.BackupsDir(), "app", cur)):
				return "transaction (lib moved, app not yet)"
			case advNonEmpty(txnDir, false):
				return "transaction (journal pending)"
			case advNonEmpty(l.StagingDir(), true):
				return "extraction (staging)"
			case advNonEmpty(l.TmpDir(), true) || advNonEmpty(l.TmpDir(), false):
				return "download or pruning (tmp)"
			}
			h, err := pkgdir.TreeHash(filepath.Join(root, "app"))
			if err == nil && h == hashes["app"][target] {
				return "after the transaction"
			}
			return "start-up (nothing begun yet)"
		})
		p.wait(t, time.Minute)
		if !p.killed {
			phase = "not killed: finished first"
		}
		landed[phase]++

		var bad []string
		if !p.killed {
			chs, err := advChanges(p.stdout.String())
			if p.code != 0 || err != nil || len(chs) != 2 || chs[0].Status != "updated" || chs[1].Status != "updated" {
				bad = append(bad, fmt.Sprintf("the update was not killed but did not report both updated: %v", p))
			}
		}
		code, out, errOut := advRun(ctx, nil, "check", "--root", root)
		if code != exitOK && code != exitAvailable {
			bad = append(bad, fmt.Sprintf("check after the kill: exit %d\n%s\n%s", code, out, errOut))
		}
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if line != "" && !strings.HasPrefix(line, "modup: recovered ") {
				bad = append(bad, "check said: "+line)
			}
		}
		if left := advLeftovers(root); len(left) > 0 {
			bad = append(bad, fmt.Sprintf("left behind: %v", left))
		}
		v, problems := state()
		bad = append(bad, problems...)
		if v != "" && v != cur && v != target {
			bad = append(bad, fmt.Sprintf("went from %s to %s during an update to %s", cur, v, target))
		}
		if v != "" {
			cur = v
		}
		if len(bad) > 0 {
			failures++
			t.Errorf("iteration %d: killed by %q in %s:\n  %s\nkilled child: %v", i, mode, phase, strings.Join(bad, "\n  "), p)
			if failures >= 3 {
				break
			}
		}
	}
	var summary []string
	for _, k := range advSortedKeys(landed) {
		summary = append(summary, fmt.Sprintf("%s ×%d", k, landed[k]))
	}
	t.Logf("transaction crash loop: %d iterations, %d failures, now at %s; kills landed in: %s", ran, failures, cur, strings.Join(summary, "; "))
	if failures != 0 {
		t.Errorf("%d of %d iterations failed", failures, ran)
	}

	// A transitive install: app and the lib it requires, into a new root
	// each time, killed at random; after recovery both are installed,
	// wholly, or neither is.
	installs := max(iterations/2, 1)
	whole := advStart(t, "install", rels["app"], rels["lib"], "--root", filepath.Join(base, "uncut"))
	whole.wait(t, time.Minute)
	if whole.code != 0 {
		t.Fatalf("uncut install: %v", whole)
	}
	installWindow := whole.end.Sub(whole.start)
	both, none, ifail := 0, 0, 0
	for i := range installs {
		if ctx.Err() != nil {
			t.Errorf("out of time after %d installs", i)
			break
		}
		fresh := filepath.Join(base, fmt.Sprintf("fresh%d", i))
		p := advStart(t, "install", rels["app"], rels["lib"], "--root", fresh)
		fl := pkgdir.Layout{Root: fresh}
		mode := []string{"delay", "journal", "member", "swapped"}[i%4]
		advKillTxnWhen(p, mode, installWindow, fl, fl.TxnJournalDir(), "", func() string { return "" })
		p.wait(t, time.Minute)
		var bad []string
		if code, out, errOut := advRun(ctx, nil, "list", "--root", fresh); code != 0 && code != exitFailure {
			bad = append(bad, fmt.Sprintf("list after the kill: exit %d\n%s\n%s", code, out, errOut))
		}
		_, appErr := os.Lstat(filepath.Join(fresh, "app"))
		_, libErr := os.Lstat(filepath.Join(fresh, "lib"))
		switch {
		case appErr == nil && libErr == nil:
			both++
			for _, name := range []string{"lib", "app"} {
				if v, ps := advCheckPackage(ctx, fresh, name, hashes[name]); v != target {
					bad = append(bad, fmt.Sprintf("%s installed is %q, want %s: %v", name, v, target, ps))
				} else {
					bad = append(bad, ps...)
				}
			}
		case appErr != nil && libErr != nil:
			none++
		default:
			bad = append(bad, fmt.Sprintf("one of the two is installed (app: %v, lib: %v)", appErr, libErr))
		}
		if _, err := os.Stat(fresh); err == nil {
			if left := advLeftovers(fresh); len(left) > 0 {
				bad = append(bad, fmt.Sprintf("left behind: %v", left))
			}
		}
		if len(bad) > 0 {
			ifail++
			t.Errorf("install %d (killed %v):\n  %s", i, p.killed, strings.Join(bad, "\n  "))
			if ifail >= 3 {
				break
			}
		}
	}
	t.Logf("transitive installs killed at random within %s: %d, both installed %d, neither %d, failures %d", installWindow.Round(time.Millisecond), installs, both, none, ifail)
}

// advKillTxnWhen SIGKILLs p as advKillWhen does, watching the whole root
// (several packages) and the transaction's journal: "journal" kills once
// it is written, "member" once the first member (lib) has left its place
// (the other has not necessarily moved yet), "swapped" once it is gone
// again.
func advKillTxnWhen(p *advProc, mode string, window time.Duration, l pkgdir.Layout, txnDir, from string, at func() string) string {
	ready := func() bool { return false }
	seen := false
	switch mode {
	case "delay":
		deadline := p.start.Add(time.Duration(rand.Int64N(int64(window)*6/5 + 1)))
		ready = func() bool { return !time.Now().Before(deadline) }
	case "download":
		ready = func() bool {
			return advHasFile(filepath.Join(l.TmpDir(), "lib"), "download-") || advHasFile(filepath.Join(l.TmpDir(), "app"), "download-")
		}
	case "extract":
		ready = func() bool { return advNonEmpty(l.StagingDir(), true) }
	case "journal":
		ready = func() bool { return advNonEmpty(txnDir, false) }
	case "member":
		// The first member (lib) has moved (to its backup, or, installed
		// anew, into place), the other (app) not yet.
		ready = func() bool {
			if !advNonEmpty(txnDir, false) {
				return false
			}
			if from == "" {
				return advExists(filepath.Join(l.Root, "lib")) && !advExists(filepath.Join(l.Root, "app"))
			}
			return advExists(filepath.Join(l.BackupsDir(), "lib", from)) && !advExists(filepath.Join(l.BackupsDir(), "app", from))
		}
	case "swapped":
		ready = func() bool {
			if advNonEmpty(txnDir, false) {
				seen = true
				return false
			}
			return seen
		}
	}
	spin := mode == "journal" || mode == "member" || mode == "swapped"
	for !ready() {
		if p.exited() {
			return ""
		}
		if spin {
			runtime.Gosched()
		} else {
			time.Sleep(100 * time.Microsecond)
		}
	}
	if !spin && mode != "delay" {
		time.Sleep(time.Duration(rand.Int64N(int64(3 * time.Millisecond))))
	}
	phase := at()
	p.cmd.Process.Kill()
	return phase
}
