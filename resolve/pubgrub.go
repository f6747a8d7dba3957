package resolve

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// The PubGrub loop: the partial solution (assignments, each a decision or
// a derivation with its cause), unit propagation, conflict resolution
// with learning and backjumping, and the choice of the next decision.

// --- the partial solution ---

func (s *solver) assign(t term, decision bool, cause *incompat) {
	a := assignment{term: t, decision: decision, level: s.level, cause: cause, index: len(s.assigns)}
	s.assigns = append(s.assigns, a)
	s.perSlot[t.slot] = append(s.perSlot[t.slot], a.index)
	if s.hasAcc[t.slot] {
		s.acc[t.slot] = intersect(s.acc[t.slot], t)
	} else {
		s.acc[t.slot], s.hasAcc[t.slot] = t, true
	}
}

func (s *solver) decide(si, oi int) {
	s.level++
	s.decided[si] = oi
	s.assign(term{slot: si, pos: true, set: singleSet(len(s.slots[si].opts), oi)}, true, nil)
}

func (s *solver) backtrack(level int) {
	dirty := map[int]bool{}
	for len(s.assigns) > 0 && s.assigns[len(s.assigns)-1].level > level {
		a := s.assigns[len(s.assigns)-1]
		s.assigns = s.assigns[:len(s.assigns)-1]
		s.perSlot[a.slot] = s.perSlot[a.slot][:len(s.perSlot[a.slot])-1]
		if a.decision {
			s.decided[a.slot] = -1
		}
		dirty[a.slot] = true
	}
	for si := range dirty {
		s.hasAcc[si] = false
		for _, ai := range s.perSlot[si] {
			t := s.assigns[ai].term
			if s.hasAcc[si] {
				s.acc[si] = intersect(s.acc[si], t)
			} else {
				s.acc[si], s.hasAcc[si] = t, true
			}
		}
	}
	s.level = level
}

type relation int

const (
	inconclusive relation = iota
	satisfied
	contradicted
)

func (s *solver) relation(t term) relation {
	if !s.hasAcc[t.slot] {
		return inconclusive
	}
	a := s.acc[t.slot]
	if satisfies(a, t) {
		return satisfied
	}
	if disjointTerms(a, t) {
		return contradicted
	}
	return inconclusive
}

// satisfier is the earliest assignment after which t is satisfied.
func (s *solver) satisfier(t term) assignment {
	var acc term
	for i, ai := range s.perSlot[t.slot] {
		a := s.assigns[ai]
		if i == 0 {
			acc = a.term
		} else {
			acc = intersect(acc, a.term)
		}
		if satisfies(acc, t) {
			return a
		}
	}
	panic(fmt.Sprintf("resolve: no assignment satisfies a term of %s", s.slots[t.slot].name))
}

// --- incompatibilities ---

func (s *solver) newIncompat(terms []term, cause causeKind, left, right *incompat) *incompat {
	if cause == causeDerived && len(terms) > 1 {
		kept := terms[:0:0]
		for _, t := range terms {
			if !(t.pos && t.slot == s.root) {
				kept = append(kept, t)
			}
		}
		if len(kept) > 0 {
			terms = kept
		}
	}
	var merged []term
	for _, t := range terms {
		found := false
		for i := range merged {
			if merged[i].slot == t.slot {
				merged[i] = intersect(merged[i], t)
				found = true
				break
			}
		}
		if !found {
			merged = append(merged, t)
		}
	}
	return &incompat{terms: merged, cause: cause, left: left, right: right}
}

func (s *solver) addIncompat(inc *incompat) {
	inc.added = true
	for _, t := range inc.terms {
		s.slots[t.slot].incs = append(s.slots[t.slot].incs, inc)
	}
}

func (s *solver) isFailure(inc *incompat) bool {
	return len(inc.terms) == 0 || (len(inc.terms) == 1 && inc.terms[0].pos && inc.terms[0].slot == s.root)
}

// --- the main loop ---

// solve runs PubGrub; it returns the root of the derivation when the
// request cannot be met.
func (s *solver) solve() *incompat {
	start := &incompat{terms: []term{{slot: s.root, set: singleSet(1, 0)}}, cause: causeRoot}
	s.addIncompat(start)
	next := s.root
	for {
		if fail := s.propagate(next); fail != nil {
			return fail
		}
		var done bool
		next, done = s.choose()
		if done {
			return nil
		}
	}
}

func (s *solver) enqueue(si int) {
	if !s.inQueue[si] {
		s.inQueue[si] = true
		s.changed = append(s.changed, si)
	}
}

func (s *solver) propagate(start int) *incompat {
	s.changed = s.changed[:0]
	clear(s.inQueue)
	s.enqueue(start)
	for len(s.changed) > 0 {
		si := s.changed[0]
		s.changed = s.changed[1:]
		s.inQueue[si] = false
		incs := s.slots[si].incs
		for i := len(incs) - 1; i >= 0; i-- {
			inc := incs[i]
			derived, conflict := s.propagateOne(inc)
			if conflict {
				learned, failed := s.resolveConflict(inc)
				if failed {
					return learned
				}
				d, c := s.propagateOne(learned)
				if c || d < 0 {
					panic("resolve: a learned incompatibility did not propagate")
				}
				s.changed = s.changed[:0]
				clear(s.inQueue)
				s.enqueue(d)
				break
			}
			if derived >= 0 {
				s.enqueue(derived)
			}
		}
	}
	return nil
}

