package resolve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// Assessment is what the newest version of one package would need, for
// `check`: whether it fits beside everything installed and, when it does
// not, why and which version does.
type Assessment struct {
	Name      string
	Installed *semver.Version // nil when not installed
	Newest    *semver.Version // the newest candidate; nil when none is known
	// Fits: Newest can be installed with every other package kept (new
	// dependencies may be installed with it; Plan says which).
	Fits bool
	// Reason says, in one line, why Newest does not fit:
	// "0.8.0 needs a2 >= 0.6.0; a2 is 0.5.7".
	Reason string
	// Failure is the full explanation when Newest does not fit.
	Failure *Failure
	// Best is the newest version that fits, when it is newer than
	// Installed: Newest when it fits, else an older one, else nil.
	Best *semver.Version
	// Plan installs Best (with its new dependencies); nil with Best.
	Plan *Plan
}

// UpToDate reports whether no newer version than the installed one is
// known.
func (a Assessment) UpToDate() bool {
	return a.Newest == nil || a.Installed != nil && !a.Installed.LessThan(a.Newest)
}

// Assess tells whether the newest candidate of name fits beside what is
// installed (every other package kept as it is), why not, and the newest
// candidate that does. A package whose newest release is newer than the
// installed one but does not fit is what `check` calls held back.
func Assess(sys System, name string) (Assessment, error) {
	a := Assessment{Name: name}
	installed := false
	for _, in := range sys.Installed {
		if in.Name == name {
			a.Installed, installed = in.Version, true
		}
	}
	move := Request{Install: []Want{{Name: name}}}
	if installed {
		move = Request{Update: []string{name}}
	}
	s, err := newSolver(sys, move)
	if err != nil {
		return a, err
	}
	si, ok := s.byName[name]
	if !ok {
		return a, nil
	}
	newest := s.newest(si)
	if newest < 0 {
		return a, nil
	}
	a.Newest = s.slots[si].opts[newest].version
	if a.UpToDate() {
		a.Fits = true
		return a, nil
	}
	a.Reason = s.whyNot(si, newest, s.installedChoice)
	pinned := Request{Install: []Want{{Name: name, Constraint: Exact(a.Newest)}}}
	_, plan, fail, err := solveOnce(sys, pinned, nil)
	if err != nil {
		return a, err
	}
	if fail == nil {
		a.Fits, a.Best, a.Plan, a.Reason = true, a.Newest, plan, ""
		return a, nil
	}
	a.Failure = fail
	if a.Reason == "" {
		a.Reason = strings.Join(strings.Fields(fail.Explanation), " ")
	}
	_, plan, fail, err = solveOnce(sys, move, nil)
	if err != nil {
		return a, err
	}
	if fail == nil {
		if v := plan.Result[name]; v != nil && (a.Installed == nil || a.Installed.LessThan(v)) {
			a.Best, a.Plan = v, plan
		}
	}
	return a, nil
}

// installedChoice is the installed option of a slot (the host's one
// version), or -1: the choices of a system left as it is.
func (s *solver) installedChoice(si int) int {
	sl := s.slots[si]
	if sl.kind == kindHost {
		return 0
	}
	if sl.kind != kindPackage {
		return -1
	}
	return sl.installed
}

// Problem is an installed package whose requirements are not met by
// what is installed.
type Problem struct {
	Name    string
	Version *semver.Version
	// Text says what is wrong: "a2.tools 1.0.0 needs a2.modules ^0.8;
	// a2.modules is 0.7.2".
	Text string
	// Kind is what is wrong: ProblemRequires (Other is installed at
	// another version), ProblemMissing (Other is not installed),
	// ProblemHost, ProblemPlatform, ProblemConflicts, ProblemBreaks or
	// ProblemReplaces (with Other, installed).
	Kind string
	// Other is the other package the problem is about, "" for the host
	// and the platform.
	Other string
}

// Kinds of Problem.
const (
	ProblemRequires  = "requires"
	ProblemMissing   = "missing"
	ProblemHost      = "host"
	ProblemPlatform  = "platform"
	ProblemConflicts = "conflicts"
	ProblemBreaks    = "breaks"
	ProblemReplaces  = "replaces"
)

func (p Problem) String() string { return p.Text }

