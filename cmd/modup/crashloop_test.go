package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/modup/modup/pkgdir"
)

// TestCrashLoop kills `modup update` and `modup rollback` with SIGKILL at
// random instants, over and over, and after each kill runs `modup check`
// (which recovers) and requires:
//
//   - the package is wholly the old or wholly the new version (tree hash);
//   - each backup is wholly a known version, under its own version's name;
//   - the install record does not contradict the folder;
//   - nothing is left in .modup/tmp, .modup/staging or .modup/journal, no
//     lock holder is recorded and the lock is free;
//   - a change that was not killed reported success.
//
// Each iteration flips the package: update when the old version is
// installed, rollback when the new one is, so both directions are killed.
// The kill lands after a random delay, or right when the download, the
// extraction or the swap has begun, or once the swap is done (pruning,
// clean-up): the log counts where kills landed, judged from what was on
// disk at that instant.
//
// MODUP_CRASH_ITERATIONS sets the number of iterations (default 50; 10
// with -short):
//
//	MODUP_CRASH_ITERATIONS=1000 go test -run '^TestCrashLoop$' -v ./cmd/modup
func TestCrashLoop(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs SIGKILL: on Windows a killed process's open handles and TerminateProcess's semantics make this a different test")
	}
	iterations := advIterations(t, "MODUP_CRASH_ITERATIONS", 50, 10)
	const (
		name     = "big"
		files    = 300
		oldV     = "1.0.0"
		newV     = "2.0.0"
		keepBack = "2"
	)
	ctx, cancel := context.WithTimeout(t.Context(), time.Duration(iterations)*20*time.Second+time.Minute)
	defer cancel()

	base := t.TempDir()
	root, rel := filepath.Join(base, "root"), filepath.Join(base, "releases", name)
	trees := map[string]advFiles{
		oldV: advTree(name, oldV, rel, files, 2048),
		newV: advTree(name, newV, rel, files, 2048),
	}
	advPublish(t, rel, name, newV, trees)
	hashes := map[string]string{oldV: advHash(t, trees[oldV]), newV: advHash(t, trees[newV])}

	if code, out, errOut := advRun(ctx, nil, "install", rel, "--to", oldV, "--root", root); code != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", code, out, errOut)
	}
	if v, problems := advCheckPackage(ctx, root, name, hashes); v != oldV || len(problems) > 0 {
		t.Fatalf("after install: %s %v", v, problems)
	}

	updateArgs := []string{"update", name, "--root", root, "--json", "--keep-backups", keepBack}
	rollbackArgs := []string{"rollback", name, "--root", root, "--json"}
	// Uncut runs first: they must work, and they time the kill window.
	timed := func(args []string, want string) time.Duration {
		p := advStart(t, args...)
		p.wait(t, time.Minute)
		if p.code != 0 {
			t.Fatalf("uncut run: %v", p)
		}
		if v, problems := advCheckPackage(ctx, root, name, hashes); v != want || len(problems) > 0 {
			t.Fatalf("after an uncut %s: %s %v", args[0], v, problems)
		}
		return p.end.Sub(p.start)
	}
	window := map[string]time.Duration{"update": timed(updateArgs, newV), "rollback": timed(rollbackArgs, oldV)}
	cur := oldV // checked after each iteration
	t.Logf("uncut: update %s, rollback %s (the random-delay kills land within 1.2× that)", window["update"].Round(time.Millisecond), window["rollback"].Round(time.Millisecond))

	l := pkgdir.Layout{Root: root}
	pkgTmp, pkgStaging, journal := filepath.Join(l.TmpDir(), name), filepath.Join(l.StagingDir(), name), l.JournalPath(name)
	landed := map[string]int{}
	turns := map[string]int{}
	failures := 0
	recovered := regexp.MustCompile(`^modup: recovered ` + name + `: (finished|rolled-back) \(.*\)$`)
	ran := 0
	for i := range iterations {
		if ctx.Err() != nil {
			t.Errorf("out of time after %d iterations", i)
			break
		}
		ran++
		op, args, target := "update", updateArgs, newV
		if cur == newV {
			op, args, target = "rollback", rollbackArgs, oldV
		}
		modes := []string{"delay", "delay", "journal", "swapped"}
		if op == "update" {
			modes = append(modes, "download", "extract", "prune")
		}
		// Each direction goes through its kill modes in turn.
		mode := modes[turns[op]%len(modes)]
		turns[op]++

		p := advStart(t, args...)
		phase := advKillWhen(p, mode, window[op], func() string {
			switch {
			case advExists(journal):
				return "swap (journal pending)"
			case advNonEmpty(pkgStaging, true):
				return "extraction (staging)"
			case advHasFile(pkgTmp, "prune-"):
				return "pruning (backup in tmp)"
			case advHasFile(pkgTmp, "download-"):
				return "download (tmp)"
			}
			if h, err := pkgdir.TreeHash(filepath.Join(root, name)); err == nil && h == hashes[target] {
				return "after the swap"
			}
			return "start-up (nothing begun yet)"
		})
		p.wait(t, time.Minute)
		if !p.killed {
			phase = "not killed: finished first"
		}
		landed[op+": "+phase]++

		var bad []string
		if !p.killed {
			chs, err := advChanges(p.stdout.String())
			want := map[string]string{"update": "updated", "rollback": "rolled-back"}[op]
			reported := ""
			if len(chs) == 1 {
				reported = chs[0].Status
				if op == "rollback" && reported == "rolled-forward" {
					reported = want // a rollback to a newer backup says so
				}
			}
			if p.code != 0 || err != nil || len(chs) != 1 || reported != want || chs[0].To != target {
				bad = append(bad, fmt.Sprintf("the %s was not killed but did not report %s to %s: %v", op, want, target, p))
			}
		}
		code, out, errOut := advRun(ctx, nil, "check", name, "--root", root)
		if code != exitOK && code != exitAvailable {
			bad = append(bad, fmt.Sprintf("check after the kill: exit %d\n%s\n%s", code, out, errOut))
		}
		for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
			if line != "" && !recovered.MatchString(line) {
				bad = append(bad, "check said: "+line)
			}
		}
		if left := advLeftovers(root); len(left) > 0 {
			bad = append(bad, fmt.Sprintf("left behind: %v", left))
		}
		v, problems := advCheckPackage(ctx, root, name, hashes)
		bad = append(bad, problems...)
		if !regexp.MustCompile(`(?m)^` + name + ` +` + regexp.QuoteMeta(v) + ` `).MatchString(out) {
			bad = append(bad, fmt.Sprintf("check does not show %s %s installed:\n%s", name, v, out))
		}
		if v != cur && v != target {
			bad = append(bad, fmt.Sprintf("%s went from %s to %s during a %s to %s", name, cur, v, op, target))
		}
		cur = v
		if len(bad) > 0 {
			failures++
			t.Errorf("iteration %d: %s killed by %q in %s:\n  %s\nkilled child: %v", i, op, mode, phase, strings.Join(bad, "\n  "), p)
			if failures >= 3 {
				break
			}
		}
	}
	var summary []string
	for _, k := range advSortedKeys(landed) {
		summary = append(summary, fmt.Sprintf("%s ×%d", k, landed[k]))
	}
	t.Logf("crash loop: %d iterations, %d failures; kills landed in: %s", ran, failures, strings.Join(summary, "; "))
	if failures != 0 {
		t.Errorf("%d of %d iterations failed", failures, ran)
	}
}