// propagateOne derives the negation of an incompatibility's one open term
// when all the others hold. It reports the slot it derived for (-1 for
// none), or a conflict when every term holds.
func (s *solver) propagateOne(inc *incompat) (int, bool) {
	open := -1
	for i, t := range inc.terms {
		switch s.relation(t) {
		case contradicted:
			return -1, false
		case inconclusive:
			if open >= 0 {
				return -1, false
			}
			open = i
		}
	}
	if open < 0 {
		return -1, true
	}
	t := inc.terms[open]
	s.assign(t.inverse(), false, inc)
	return t.slot, false
}

// resolveConflict learns from an incompatibility the partial solution
// satisfies: it resolves it with the causes of its most recent satisfiers
// until it is a learned fact to backjump to, or the root of a failure.
func (s *solver) resolveConflict(inc *incompat) (*incompat, bool) {
	isNew := false
	for !s.isFailure(inc) {
		var recentTerm term
		var recent assignment
		haveRecent := false
		var diff term
		haveDiff := false
		prevLevel := 1
		for _, t := range inc.terms {
			sat := s.satisfier(t)
			if !haveRecent || recent.index < sat.index {
				if haveRecent {
					prevLevel = max(prevLevel, recent.level)
				}
				recentTerm, recent, haveRecent = t, sat, true
				haveDiff = false
				if !satisfies(sat.term, t) {
					d := difference(sat.term, t)
					if !d.empty() {
						diff, haveDiff = d, true
						prevLevel = max(prevLevel, s.satisfier(d.inverse()).level)
					}
				}
			} else {
				prevLevel = max(prevLevel, sat.level)
			}
		}
		if prevLevel < recent.level || recent.cause == nil {
			s.backtrack(prevLevel)
			if isNew {
				s.addIncompat(inc)
			}
			return inc, false
		}
		var terms []term
		for _, t := range inc.terms {
			if t.slot != recentTerm.slot {
				terms = append(terms, t)
			}
		}
		for _, t := range recent.cause.terms {
			if t.slot != recent.slot {
				terms = append(terms, t)
			}
		}
		if haveDiff {
			terms = append(terms, diff.inverse())
		}
		inc = s.newIncompat(terms, causeDerived, inc, recent.cause)
		isNew = true
	}
	return inc, true
}

// choose decides the next slot: the kept ones first, then what the
// request names, then the rest; among those, the one with the fewest
// options left. It returns done when every slot that must be installed
// is decided.
func (s *solver) choose() (int, bool) {
	best := -1
	bestCount := 0
	for si, sl := range s.slots {
		if s.decided[si] >= 0 || !s.hasAcc[si] || !s.acc[si].pos {
			continue
		}
		if best >= 0 && sl.class > s.slots[best].class {
			continue
		}
		n := s.acc[si].set.count()
		if best >= 0 {
			b := s.slots[best]
			if c := cmp.Or(cmp.Compare(sl.class, b.class), cmp.Compare(n, bestCount), cmp.Compare(sl.name, b.name)); c >= 0 {
				continue
			}
		}
		best, bestCount = si, n
	}
	if best < 0 {
		return -1, true
	}
	si := best
	sl := s.slots[si]
	if sl.kind == kindPackage && !sl.unavailAdded {
		sl.unavailAdded = true
		if s.addUnavailable(si) {
			return si, false
		}
	}
	acc := s.acc[si]
	oi := -1
	for _, i := range sl.prefer {
		if acc.set.has(i) {
			oi = i
			break
		}
	}
	if oi < 0 {
		t := term{slot: si, pos: true, set: acc.set, label: s.accLabel(si)}
		s.addIncompat(s.newIncompat([]term{t}, causeNoVersions, nil, nil))
		return si, false
	}
	conflict := false
	for _, inc := range s.depsOf(si, oi) {
		if !inc.added {
			s.addIncompat(inc)
		}
		all := true
		for _, t := range inc.terms {
			if t.slot != si && s.relation(t) != satisfied {
				all = false
				break
			}
		}
		conflict = conflict || all
	}
	if !conflict {
		s.decide(si, oi)
	}
	return si, false
}

// accLabel names the constraints behind a slot's positive assignments,
// for "no version matches" messages.
func (s *solver) accLabel(si int) string {
	var labels []string
	for _, ai := range s.perSlot[si] {
		t := s.assigns[ai].term
		if t.pos && t.label != "" && !slices.Contains(labels, t.label) {
			labels = append(labels, t.label)
		}
	}
	return strings.Join(labels, ", ")
}

// addUnavailable rules out the candidates that cannot be installed here
// (platform, or the caller's reason), one incompatibility per reason. It
// reports whether it added any.
func (s *solver) addUnavailable(si int) bool {
	sl := s.slots[si]
	byReason := map[string]vset{}
	var reasons []string
	for i := 0; i < sl.nreal; i++ {
		why := s.unavailable(sl.opts[i])
		if why == "" {
			continue
		}
		if _, ok := byReason[why]; !ok {
			byReason[why] = emptySet(len(sl.opts))
			reasons = append(reasons, why)
		}
		byReason[why].add(i)
	}
	for _, why := range reasons {
		inc := s.newIncompat([]term{{slot: si, pos: true, set: byReason[why]}}, causeUnavailable, nil, nil)
		inc.note = why
		s.addIncompat(inc)
	}
	return len(reasons) > 0
}

// unavailable says why a candidate cannot be installed here ("" if it
// can). The installed version is what it is: never ruled out.
func (s *solver) unavailable(o option) string {
	if o.installed || o.pkg == nil {
		return ""
	}
	if o.pkg.Unavailable != "" {
		return o.pkg.Unavailable
	}
	if !o.pkg.Platform.Allows(s.sys.Platform) {
		return fmt.Sprintf("runs only on %s (this is %s)", o.pkg.Platform, s.sys.Platform)
	}
	return ""
}
