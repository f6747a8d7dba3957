package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/Masterminds/semver/v3"

	"github.com/modup/modup/resolve"
)

// solveUniverse is a dependency graph shaped to make the solver work:
// packages × versions (majors 1-4, minors 0-4 for 20 versions), each
// version requiring one to three later packages at its own major or the
// one below ("^M"), the newest major of every seventh package needing a
// newer host than the system has (so every package that reaches one of
// them falls back a major, which takes backtracking), and the last minor
// of every eleventh package breaking older minors of the next one.
func solveUniverse(packages int) (resolve.System, []string) {
	r := rand.New(rand.NewPCG(7, 300))
	name := func(i int) string { return fmt.Sprintf("pkg%03d", i) }
	deps := make([][]int, packages)
	for i := range packages {
		for range 1 + r.IntN(3) {
			if j := i + 1 + r.IntN(packages/10+1); j < packages {
				deps[i] = append(deps[i], j)
			}
		}
	}
	sys := resolve.System{Host: resolve.Host{Version: semver.MustParse("1.5.0")}, Platform: resolve.Platform{OS: "windows", Arch: "amd64"}}
	var names []string
	for i := range packages {
		names = append(names, name(i))
		for major := 1; major <= 4; major++ {
			for minor := 0; minor <= 4; minor++ {
				p := resolve.Package{Name: name(i), Version: semver.New(uint64(major), uint64(minor), 0, "", "")}
				p.Packages = map[string]resolve.Constraint{}
				for k, j := range deps[i] {
					m := major
					if (i+k+minor)%3 == 0 && m > 1 {
						m--
					}
					p.Packages[name(j)] = resolve.MustParseConstraint(fmt.Sprintf("^%d", m))
				}
				if major == 4 && i%7 == 0 {
					p.Hosts = map[string]resolve.Constraint{"a2": resolve.MustParseConstraint(">= 2.0")}
				}
				if minor == 4 && i%11 == 0 && i+1 < packages {
					p.Breaks = map[string]resolve.Constraint{name(i + 1): resolve.MustParseConstraint(fmt.Sprintf("<%d.4", major))}
				}
				if major == 1 && minor == 0 {
					sys.Installed = append(sys.Installed, resolve.Installed{Package: p})
				} else {
					sys.Available = append(sys.Available, p)
				}
			}
		}
	}
	return sys, names
}

// BenchmarkSolve: the solver on 300 packages × 20 versions. The baseline
// is what modup did before requirements: take each package's newest
// version, checking nothing. Install: ten packages into an empty set, with
// everything they need. UpdateAll: every package, installed at 1.0.0,
// to the newest set that fits. Failure: a request no set meets, with the
// explanation and the search for a suggestion.
//
//	go test ./bench -run '^$' -bench Solve -benchmem
func BenchmarkSolve(b *testing.B) {
	sys, names := solveUniverse(300)
	fresh := sys
	fresh.Available = append(append([]resolve.Package(nil), sys.Available...), installedOf(sys)...)
	fresh.Installed = nil
	b.Run("baseline-newest", func(b *testing.B) {
		defer reportCPU(b)()
		for b.Loop() {
			newest := map[string]*semver.Version{}
			for _, p := range fresh.Available {
				if v := newest[p.Name]; v == nil || v.LessThan(p.Version) {
					newest[p.Name] = p.Version
				}
			}
			if len(newest) != len(names) {
				b.Fatal("not every package")
			}
		}
	})
	var top []resolve.Want
	for _, n := range names[:10] {
		top = append(top, resolve.Want{Name: n})
	}
	b.Run("install", func(b *testing.B) {
		var plan *resolve.Plan
		defer reportCPU(b)()
		for b.Loop() {
			var err error
			if plan, err = resolve.Solve(fresh, resolve.Request{Install: top}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(plan.Steps)), "packages")
	})
	b.Run("update-all", func(b *testing.B) {
		var plan *resolve.Plan
		defer reportCPU(b)()
		for b.Loop() {
			var err error
			if plan, err = resolve.Solve(sys, resolve.Request{UpdateAll: true}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(plan.Steps)), "changed")
		b.ReportMetric(float64(len(plan.HeldBack)), "held-back")
	})
	b.Run("failure", func(b *testing.B) {
		req := resolve.Request{Install: []resolve.Want{{Name: names[0], Constraint: resolve.MustParseConstraint("^4")}}}
		defer reportCPU(b)()
		for b.Loop() {
			if _, err := resolve.Solve(fresh, req); err == nil {
				b.Fatal("the request should fail")
			}
		}
	})
}

// reportCPU reports the CPU time per operation (user and system, all
// threads) next to the wall time; call its result when the loop is done.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N)/1000, "cpu-ms/op")
		}
	}
}

func installedOf(sys resolve.System) []resolve.Package {
	var out []resolve.Package
	for _, in := range sys.Installed {
		out = append(out, in.Package)
	}
	return out
}

// TestSolveUniverse keeps the benchmark honest: its requests are met (or,
// for the failure, not) and the plans hold.
func TestSolveUniverse(t *testing.T) {
	sys, names := solveUniverse(60)
	plan, err := resolve.Solve(sys, resolve.Request{UpdateAll: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Steps) == 0 || len(plan.HeldBack) == 0 {
		t.Errorf("update-all: %d steps, %d held back; the workload should move packages and hold some back", len(plan.Steps), len(plan.HeldBack))
	}
	if _, err := resolve.Solve(sys, resolve.Request{Install: []resolve.Want{{Name: names[0], Constraint: resolve.MustParseConstraint("^4")}}}); err == nil {
		t.Error("pkg000 ^4 should fail: its majors 4 need a newer host")
	}
	var after []resolve.Installed
	for _, n := range plan.Names() {
		for _, p := range append(installedOf(sys), sys.Available...) {
			if p.Name == n && p.Version.Equal(plan.Result[n]) {
				after = append(after, resolve.Installed{Package: p})
			}
		}
	}
	probs, err := resolve.Problems(resolve.System{Host: sys.Host, Platform: sys.Platform, Installed: after})
	if err != nil || len(probs) != 0 {
		t.Errorf("the updated set has problems: %v %v", probs, err)
	}
}