// advKillWhen SIGKILLs p: after a random delay within 1.2×window ("delay"),
// or as soon as the download ("download"), the extraction ("extract"), the
// swap ("journal") or the pruning of old backups ("prune") has begun, or
// once the swap is over ("swapped"), plus up to a few random milliseconds.
// It returns what at reports the instant before the kill (nothing when p
// ended first).
func advKillWhen(p *advProc, mode string, window time.Duration, at func() string) string {
	l := pkgdir.Layout{Root: advRootOf(p)}
	name := p.cmd.Args[2]
	ready := func() bool { return false }
	seenJournal := false
	switch mode {
	case "delay":
		deadline := p.start.Add(time.Duration(rand.Int64N(int64(window)*6/5 + 1)))
		ready = func() bool { return !time.Now().Before(deadline) }
	case "download":
		ready = func() bool { return advHasFile(filepath.Join(l.TmpDir(), name), "download-") }
	case "extract":
		ready = func() bool { return advNonEmpty(filepath.Join(l.StagingDir(), name), true) }
	case "journal":
		ready = func() bool { return advExists(l.JournalPath(name)) }
	case "prune":
		ready = func() bool {
			ents, _ := os.ReadDir(filepath.Join(l.TmpDir(), name))
			for _, e := range ents {
				if e.IsDir() {
					return true
				}
			}
			return false
		}
	case "swapped":
		ready = func() bool {
			if advExists(l.JournalPath(name)) {
				seenJournal = true
				return false
			}
			return seenJournal
		}
	}
	// The swap and the pruning last a few milliseconds at most: those are
	// watched without sleeping.
	spin := mode == "journal" || mode == "swapped" || mode == "prune"
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
	p.cmd.Process.Kill() // SIGKILL
	return phase
}

// advRootOf reads --root from a child's arguments.
func advRootOf(p *advProc) string {
	args := p.cmd.Args
	for i, a := range args {
		if a == "--root" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func advExists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// advNonEmpty reports whether dir holds anything; with deep, whether one of
// its sub-folders does (staging/<name>/new-*/...).
func advNonEmpty(dir string, deep bool) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	if !deep {
		return len(ents) > 0
	}
	for _, e := range ents {
		if sub, err := os.ReadDir(filepath.Join(dir, e.Name())); err == nil && len(sub) > 0 {
			return true
		}
	}
	return false
}

// advHasFile reports whether dir holds a file whose name starts with prefix.
func advHasFile(dir, prefix string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			return true
		}
	}
	return false
}
