package resolve

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// The solver is PubGrub (Natalie Weizenbaum's algorithm for Dart's pub,
// described in pub's doc/solver.md): unit propagation over
// incompatibilities, one decision at a time, and conflict-driven clause
// learning whose learned incompatibilities remember the two they were
// derived from, so that a failure is a derivation tree that reads as a
// chain of reasons. It is complete: it fails only when no set of versions
// meets the request.
//
// What differs from pub: every candidate is known up front, so a version
// range is a bit set over a package's candidates (term.go); a package may
// also be satisfied by another that provides or replaces its name (an
// extra "provided by" option of its slot); conflicts, breaks and replaces
// are incompatibilities between two positive terms; the host is a slot
// with its one version; a candidate that cannot run here is ruled out by
// an incompatibility of its own, so explanations say why.

type slotKind uint8

const (
	kindPackage slotKind = iota
	kindHost
	kindRoot
)

// option is one state a slot can be decided to.
type option struct {
	version   *semver.Version
	pkg       *Package // the candidate (real options of a package slot)
	via       int      // for a "provided by" option, the provider's slot; else -1
	pre       bool     // counts as a pre-release
	installed bool
}

// slot is one name the solver decides: a package (real versions, then
// "provided by" options), the host, or the root (the request).
type slot struct {
	name  string
	kind  slotKind
	opts  []option
	nreal int // real versions come first, ascending
	// ph is the phantom option, after the "provided by" ones: "a version
	// not among the candidates". It is never chosen; a requirement no
	// candidate meets is the set {ph}, so that it is not empty and "no
	// version matches" is learned when the solver tries to choose one.
	ph        int
	installed int  // option index of the installed version, or -1
	held      bool // Installed.Held and not named by a Want
	target    bool // named by Install or Update
	// fixed: the request keeps it at its installed version with no way
	// out, so its installed version's requirements on other fixed slots
	// are facts: checked once, reported when unmet, not re-solved.
	fixed        bool
	class        int           // decision order: kept, then requested, then the rest
	prefer       []int         // options in order of preference
	preOK        bool          // pre-releases admitted for every constraint
	unavailAdded bool          // its unavailable candidates are ruled out
	deps         [][]*incompat // depsOf, per option, once computed
	incs         []*incompat
}

// causeKind is why an incompatibility holds.
type causeKind uint8

const (
	causeRoot        causeKind = iota // the request must be met
	causeRequest                      // the root requires (or forbids) a package: note says how
	causeDependency                   // requires.packages, or a host requirement
	causeConflict                     // conflicts
	causeBreaks                       // breaks
	causeReplaces                     // replaces (the two cannot both stay)
	causeProvider                     // a "provided by" option needs its provider
	causeReplacedBy                   // an installed package goes only for a version that replaces it
	causeNoVersions                   // no candidate in a set
	causeUnavailable                  // candidates that cannot run here: note says why
	causeDerived                      // learned from left and right
)

// incompat is a set of terms that cannot all hold.
type incompat struct {
	terms []term
	cause causeKind
	// note: causeRequest: install, update, keep, held, remove;
	// causeUnavailable: the reason; causeConflict and causeBreaks through
	// a provided name: the name.
	note        string
	left, right *incompat
	added       bool // in the slots' lists (a cached dependency is added once)
}

// depKey identifies a dependency incompatibility shared by a run of
// versions, so backtracking does not add it twice.
type depKey struct {
	slot   int
	kind   causeKind
	target string
	text   string
	lo     int
}

type assignment struct {
	term
	decision bool
	level    int
	cause    *incompat
	index    int
}

type solver struct {
	sys      System
	req      Request
	hostName string

	slots  []*slot
	byName map[string]int
	pkgs   []int // the package slots in name order
	host   int   // -1 when the host version is unknown
	root   int

	rootDeps []*incompat
	depCache map[depKey]*incompat
	admCache map[admKey]vset
	provDeps map[[2]int]*incompat
	warnings []string
	warned   map[string]bool

	// the partial solution
	assigns []assignment
	perSlot [][]int // indexes into assigns
	acc     []term  // the intersection of each slot's assignments
	hasAcc  []bool
	decided []int // decided option, or -1
	level   int
	changed []int
	inQueue []bool
}

