package resolve

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/Masterminds/semver/v3"
)

// The solver is checked against an exhaustive search on small random
// systems: it must find a plan exactly when some assignment of versions
// (or absence) to the packages meets every rule, and the plan it finds
// must meet them. The rules are restated here, independently of the
// solver's encoding, from the documentation of Requirements, Request and
// KeepPolicy.

var bruteNames = []string{"a", "b", "c", "d"}

var bruteConstraints = []string{"*", "^1", "^2", ">=1.1", "<2", "1.0.0", "~1.1.0", "1.0.0 - 1.1", "^1 || ^3"}

func randomSystem(r *rand.Rand) (System, Request) {
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	sys := System{Platform: Platform{"linux", "amd64"}}
	if r.IntN(3) > 0 {
		sys.Host = Host{Version: semver.MustParse(pick([]string{"1.0.0", "1.5.0", "2.0.0"}))}
	}
	versions := []string{"1.0.0", "1.1.0", "2.0.0"}
	for _, n := range bruteNames {
		vs := slices.Clone(versions)
		r.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		vs = vs[:1+r.IntN(3)]
		inst := -1
		if r.IntN(3) == 0 {
			inst = r.IntN(len(vs))
		}
		for i, v := range vs {
			p := Package{Name: n, Version: semver.MustParse(v)}
			m := func() map[string]Constraint { return map[string]Constraint{} }
			for range r.IntN(3) {
				q := pick(append(slices.Clone(bruteNames), "v"))
				c := MustParseConstraint(pick(bruteConstraints))
				switch r.IntN(8) {
				case 0, 1, 2:
					p.Packages = cmpMap(p.Packages, m)
					p.Packages[q] = c
				case 3:
					p.Conflicts = cmpMap(p.Conflicts, m)
					p.Conflicts[q] = c
				case 4:
					p.Breaks = cmpMap(p.Breaks, m)
					p.Breaks[q] = c
				case 5:
					p.Replaces = cmpMap(p.Replaces, m)
					p.Replaces[q] = c
				case 6:
					p.Provides = append(p.Provides, q)
				case 7:
					p.Hosts = map[string]Constraint{DefaultHost: MustParseConstraint(pick([]string{">=1.5", "<1.5", "^1", "^2"}))}
				}
			}
			if r.IntN(8) == 0 {
				p.Platform = Platforms{OS: []string{"windows"}}
			}
			if i == inst {
				sys.Installed = append(sys.Installed, Installed{Package: p, Held: r.IntN(5) == 0})
			} else {
				sys.Available = append(sys.Available, p)
			}
		}
	}
	var req Request
	req.Keep = KeepPolicy(r.IntN(2))
	switch r.IntN(4) {
	case 0:
		req.UpdateAll = true
	case 1:
		for _, in := range sys.Installed {
			if r.IntN(2) == 0 {
				req.Update = append(req.Update, in.Name)
			}
		}
	}
	used := map[string]bool{}
	for range r.IntN(3) {
		n := pick(append(slices.Clone(bruteNames), "v"))
		if used[n] {
			continue
		}
		used[n] = true
		w := Want{Name: n}
		if r.IntN(2) == 0 {
			w.Constraint = MustParseConstraint(pick(bruteConstraints))
		}
		req.Install = append(req.Install, w)
	}
	for _, in := range sys.Installed {
		if !used[in.Name] && r.IntN(6) == 0 {
			req.Remove = append(req.Remove, in.Name)
		}
	}
	return sys, req
}

func cmpMap(m map[string]Constraint, mk func() map[string]Constraint) map[string]Constraint {
	if m == nil {
		return mk()
	}
	return m
}

// world is an assignment: each package's chosen version, absent if nil.
type world map[string]*Package

func provides(p *Package, name string) bool {
	if slices.Contains(p.Provides, name) {
		return true
	}
	_, ok := p.Replaces[name]
	return ok
}