// Problems lists what is wrong with the installed set as it is: unmet
// requirements (a missing package, another version, the host too old, a
// platform it does not run on), and conflicts and breaks between
// installed packages. It is what `doctor` reports.
func Problems(sys System) ([]Problem, error) {
	s, err := newSolver(sys, Request{})
	if err != nil {
		return nil, err
	}
	var out []Problem
	for _, si := range s.packageSlots() {
		sl := s.slots[si]
		if sl.installed < 0 {
			continue
		}
		o := sl.opts[sl.installed]
		add := func(kind, other, text string) {
			out = append(out, Problem{Name: sl.name, Version: o.version, Text: text, Kind: kind, Other: other})
		}
		self := o.pkg.String()
		if s.sys.Platform != (Platform{}) && !o.pkg.Platform.Allows(s.sys.Platform) {
			add(ProblemPlatform, "", fmt.Sprintf("%s runs only on %s (this is %s)", self, o.pkg.Platform, s.sys.Platform))
		}
		if s.host >= 0 {
			for _, h := range sortedNames(o.pkg.Hosts) {
				if c := o.pkg.Hosts[h]; h == s.hostName && !c.Allows(s.sys.Host.Version) {
					add(ProblemHost, "", fmt.Sprintf("%s needs %s %s; %s is %s", self, h, c, h, s.sys.Host.Version))
				}
			}
		}
		for _, q := range sortedNames(o.pkg.Packages) {
			c := o.pkg.Packages[q]
			qi := s.byName[q]
			if !s.satisfiedByInstalled(qi, c) {
				if ql := s.slots[qi]; ql.installed >= 0 {
					add(ProblemRequires, q, fmt.Sprintf("%s needs %s %s; %s is %s", self, q, c, q, ql.opts[ql.installed].version))
				} else {
					add(ProblemMissing, q, fmt.Sprintf("%s needs %s %s, which is not installed", self, q, c))
				}
			}
		}
		for _, rel := range []struct {
			kind, verb string
			m          map[string]Constraint
		}{{ProblemConflicts, "conflicts with", o.pkg.Conflicts}, {ProblemBreaks, "breaks", o.pkg.Breaks}, {ProblemReplaces, "replaces", o.pkg.Replaces}} {
			for _, q := range sortedNames(rel.m) {
				qi, ok := s.byName[q]
				if !ok || q == sl.name {
					continue
				}
				if ql := s.slots[qi]; ql.installed >= 0 && rel.m[q].Allows(ql.opts[ql.installed].version) {
					add(rel.kind, q, fmt.Sprintf("%s %s %s %s, which is installed", self, rel.verb, q, ql.opts[ql.installed].version))
				}
			}
		}
	}
	return out, nil
}

// satisfiedByInstalled reports whether a requirement on slot qi is met by
// what is installed: its installed version, or an installed package that
// provides the name when any version will do.
func (s *solver) satisfiedByInstalled(qi int, c Constraint) bool {
	ql := s.slots[qi]
	if ql.installed >= 0 && c.Allows(ql.opts[ql.installed].version) {
		return true
	}
	if !c.IsAny() {
		return false
	}
	for i := ql.nreal; i < ql.ph; i++ {
		p := s.slots[ql.opts[i].via]
		if p.installed >= 0 && slices.Contains(providedNames(p.opts[p.installed].pkg), ql.name) {
			return true
		}
	}
	return false
}

// RequiredBy lists the installed packages that require name (directly,
// or through a name it provides that nothing else installed provides),
// sorted: what `remove` and `disable` refuse to break.
func RequiredBy(sys System, name string) []Package {
	var target *Package
	for i := range sys.Installed {
		if sys.Installed[i].Name == name {
			target = &sys.Installed[i].Package
		}
	}
	if target == nil {
		return nil
	}
	names := append([]string{name}, providedNames(target)...)
	var out []Package
	for _, in := range sys.Installed {
		if in.Name == name {
			continue
		}
		for _, n := range names {
			if _, ok := in.Packages[n]; ok && !otherProvider(sys, n, name) {
				out = append(out, in.Package)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// otherProvider reports whether an installed package besides except is
// named n or provides it.
func otherProvider(sys System, n, except string) bool {
	for _, in := range sys.Installed {
		if in.Name != except && (in.Name == n || slices.Contains(providedNames(&in.Package), n)) {
			return true
		}
	}
	return false
}