func newSolver(sys System, req Request) (*solver, error) {
	s := &solver{sys: sys, req: req, hostName: sys.Host.name(), byName: map[string]int{}, host: -1,
		depCache: map[depKey]*incompat{}, admCache: map[admKey]vset{}, provDeps: map[[2]int]*incompat{}, warned: map[string]bool{}}
	s.root = s.addSlot("", kindRoot)
	s.slots[s.root].opts = []option{{via: -1}}
	s.slots[s.root].nreal = 1

	installed := map[string]*Installed{}
	for i := range sys.Installed {
		in := &sys.Installed[i]
		if err := checkPackage(in.Package); err != nil {
			return nil, fmt.Errorf("installed: %w", err)
		}
		if installed[in.Name] != nil {
			return nil, fmt.Errorf("installed: %s listed twice", in.Name)
		}
		installed[in.Name] = in
	}
	avail := map[string][]*Package{}
	for i := range sys.Available {
		p := &sys.Available[i]
		if err := checkPackage(*p); err != nil {
			return nil, fmt.Errorf("available: %w", err)
		}
		avail[p.Name] = append(avail[p.Name], p)
	}
	names := slices.Sorted(maps.Keys(avail))
	for name := range installed {
		if _, ok := avail[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		si := s.addSlot(name, kindPackage)
		sl := s.slots[si]
		sl.installed = -1
		var in *Installed
		if inst := installed[name]; inst != nil {
			in = inst
			sl.opts = append(sl.opts, option{version: in.Version, pkg: &in.Package, via: -1, installed: true})
		}
		for _, p := range avail[name] {
			if in != nil && p.Version.Equal(in.Version) {
				continue // the installed package's own requirements win
			}
			sl.opts = append(sl.opts, option{version: p.Version, pkg: p, via: -1})
		}
		slices.SortStableFunc(sl.opts, func(a, b option) int { return a.version.Compare(b.version) })
		for i := 1; i < len(sl.opts); i++ {
			if sl.opts[i].version.Equal(sl.opts[i-1].version) {
				return nil, fmt.Errorf("available: %s %s listed twice (%s and %s)", name, sl.opts[i].version, sl.opts[i-1].version.Original(), sl.opts[i].version.Original())
			}
		}
		for i := range sl.opts {
			o := &sl.opts[i]
			o.pre = o.version.Prerelease() != "" || o.pkg.Prerelease
			if o.installed {
				sl.installed = i
			}
		}
		sl.nreal = len(sl.opts)
	}

	// "Provided by" options: one per package that provides or replaces
	// the name, after the real versions.
	providers := map[string][]int{}
	for _, name := range names {
		si := s.byName[name]
		seen := map[string]bool{}
		for _, o := range s.slots[si].opts {
			for _, n := range providedNames(o.pkg) {
				if n != name && !seen[n] {
					seen[n] = true
					providers[n] = append(providers[n], si)
				}
			}
		}
	}
	for _, n := range slices.Sorted(maps.Keys(providers)) {
		si := s.slotFor(n)
		for _, p := range providers[n] {
			s.slots[si].opts = append(s.slots[si].opts, option{via: p})
		}
	}
	// Every name a requirement mentions gets a slot, even with no
	// candidate, so that "no version of X" can be said.
	for _, name := range names {
		sl := s.slots[s.byName[name]]
		for _, o := range sl.opts[:sl.nreal] {
			for n := range o.pkg.Packages {
				s.slotFor(n)
			}
		}
	}
	for _, w := range req.Install {
		s.slotFor(w.Name)
	}
	if sys.Host.Version != nil {
		s.host = s.addSlot(s.hostName, kindHost)
		h := s.slots[s.host]
		h.opts = []option{{version: sys.Host.Version, via: -1}}
		h.nreal = 1
		h.installed = 0
	}
	for _, sl := range s.slots {
		sl.ph = len(sl.opts)
		if sl.kind != kindRoot {
			sl.opts = append(sl.opts, option{via: -1})
		}
	}
	if err := s.applyRequest(installed); err != nil {
		return nil, err
	}
	n := len(s.slots)
	s.perSlot = make([][]int, n)
	s.acc = make([]term, n)
	s.hasAcc = make([]bool, n)
	s.decided = make([]int, n)
	s.inQueue = make([]bool, n)
	for i := range s.decided {
		s.decided[i] = -1
	}
	return s, nil
}

func checkPackage(p Package) error {
	if strings.TrimSpace(p.Name) == "" {
		return fmt.Errorf("a package without a name")
	}
	if p.Version == nil {
		return fmt.Errorf("%s has no version", p.Name)
	}
	return nil
}

// providedNames are the names p stands for besides its own.
func providedNames(p *Package) []string {
	out := slices.Clone(p.Provides)
	for n := range p.Replaces {
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (s *solver) addSlot(name string, kind slotKind) int {
	s.slots = append(s.slots, &slot{name: name, kind: kind, installed: -1, class: 2})
	i := len(s.slots) - 1
	if kind == kindPackage {
		s.byName[name] = i
	}
	return i
}

// slotFor is the package slot of name, made empty when the name is new.
func (s *solver) slotFor(name string) int {
	if i, ok := s.byName[name]; ok {
		return i
	}
	return s.addSlot(name, kindPackage)
}

// applyRequest settles each slot's role, preferences and the root's
// requirements.
func (s *solver) applyRequest(installed map[string]*Installed) error {
	req := s.req
	wants := map[string]Want{}
	for _, w := range req.Install {
		if strings.TrimSpace(w.Name) == "" {
			return fmt.Errorf("install: a package without a name")
		}
		if _, dup := wants[w.Name]; dup {
			return fmt.Errorf("install: %s named twice", w.Name)
		}
		wants[w.Name] = w
	}
	updates := map[string]bool{}
	for _, n := range req.Update {
		if installed[n] == nil {
			return fmt.Errorf("update %s: not installed", n)
		}
		updates[n] = true
	}
	removes := map[string]bool{}
	for _, n := range req.Remove {
		if installed[n] == nil {
			return fmt.Errorf("remove %s: not installed", n)
		}
		if _, ok := wants[n]; ok {
			return fmt.Errorf("%s is both to install and to remove", n)
		}
		removes[n] = true
	}
	for name, in := range installed {
		if req.UpdateAll && !in.Held {
			updates[name] = true
		}
	}
	for _, si := range s.packageSlots() {
		sl := s.slots[si]
		w, wanted := wants[sl.name]
		in := installed[sl.name]
		sl.held = in != nil && in.Held && !wanted
		sl.target = wanted || (updates[sl.name] && !sl.held)
		sl.preOK = req.Prereleases || (sl.installed >= 0 && sl.opts[sl.installed].pre) || (wanted && w.Constraint.NamesPrerelease())
		switch {
		case sl.installed >= 0 && !sl.target && !removes[sl.name]:
			sl.class = 0
		case sl.target:
			sl.class = 1
		}
		sl.prefer = s.preferences(si)
	}
	if s.host >= 0 {
		s.slots[s.host].prefer = []int{0}
		s.slots[s.host].class = 0
	}
	s.slots[s.root].prefer = []int{0}
	s.slots[s.root].class = -1

	rootTerm := term{slot: s.root, pos: true, set: singleSet(1, 0)}
	add := func(si int, set vset, label, note string) {
		s.rootDeps = append(s.rootDeps, &incompat{
			terms: []term{rootTerm, {slot: si, set: set, label: label}},
			cause: causeRequest, note: note,
		})
	}
	for _, w := range req.Install {
		si := s.byName[w.Name]
		add(si, s.admissible(si, w.Constraint), w.Constraint.String(), "install")
	}
	for _, si := range s.packageSlots() {
		sl := s.slots[si]
		if sl.installed < 0 {
			continue
		}
		if _, ok := wants[sl.name]; ok {
			continue
		}
		inst := singleSet(len(sl.opts), sl.installed)
		ver := sl.opts[sl.installed].version.String()
		if !removes[sl.name] && !sl.held {
			s.replacedOnlyBy(si, rootTerm)
		}
		switch {
		case removes[sl.name]:
			s.rootDeps = append(s.rootDeps, &incompat{
				terms: []term{rootTerm, {slot: si, pos: true, set: fullSet(sl.nreal)}},
				cause: causeRequest, note: "remove",
			})
		case sl.held:
			sl.fixed = true
			add(si, inst, ver, "held")
		case sl.target:
			add(si, s.admissible(si, Any).and(fullSet(sl.nreal)).or(inst).or(s.replacers(si)), "", "update")
		case req.Keep == KeepPreferred:
			add(si, s.admissible(si, Any).and(fullSet(sl.nreal)).or(inst).or(s.replacers(si)), ver, "keep")
		default:
			rep := s.replacers(si)
			sl.fixed = rep.isEmpty()
			add(si, inst.or(rep), ver, "keep")
		}
	}
	return nil
}

// packageSlots lists the package slots in name order.
func (s *solver) packageSlots() []int {
	if len(s.pkgs) != len(s.byName) {
		s.pkgs = s.pkgs[:0]
		for _, si := range s.byName {
			s.pkgs = append(s.pkgs, si)
		}
		slices.SortFunc(s.pkgs, func(a, b int) int { return cmp.Compare(s.slots[a].name, s.slots[b].name) })
	}
	return s.pkgs
}

// preferences orders a package slot's options: a package the request does
// not name stays as it is (or is satisfied by what is installed); then the
// newest version; "provided by" options of installed packages before a
// new install for a dependency, after the real versions for a package the
// request names.
func (s *solver) preferences(si int) []int {
	sl := s.slots[si]
	var viaInstalled, viaOther []int
	for i := sl.nreal; i < sl.ph; i++ {
		if s.slots[sl.opts[i].via].installed >= 0 {
			viaInstalled = append(viaInstalled, i)
		} else {
			viaOther = append(viaOther, i)
		}
	}
	var newest []int
	for i := sl.nreal - 1; i >= 0; i-- {
		if i != sl.installed || sl.target {
			newest = append(newest, i)
		}
	}
	switch {
	case sl.target:
		return slices.Concat(newest, viaInstalled, viaOther)
	case sl.installed >= 0:
		return slices.Concat([]int{sl.installed}, viaInstalled, newest, viaOther)
	}
	return slices.Concat(viaInstalled, newest, viaOther)
}

// admissible is the set of si's options that satisfy c: real versions in
// range whose stability c (or the request) admits; and, when c accepts
// any version, the "provided by" options. When none does, it is the
// phantom option alone.
func (s *solver) admissible(si int, c Constraint) vset {
	key := admKey{si, c.String()}
	if set, ok := s.admCache[key]; ok {
		return set
	}
	set := s.computeAdmissible(si, c)
	s.admCache[key] = set
	return set
}

// admKey caches admissible: a constraint's meaning is its text.
type admKey struct {
	slot int
	text string
}

func (s *solver) computeAdmissible(si int, c Constraint) vset {
	sl := s.slots[si]
	set := emptySet(len(sl.opts))
	for i := 0; i < sl.nreal; i++ {
		o := sl.opts[i]
		if c.Admits(o.version, o.pkg.Prerelease) || ((sl.preOK || o.installed) && c.Allows(o.version)) {
			set.add(i)
		}
	}
	if c.IsAny() {
		for i := sl.nreal; i < sl.ph; i++ {
			set.add(i)
		}
	}
	if set.isEmpty() {
		set.add(sl.ph)
	}
	return set
}

// inRange is the set of si's real versions in c's range, whatever their
// stability: what conflicts, breaks and replaces apply to.
func (s *solver) inRange(si int, c Constraint) vset {
	sl := s.slots[si]
	set := emptySet(len(sl.opts))
	for i := 0; i < sl.nreal; i++ {
		if c.Allows(sl.opts[i].version) {
			set.add(i)
		}
	}
	return set
}

// replacers are the "provided by" options of an installed slot whose
// provider replaces its installed version: the ways it may go.
func (s *solver) replacers(si int) vset {
	sl := s.slots[si]
	set := emptySet(len(sl.opts))
	v := sl.opts[sl.installed].version
	for i := sl.nreal; i < sl.ph; i++ {
		p := s.slots[sl.opts[i].via]
		for _, o := range p.opts[:p.nreal] {
			if c, ok := o.pkg.Replaces[sl.name]; ok && c.Allows(v) {
				set.add(i)
				break
			}
		}
	}
	return set
}

// replacedOnlyBy: an installed package the request keeps may give way to
// a package that replaces it, but only to a version of it that replaces
// the installed version (not one that merely provides the name).
func (s *solver) replacedOnlyBy(si int, rootTerm term) {
	sl := s.slots[si]
	v := sl.opts[sl.installed].version
	for _, oi := range s.replacers(si).members() {
		pp := sl.opts[oi].via
		p := s.slots[pp]
		set := emptySet(len(p.opts))
		for i, o := range p.opts[:p.nreal] {
			if c, ok := o.pkg.Replaces[sl.name]; ok && c.Allows(v) {
				set.add(i)
			}
		}
		s.rootDeps = append(s.rootDeps, &incompat{terms: []term{rootTerm,
			{slot: si, pos: true, set: singleSet(len(sl.opts), oi)},
			{slot: pp, set: set}}, cause: causeReplacedBy})
	}
}