// valid restates the rules.
func valid(sys System, req Request, w world) bool {
	inst := map[string]*Installed{}
	for i := range sys.Installed {
		inst[sys.Installed[i].Name] = &sys.Installed[i]
	}
	wants := map[string]Want{}
	for _, x := range req.Install {
		wants[x.Name] = x
	}
	all := append(slices.Clone(sys.Available), func() []Package {
		var out []Package
		for _, in := range sys.Installed {
			out = append(out, in.Package)
		}
		return out
	}()...)
	provided := func(name string) bool {
		for _, p := range w {
			if p != nil && provides(p, name) && p.Name != name {
				return true
			}
		}
		return false
	}
	meets := func(name string, c Constraint) bool {
		if p := w[name]; p != nil && (c.Admits(p.Version, p.Prerelease) || inst[name] != nil && inst[name].Version.Equal(p.Version) && c.Allows(p.Version)) {
			return true
		}
		return c.IsAny() && provided(name)
	}
	replacedNow := func(y *Installed) bool {
		if w[y.Name] != nil {
			return false
		}
		for _, p := range w {
			if p != nil {
				if c, ok := p.Replaces[y.Name]; ok && c.Allows(y.Version) {
					return true
				}
			}
		}
		return false
	}
	hasReplacer := func(y *Installed) bool {
		for _, p := range all {
			if c, ok := p.Replaces[y.Name]; ok && p.Name != y.Name && c.Allows(y.Version) {
				return true
			}
		}
		return false
	}
	updates := map[string]bool{}
	for _, n := range req.Update {
		updates[n] = true
	}
	removes := map[string]bool{}
	for _, n := range req.Remove {
		removes[n] = true
	}
	fixed := map[string]bool{}
	for _, y := range sys.Installed {
		_, wanted := wants[y.Name]
		held := y.Held && !wanted
		target := wanted || (updates[y.Name] || req.UpdateAll && !y.Held) && !held
		if !target && !removes[y.Name] && (held || req.Keep == KeepExact && !hasReplacer(&y)) {
			fixed[y.Name] = true
		}
	}
	// the request
	for name, x := range wants {
		if !meets(name, x.Constraint) {
			return false
		}
	}
	for _, y := range sys.Installed {
		if _, wanted := wants[y.Name]; wanted {
			continue
		}
		p := w[y.Name]
		switch {
		case removes[y.Name]:
			if p != nil {
				return false
			}
		case fixed[y.Name]:
			if p == nil || !p.Version.Equal(y.Version) {
				return false
			}
		case y.Held || req.Keep == KeepExact && !updates[y.Name] && !req.UpdateAll:
			if !(p != nil && p.Version.Equal(y.Version) || replacedNow(&y)) {
				return false
			}
		default: // may move (update, or kept where preferred)
			if !(p != nil && (p.Version.Equal(y.Version) || MustParseConstraint("*").Admits(p.Version, p.Prerelease)) || replacedNow(&y)) {
				return false
			}
		}
	}
	// every installed package's rules
	for name, p := range w {
		if p == nil {
			continue
		}
		isInstalled := inst[name] != nil && inst[name].Version.Equal(p.Version)
		fact := func(q string) bool { return fixed[name] && isInstalled && (q == "\x00host" || fixed[q]) }
		if !isInstalled && !p.Platform.Allows(sys.Platform) {
			return false
		}
		if h, ok := p.Hosts[DefaultHost]; ok && sys.Host.Version != nil && !fact("\x00host") && !h.Allows(sys.Host.Version) {
			return false
		}
		for q, c := range p.Packages {
			if q != name && !fact(q) && !meets(q, c) {
				return false
			}
		}
		for _, m := range []map[string]Constraint{p.Conflicts, p.Breaks} {
			for q, c := range m {
				if q == name {
					continue
				}
				if o := w[q]; o != nil && !fact(q) && c.Allows(o.Version) {
					return false
				}
				if c.IsAny() {
					for _, o := range w {
						if o != nil && o.Name != name && o.Name != q && provides(o, q) && !fact(o.Name) {
							return false
						}
					}
				}
			}
		}
		for q, c := range p.Replaces {
			if o := w[q]; q != name && !fact(q) && o != nil && c.Allows(o.Version) {
				return false
			}
		}
	}
	return true
}

// anyValid searches every assignment.
func anyValid(sys System, req Request) (world, bool) {
	byName := map[string][]*Package{}
	for i := range sys.Installed {
		byName[sys.Installed[i].Name] = append(byName[sys.Installed[i].Name], &sys.Installed[i].Package)
	}
	for i := range sys.Available {
		byName[sys.Available[i].Name] = append(byName[sys.Available[i].Name], &sys.Available[i])
	}
	names := sortedNames(byName)
	w := world{}
	var search func(i int) bool
	search = func(i int) bool {
		if i == len(names) {
			return valid(sys, req, w)
		}
		w[names[i]] = nil
		if search(i + 1) {
			return true
		}
		for _, p := range byName[names[i]] {
			w[names[i]] = p
			if search(i + 1) {
				return true
			}
		}
		return false
	}
	ok := search(0)
	return w, ok
}

func describe(sys System, req Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "host %v, platform %v\n", sys.Host.Version, sys.Platform)
	for _, in := range sys.Installed {
		fmt.Fprintf(&b, "installed %s held=%v %+v\n", in.Package, in.Held, in.Requirements)
	}
	for _, p := range sys.Available {
		fmt.Fprintf(&b, "available %s %+v\n", p, p.Requirements)
	}
	fmt.Fprintf(&b, "request %+v", req)
	return b.String()
}

func TestSolveAgreesWithExhaustiveSearch(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := rand.New(rand.NewPCG(15, 1))
	solved, failed := 0, 0
	for i := range n {
		sys, req := randomSystem(r)
		plan, err := Solve(sys, req)
		_, exists := anyValid(sys, req)
		var f *Failure
		switch {
		case err == nil:
			solved++
			w := world{}
			for name, v := range plan.Result {
				for _, p := range append(slices.Clone(sys.Available), installedPackages(sys)...) {
					if p.Name == name && p.Version.Equal(v) {
						w[name] = &p
					}
				}
			}
			if !valid(sys, req, w) {
				t.Fatalf("case %d: the plan breaks a rule: %v\n%s", i, plan.Result, describe(sys, req))
			}
		case asFailure(err, &f):
			failed++
			if exists {
				t.Fatalf("case %d: the solver failed but a solution exists:\n%s\n%s", i, describe(sys, req), err)
			}
			if strings.TrimSpace(f.Explanation) == "" {
				t.Fatalf("case %d: a failure without an explanation", i)
			}
		default:
			t.Fatalf("case %d: %v", i, err)
		}
		if err == nil && !exists {
			t.Fatalf("case %d: the solver found %v but the search found nothing:\n%s", i, plan.Result, describe(sys, req))
		}
	}
	if solved < n/5 || failed < n/5 {
		t.Errorf("the random cases are lopsided: %d solved, %d failed", solved, failed)
	}
}

func installedPackages(sys System) []Package {
	var out []Package
	for _, in := range sys.Installed {
		out = append(out, in.Package)
	}
	return out
}

func asFailure(err error, f **Failure) bool {
	x, ok := err.(*Failure)
	*f = x
	return ok
}
